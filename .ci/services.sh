#!/usr/bin/env bash
# Install (from Debian packages) and start the services the integration tests need.
# Safe to run again: a service that is already up is left alone.  Any failure exits non-zero,
# so a missing service fails `make test` instead of letting tests skip.
set -euo pipefail

PG_PORT="${PG_PORT:-5432}"
REDIS_PORT="${REDIS_PORT:-6379}"
log() { printf '\033[1;32m[services]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[services]\033[0m %s\n' "$*" >&2; exit 1; }
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

wait_for() {  # wait_for "description" command...
  local what=$1; shift
  for _ in $(seq 1 60); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  echo "$what did not become ready in 30 s" >&2
  exit 1
}

start_postgres() {
  if ! pg_isready -q -h 127.0.0.1 -p "$PG_PORT" 2>/dev/null; then
    if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || ! command -v pg_ctlcluster >/dev/null; then
      apt_install postgresql
    fi
    local version
    version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$version main"; then
      log "creating PostgreSQL $version cluster"
      pg_createcluster "$version" main -p "$PG_PORT" >/dev/null
    fi
    log "starting PostgreSQL $version"
    pg_ctlcluster "$version" main start || true
  fi
  wait_for "PostgreSQL" pg_isready -q -h 127.0.0.1 -p "$PG_PORT"
  # A superuser role for the tests: they create and drop their own databases.
  local psql=(su postgres -c)
  if ! "${psql[@]}" "psql -p $PG_PORT -tAc \"SELECT 1 FROM pg_roles WHERE rolname='est'\"" | grep -q 1; then
    "${psql[@]}" "psql -p $PG_PORT -qc \"CREATE ROLE est LOGIN SUPERUSER PASSWORD 'est'\""
  fi
  if ! "${psql[@]}" "psql -p $PG_PORT -tAc \"SELECT 1 FROM pg_database WHERE datname='est_test'\"" | grep -q 1; then
    "${psql[@]}" "psql -p $PG_PORT -qc \"CREATE DATABASE est_test OWNER est\""
  fi
  log "PostgreSQL ready on 127.0.0.1:$PG_PORT (role est, database est_test)"
}

start_redis() {
  if ! redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; then
    command -v redis-server >/dev/null || apt_install redis-server redis-tools
    log "starting Redis"
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save "" \
      --appendonly no --logfile /tmp/est-redis.log
  fi
  wait_for "Redis" sh -c "redis-cli -p $REDIS_PORT ping | grep -q PONG"
  log "Redis ready on 127.0.0.1:$REDIS_PORT"
}

case "${1:-start}" in
  start) start_postgres; start_redis ;;
  postgres) start_postgres ;;
  redis) start_redis ;;
  *) echo "usage: $0 [start|postgres|redis]" >&2; exit 2 ;;
esac
