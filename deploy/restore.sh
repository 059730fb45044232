#!/usr/bin/env bash
# Restore the platform state that deploy/backup.sh archived, into the running container install (bring it up
# first with deploy/up.sh, on this host or a new one). The services stop, their volumes are emptied and
# refilled, and they start again.
# On a new host apps' release images are not there yet: deploy each app again (its image is rebuilt from its
# repository; env, settings, volumes' definitions and history come from the backup).
#
# Usage: deploy/restore.sh FILE
set -euo pipefail
file=$(realpath "${1:?usage: $0 FILE (an archive deploy/backup.sh made)}")
[[ -f $file ]] || {
  echo "!!     no such backup: $file" >&2
  exit 2
}
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source deploy/compose-lib.sh

api=$(container_of api)
caddy=$(container_of caddy)
image=$(docker inspect -f '{{.Config.Image}}' "$api")

say "Stopping api, worker, beat and caddy (running apps stay, unreachable until caddy is back)"
compose stop api worker beat caddy
trap 'say "Starting the services"; compose start caddy api worker beat' EXIT

say "Restoring $file"
docker run --rm --volumes-from "$api" --volumes-from "$caddy" -v "$(dirname "$file"):/backup:ro" \
  --entrypoint sh "$image" -c '
    set -e
    for dir in /var/lib/dockyard /data /config; do find "$dir" -mindepth 1 -delete; done
    tar -xzf "/backup/$1" -C /
  ' restore "$(basename "$file")"
say "Restored; apps' routes come back with the first reconcile pass"
