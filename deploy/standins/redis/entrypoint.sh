#!/bin/sh
# Run like the official image: options alone mean redis-server, and protected mode is off (the official
# redis-server is built that way: the container's network is the boundary). Debian's keeps it on, so it is
# turned off first, where a later `--protected-mode yes` still wins; a config file, which must come first,
# decides for itself.
set -e
case "$1" in
  -*) set -- redis-server "$@" ;;
esac
if [ "$1" = redis-server ]; then
  shift
  case "${1:-}" in
    -v | --version | -h | --help | --test-memory | --check-system | /* | *.conf) ;;
    *) set -- --protected-mode no "$@" ;;
  esac
  set -- redis-server "$@"
fi
exec "$@"
