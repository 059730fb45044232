# Shared by the stand-in image scripts (sourced, not run): quiet logging, a debootstrap root that is cleaned up
# however the script ends, and pushing an image to the local registry that mirrors Docker Hub.
# The sourcing script sets `tag` (the official name, e.g. python:3.13-slim) and `log` first.

registry=${DOCKYARD_REGISTRY:-127.0.0.1:5000}
debian_mirror=${DOCKYARD_DEBIAN_MIRROR:-http://deb.debian.org/debian}
image=$registry/library/$tag

say() { echo "-----> [$tag] $*"; }
fail() {
  echo "!!     [$tag] $1; last lines of $log:" >&2
  tail -n 25 "$log" >&2
  exit 1
}
# Keep the terminal quiet; the log keeps the detail.
run() { "$@" >>"$log" 2>&1 || fail "failed: $*"; }

[[ $(id -u) == 0 ]] || {
  echo "!!     $0 must run as root (debootstrap, docker)" >&2
  exit 1
}
: >"$log"

# A scratch directory (and `root` inside it for debootstrap), removed when the script exits.
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

# Drop what no container needs and nothing of this host: Docker provides resolv.conf and hostname at run time.
slim_root() {
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*
  rm -f "$root/etc/resolv.conf" "$root/etc/hostname"
}

# import_root CHANGE... : turn `root` into `image` (each argument a Dockerfile instruction, like ENV).
import_root() {
  local changes=() change
  for change in "$@"; do changes+=(--change "$change"); done
  say "Importing as $image"
  { tar -C "$root" --numeric-owner -c . 2>>"$log" | docker import "${changes[@]}" - "$image" >>"$log" 2>&1; } ||
    fail "docker import failed"
}

# Push `image` to the local registry, and tag it under the official name too, so this engine does not need to
# pull it back through the mirror.
push_image() {
  say "Pushing to the local registry"
  run docker push "$image"
  run docker tag "$image" "$tag"
  say "Done in ${SECONDS}s"
}
