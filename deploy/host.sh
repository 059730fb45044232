#!/usr/bin/env bash
# Host mode, for development: provision the host, install Dockyard into .venv, and run `dockyard server` in the
# foreground (API, build worker, beat and Caddy as processes of this host). Ctrl-C stops them; apps keep running.
# Arguments are passed to `dockyard server`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

deploy/provision.sh
deploy/venv.sh

# Builds then trust the host's CAs, which hosts behind TLS-intercepting proxies need. Set it empty to opt out.
if [[ -z ${DOCKYARD_BUILD_CA_BUNDLE+set} && -f /etc/ssl/certs/ca-certificates.crt ]]; then
  export DOCKYARD_BUILD_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
fi

echo "-----> Starting dockyard server"
exec .venv/bin/dockyard server "$@"
