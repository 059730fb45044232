#!/usr/bin/env bash
# Build a local stand-in for the official python:X.Y-slim image from Debian packages and push it to the local
# registry that mirrors Docker Hub, so `docker pull python:X.Y-slim` and `FROM python:X.Y-slim` resolve on hosts
# that cannot reach Docker Hub. Tag it only with the Python the suite really ships (bookworm 3.11, trixie 3.13, sid 3.14).
#
# Usage: deploy/standin-python.sh SUITE VERSION     e.g.  deploy/standin-python.sh trixie 3.13
# Noisy output goes to /var/log/dockyard-standin-python-VERSION.log.
set -euo pipefail

suite=${1:?usage: $0 SUITE VERSION}
version=${2:?usage: $0 SUITE VERSION}
registry=${DOCKYARD_REGISTRY:-127.0.0.1:5000}
debian_mirror=${DOCKYARD_DEBIAN_MIRROR:-http://deb.debian.org/debian}
tag=python:${version}-slim
image=$registry/library/$tag
log=/var/log/dockyard-standin-python-${version}.log

say() { echo "-----> [$tag] $*"; }
fail() {
  echo "!!     [$tag] $1; last lines of $log:" >&2
  tail -n 25 "$log" >&2
  exit 1
}
# Keep the terminal quiet; the log keeps the detail.
run() { "$@" >>"$log" 2>&1 || fail "failed: $*"; }

[[ $(id -u) == 0 ]] || { echo "!!     $0 must run as root (debootstrap)" >&2; exit 1; }
: >"$log"

workdir=$(mktemp -d /var/tmp/dockyard-standin.XXXXXX)
root=$workdir/root
cleanup() {
  # Interrupted: stop debootstrap (which unmounts what it mounted) before removing the tree under it.
  local i
  pkill -TERM -P $$ 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    pgrep -P $$ >/dev/null || break
    sleep 0.2
  done
  # debootstrap mounts proc/sys (and may bind-mount /dev) inside the root; if it died half-way they are still
  # mounted, and rm -rf must never descend into the host's /dev or /sys.
  awk -v r="$root/" 'index($2, r) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
  rm -rf --one-file-system "$workdir"
}
trap cleanup EXIT

say "debootstrap $suite with python$version"
run debootstrap --variant=minbase \
  --include="python${version},python${version}-venv,python3-pip,ca-certificates" \
  "$suite" "$root" "$debian_mirror"

say "Shaping it like the official image"
# The official images have python, python3 and pip in /usr/local/bin; Dockerfiles and Procfiles rely on them.
ln -sf "/usr/bin/python${version}" "$root/usr/local/bin/python"
ln -sf "/usr/bin/python${version}" "$root/usr/local/bin/python3"
cat >"$root/usr/local/bin/pip" <<'EOF'
#!/bin/sh
exec python3 -m pip "$@"
EOF
chmod 755 "$root/usr/local/bin/pip"
# The official images let pip install into the system Python; Debian's PEP 668 marker would refuse it.
rm -f "$root"/usr/lib/python3*/EXTERNALLY-MANAGED
# Size, and nothing of this host: Docker provides resolv.conf and hostname at run time. Debian's own CA bundle
# stays (as in the official images); the host's bundle, which trusts this host's proxy, is deliberately not added.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*
rm -f "$root/etc/resolv.conf" "$root/etc/hostname"

say "Importing as $image"
{ tar -C "$root" --numeric-owner -c . 2>>"$log" | docker import \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["python3"]' \
    - "$image" >>"$log" 2>&1; } || fail "docker import failed"

say "Pushing to the local registry"
run docker push "$image"
# Also under the official name, so this engine does not need to pull it back through the mirror.
run docker tag "$image" "$tag"
say "Done in ${SECONDS}s"
