#!/usr/bin/env bash
# Create .venv in the repo root with the system Python (>= 3.11) and install Dockyard into it, editable, with the
# dev tools. Re-installs only when pyproject.toml is newer than the last successful install.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

venv=.venv
stamp=$venv/.dockyard-installed
log=$venv/pip-install.log

say() { echo "-----> $*"; }
die() {
  echo "!!     $*" >&2
  exit 1
}
find_python() {
  local c
  for c in ${PYTHON:-} python3 python3.13 python3.12 python3.11; do
    command -v "$c" >/dev/null || continue
    # ensurepip is what Debian splits out into python3-venv; without it `-m venv` fails half-way.
    "$c" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && {
      echo "$c"
      return
    }
  done
  return 1
}

# A venv whose interpreter is gone (Python upgraded or removed) is rebuilt rather than patched.
if ! "$venv/bin/python" -c '' 2>/dev/null; then
  py=$(find_python) || die "need Python >= 3.11 with venv support (apt-get install python3 python3-venv)"
  say "Creating .venv with $("$py" --version)"
  rm -rf "$venv"
  "$py" -m venv "$venv"
fi

if [[ ! -f $stamp || pyproject.toml -nt $stamp ]]; then
  say "Installing Dockyard into .venv (pip install -e '.[dev]')"
  # pip's own CA list does not trust a TLS-intercepting proxy; the system store does (users may override).
  if [[ -z ${PIP_CERT:-} && -f /etc/ssl/certs/ca-certificates.crt ]]; then
    export PIP_CERT=/etc/ssl/certs/ca-certificates.crt
  fi
  "$venv/bin/python" -m pip install -q -e '.[dev]' >"$log" 2>&1 ||
    die "pip install failed (last lines of $log:)
$(tail -n 30 "$log")"
  touch "$stamp"
else
  say ".venv up to date"
fi
