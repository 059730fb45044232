#!/bin/sh
# `dockyard` in the Dockyard image: the real command, run as the unprivileged `dockyard` user with the group of
# the mounted Docker socket (whatever its number on this host), so it drives the engine without being root —
# whether Compose starts it or someone runs `docker compose exec api dockyard …`.
set -e

# A CA bundle mounted here (docker-compose.yml mounts DOCKYARD_BUILD_CA_BUNDLE) is trusted by app builds.
if [ -s /etc/dockyard/build-ca.crt ] && [ -z "${DOCKYARD_BUILD_CA_BUNDLE:-}" ]; then
  export DOCKYARD_BUILD_CA_BUNDLE=/etc/dockyard/build-ca.crt
fi

set -- /opt/dockyard/bin/python -c 'from api.cli import app; app(prog_name="dockyard")' "$@"
if [ "$(id -u)" != 0 ]; then
  exec "$@"
fi
groups=dockyard
socket=${DOCKER_HOST:-unix:///var/run/docker.sock}
socket=${socket#unix://}
if [ -S "$socket" ]; then
  groups="$groups,$(stat -c %g "$socket")"
fi
# Files of a data volume restored from a backup, or written by hand, may belong to root.
if [ -d "$DOCKYARD_DATA_DIR" ]; then
  find "$DOCKYARD_DATA_DIR" ! -user dockyard -exec chown dockyard:dockyard {} +
fi
HOME=/home/dockyard exec setpriv --reuid=dockyard --regid=dockyard --groups="$groups" --inh-caps=-all -- "$@"
