#!/usr/bin/env bash
# Run like the official image: options alone mean `postgres`. As root, give the data directory to the postgres
# user and run as that user. On an empty data directory, first create the cluster: superuser POSTGRES_USER
# (default postgres) with POSTGRES_PASSWORD, the database POSTGRES_DB (default: the user's name), password
# logins from any address; the local socket trusts its users, as in the official image.
# (The official image's *_FILE variables and /docker-entrypoint-initdb.d scripts are left out.)
set -Eeuo pipefail

case "${1:-}" in
  -*) set -- postgres "$@" ;;
esac
if [[ ${1:-} != postgres ]]; then
  exec "$@"
fi

if [[ $(id -u) == 0 ]]; then
  mkdir -p "$PGDATA"
  find "$PGDATA" ! -user postgres -exec chown postgres:postgres {} +
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups env HOME=/var/lib/postgresql "$0" "$@"
fi

if [[ ! -s $PGDATA/PG_VERSION ]]; then
  user=${POSTGRES_USER:-postgres}
  database=${POSTGRES_DB:-$user}
  if [[ -z ${POSTGRES_PASSWORD:-} ]]; then
    echo "error: the database is not initialised and POSTGRES_PASSWORD is empty: set it (the superuser's password)" >&2
    exit 1
  fi
  initdb --username="$user" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD")
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  # On the socket only, so that nothing connects over the network before the database exists.
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start
  if [[ $database != postgres ]]; then
    psql -v ON_ERROR_STOP=1 --username="$user" --no-password --dbname=postgres --set=db="$database" \
      <<<'CREATE DATABASE :"db";'
  fi
  pg_ctl -D "$PGDATA" -m fast -w stop
  echo "PostgreSQL init process complete; ready for start up."
fi
exec "$@"
