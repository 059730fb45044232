# Shared by the container-install scripts (sourced, not run), from the repository root: `compose` runs Compose v2
# (`docker compose`) when installed, else Debian's v1 (`docker-compose`), on docker-compose.yml and .env there.

say() { echo "-----> $*"; }
die() {
  echo "!!     $*" >&2
  exit 1
}
compose() {
  if docker compose version >/dev/null 2>&1; then
    docker compose "$@"
  else
    docker-compose "$@"
  fi
}
# The id of SERVICE's container (running or stopped); fails when the stack has none.
container_of() {
  local id
  id=$(compose ps -q "$1" 2>/dev/null | head -n 1)
  [[ -n $id ]] || die "no $1 container: bring Dockyard up first (deploy/up.sh)"
  echo "$id"
}
