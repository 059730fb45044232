#!/usr/bin/env bash
# Build a local stand-in for the official debian:SUITE-slim image (debootstrap's minimal variant, with the same
# apt sources and the same "no docs in images" dpkg rule) and push it to the local registry that mirrors Docker
# Hub. The redis and caddy stand-ins are built on it.
#
# Usage: deploy/standin-debian.sh SUITE     e.g.  deploy/standin-debian.sh bookworm
# Noisy output goes to /var/log/dockyard-standin-debian-SUITE.log.
set -euo pipefail

suite=${1:?usage: $0 SUITE}
tag=debian:${suite}-slim
log=/var/log/dockyard-standin-debian-${suite}.log
# shellcheck source=deploy/standin-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/standin-lib.sh"

say "debootstrap $suite"
run debootstrap --variant=minbase "$suite" "$root" "$debian_mirror"

say "Shaping it like the official image"
# Security and point-release updates, as the official image has them.
cat >"$root/etc/apt/sources.list" <<SOURCES
deb $debian_mirror $suite main
deb $debian_mirror $suite-updates main
deb ${debian_mirror%/debian}/debian-security $suite-security main
SOURCES
# The official slim images leave documentation out of every package installed later.
cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
DPKG
# …and keep apt's caches and downloaded packages out of image layers.
cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
echo 'Acquire::Languages "none";' >"$root/etc/apt/apt.conf.d/docker-no-languages"
find "$root/usr/share/doc" -type f ! -name copyright -delete
rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/*
slim_root

import_root 'CMD ["bash"]'
push_image
