#!/usr/bin/env bash
# Back up the container install's platform state into one archive: the data volume (SQLite database, the secret
# key that decrypts stored env values and webhook secrets, beat's schedule) and Caddy's data and config (its
# certificates and last routes). api, worker and beat stop for the few seconds this takes, so the copy is
# consistent; apps and Caddy keep serving. With PostgreSQL (DOCKYARD_DATABASE_URL), pg_dump the database too.
# Apps' own volumes are their data: back them up as the apps require.
#
# Usage: deploy/backup.sh [FILE]     default: dockyard-backup-YYYYmmdd-HHMMSS.tar.gz in the current directory
set -euo pipefail
file=$(realpath -m "${1:-dockyard-backup-$(date +%Y%m%d-%H%M%S).tar.gz}")
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source deploy/compose-lib.sh

api=$(container_of api)
caddy=$(container_of caddy)
image=$(docker inspect -f '{{.Config.Image}}' "$api")

say "Stopping api, worker and beat (apps keep serving)"
compose stop api worker beat
trap 'say "Starting api, worker and beat"; compose start api worker beat' EXIT

say "Archiving the platform's state into $file"
mkdir -p "$(dirname "$file")"
docker run --rm --volumes-from "$api" --volumes-from "$caddy" -v "$(dirname "$file"):/backup" \
  --entrypoint tar "$image" -czf "/backup/$(basename "$file")" -C / var/lib/dockyard data config
chmod 600 "$file" # it holds the secret key
say "Backed up ($(du -h "$file" | cut -f1)); keep it somewhere safe: it holds the secret key"
