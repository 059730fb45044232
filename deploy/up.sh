#!/usr/bin/env bash
# Bring the platform up on a fresh Debian/Ubuntu host as containers (docker-compose.yml): provision the host
# (Docker, Compose, and stand-in images where Docker Hub is out of reach), build the Dockyard image, start every
# service in the background, and wait until the API answers. Run it again to upgrade after `git pull`.
# Arguments are passed to `compose up -d`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source deploy/compose-lib.sh

deploy/provision.sh --containers

# .env keeps what every later `docker compose …` here must see: the project name (so the volumes are
# dockyard_data and so on, whatever this directory is called) and the CA bundle builds trust.
touch .env
if ! grep -q '^COMPOSE_PROJECT_NAME=' .env; then
  echo "COMPOSE_PROJECT_NAME=${COMPOSE_PROJECT_NAME:-dockyard}" >>.env
fi
if ! grep -q '^DOCKYARD_BUILD_CA_BUNDLE=' .env && [[ -z ${DOCKYARD_BUILD_CA_BUNDLE+set} ]] &&
  [[ -f /etc/ssl/certs/ca-certificates.crt ]]; then
  # Hosts behind a TLS-intercepting proxy need it; elsewhere it only repeats the public CAs. Set it empty to opt out.
  echo "DOCKYARD_BUILD_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt" >>.env
fi
bundle=${DOCKYARD_BUILD_CA_BUNDLE-$(sed -n 's/^DOCKYARD_BUILD_CA_BUNDLE=//p' .env | tail -n 1)}
if [[ -n $bundle ]]; then
  cp "$bundle" deploy/build-ca/host.crt # trusted while the Dockyard image is built, too
fi

say "Building the Dockyard image and starting the services"
compose up -d --build "$@"

api=$(compose port api 8000 | tail -n 1)
for _ in $(seq 1 120); do
  if curl -sf --noproxy '*' --max-time 2 -o /dev/null "http://$api/healthz"; then
    say "Dockyard is up: open http://$api/ in a browser (the first visit creates the administrator)"
    say "The API is under http://$api/api/v1 (docs at /docs); a token for scripts:"
    say "  docker compose exec api dockyard token create --name me"
    exit 0
  fi
  sleep 1
done
compose logs --tail=30 api >&2
die "the API did not answer on http://$api/ within 2 minutes (its log is above)"
