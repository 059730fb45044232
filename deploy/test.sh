#!/usr/bin/env bash
# Everything CI checks: provision the host (with the browser the web UI tests drive), install Dockyard, lint,
# type-check, check import layers, run the tests.
# Arguments are passed to pytest. Stops at the first failing step.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

deploy/provision.sh --tests
deploy/venv.sh

# The database provision.sh creates, and the host's CAs for builds (this kind of machine sits behind a
# TLS-intercepting proxy; the stand-in base images deliberately do not trust it).
export DOCKYARD_TEST_POSTGRES_URL=${DOCKYARD_TEST_POSTGRES_URL:-postgresql+psycopg://dockyard_test:dockyard_test@127.0.0.1:5432/dockyard_test}
export DOCKYARD_BUILD_CA_BUNDLE=${DOCKYARD_BUILD_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

step() {
  local name=$1 rc=0
  shift
  echo "-----> $name"
  "$@" || rc=$?
  if ((rc != 0)); then
    echo "!!     $name failed (exit $rc)" >&2
    exit "$rc"
  fi
}
step "ruff check" .venv/bin/ruff check .
step "ruff format --check" .venv/bin/ruff format --check .
step "mypy" .venv/bin/mypy
step "lint-imports" .venv/bin/lint-imports
step "pytest" .venv/bin/pytest "$@"
