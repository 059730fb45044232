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
tag=python:${version}-slim
log=/var/log/dockyard-standin-python-${version}.log
# shellcheck source=deploy/standin-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/standin-lib.sh"

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
# Debian's own CA bundle stays (as in the official images); the host's bundle, which trusts this host's proxy,
# is deliberately not added.
slim_root

import_root 'ENV LANG=C.UTF-8' \
  'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  'CMD ["python3"]'
push_image
