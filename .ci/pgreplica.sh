#!/usr/bin/env bash
# A PostgreSQL primary and one streaming replica on loopback, for the tests
# and load runs of issue 16 (store.Config.Replicas):
#
#   bash .ci/pgreplica.sh start DIR   # blocks until the replica streams; prints the DSNs
#   bash .ci/pgreplica.sh stop DIR
#   bash .ci/pgreplica.sh kill-replica DIR     # stops the replica at once (pg_ctl -m immediate)
#   bash .ci/pgreplica.sh restart-replica DIR  # starts it again; blocks until it streams
#
# Both are clusters of their own under DIR (DIR/primary, DIR/replica),
# made with initdb -A trust and pg_basebackup -R -X stream from the newest
# PostgreSQL under /usr/lib/postgresql, on ports PGREPLICA_PORT (default
# 55432, the primary) and PGREPLICA_PORT+1 (the replica), so the machine's
# own PostgreSQL (5432) is left as it is. The superuser is ihoprauth_test
# (trust on loopback only): the tests pause and resume the replica's replay
# with it. DIR/dsns holds the primary's and then the replica's pgx URL,
# comma-separated, for IHOPRAUTH_TEST_PGREPLICA. Run as root, the servers
# run as user postgres.
set -euo pipefail

base=${PGREPLICA_PORT:-55432}
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

usage() {
  echo "usage: $0 start|stop|kill-replica|restart-replica DIR" >&2
  exit 2
}
[ $# -eq 2 ] || usage
cmd=$1
dir=$2

# as CMD... runs CMD as user postgres when run as root.
as() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

dsn() { echo "postgres://ihoprauth_test@127.0.0.1:$1/ihoprauth_test?sslmode=disable"; }

start() {
  install -d -m 0700 "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
  as "$bin/initdb" -A trust -U ihoprauth_test -D "$dir/primary" >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; return 1; }
  cat >>"$dir/primary/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $base
unix_socket_directories = '$dir'
wal_level = replica
max_wal_senders = 4
fsync = off
full_page_writes = off
synchronous_commit = on
max_connections = 200
shared_buffers = 64MB
hot_standby_feedback = on
CONF
  echo "host replication all 127.0.0.1/32 trust" >>"$dir/primary/pg_hba.conf"
  as "$bin/pg_ctl" -D "$dir/primary" -l "$dir/primary.log" -w -t 60 start >/dev/null ||
    { echo "pgreplica.sh: the primary did not start; the end of its log:" >&2; tail -n 30 "$dir/primary.log" >&2; return 1; }
  as "$bin/psql" -h 127.0.0.1 -p "$base" -U ihoprauth_test -d postgres -q -c "CREATE DATABASE ihoprauth_test"
  as "$bin/pg_basebackup" -h 127.0.0.1 -p "$base" -U ihoprauth_test -D "$dir/replica" -R -X stream -c fast
  cat >>"$dir/replica/postgresql.conf" <<CONF
port = $((base + 1))
hot_standby = on
CONF
  start_replica
}

# start_replica starts the replica and waits until it streams.
start_replica() {
  as "$bin/pg_ctl" -D "$dir/replica" -l "$dir/replica.log" -w -t 60 start >/dev/null ||
    { echo "pgreplica.sh: the replica did not start; the end of its log:" >&2; tail -n 30 "$dir/replica.log" >&2; return 1; }
  local i
  for i in $(seq 120); do
    if [ "$(as "$bin/psql" -h 127.0.0.1 -p "$base" -U ihoprauth_test -d postgres -At \
      -c "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")" = 1 ]; then
      echo "$(dsn "$base"),$(dsn $((base + 1)))" >"$dir/dsns"
      echo "pgreplica.sh: primary on 127.0.0.1:$base, streaming replica on 127.0.0.1:$((base + 1)); DSNs in $dir/dsns"
      return 0
    fi
    sleep 0.25
  done
  echo "pgreplica.sh: the replica is not streaming after 30s; the end of its log:" >&2
  tail -n 30 "$dir/replica.log" >&2
  return 1
}

stop() {
  local node
  for node in replica primary; do
    [ -f "$dir/$node/postmaster.pid" ] || continue
    as "$bin/pg_ctl" -D "$dir/$node" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  done
}

case $cmd in
start) start ;;
stop) stop ;;
kill-replica) as "$bin/pg_ctl" -D "$dir/replica" -m immediate -w -t 30 stop >/dev/null ;;
restart-replica) start_replica ;;
*) usage ;;
esac
