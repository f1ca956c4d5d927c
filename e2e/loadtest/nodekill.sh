#!/usr/bin/env bash
# Issue 16 item 4: a database node dies under a mixed load (nodekill).
#
#   bash e2e/loadtest/nodekill.sh galera     # as root, or a user who may run mariadbd
#   bash e2e/loadtest/nodekill.sh pgreplica  # as root, or a user who may run PostgreSQL's initdb
#
# galera: a fresh three-node cluster of .ci/galera.sh (ports from
# GALERA_PORT, default 23500, beside CI's 23300 and galera.sh's 23400),
# one instance of the example on each node (wsrep_sync_wait=1); node 2 is
# killed with SIGKILL and started again, rejoining by IST or SST, while
# the instance on it keeps running.
#
# pgreplica: a primary and a streaming replica of .ci/pgreplica.sh (ports
# from PGREPLICA_PORT, default 55442), two instances on the primary that
# read the replica (-replica); the replica is stopped at once (pg_ctl -m
# immediate) and started again.
#
# BEFORE, DOWN (default 15s each) and WORKERS (6) shape the run; nodekill
# prints the answers by phase and status and what it verified afterwards.
set -euo pipefail
cd "$(dirname "$0")/../.." # the repository root: ./example is in the root module
. e2e/loadtest/lib.sh

mode=${1:-galera}
SECRET=nodekill-secret-0123456789
tmp=$(mktemp -d)
chmod 0755 "$tmp" # the database servers run as mysql or postgres and must reach their directories
pids=()
stop_cluster=:
# stop_instances stops the instances (SIGTERM: they close their Stores).
stop_instances() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pids=()
}
cleanup() {
  stop_instances
  $stop_cluster || true
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/example" ./example
(cd e2e && go build -o "$tmp/nodekill" ./loadtest/nodekill)

# instance N ARGS... starts the example on port 8290+N with ARGS.
instance() {
  local n=$1
  shift
  "$tmp/example" -addr "127.0.0.1:$((8290 + n))" -project "none:load:$SECRET" "$@" >"$tmp/i$n.out" 2>"$tmp/i$n.err" &
  pids+=($!)
  await "127.0.0.1:$((8290 + n))"
}

case $mode in
galera)
  export GALERA_PORT=${GALERA_PORT:-23500}
  cluster=$tmp/cluster
  stop_cluster="bash .ci/galera.sh stop $cluster"
  bash .ci/galera.sh start "$cluster"
  db=ihoprauth_nodekill_$$
  mariadb --no-defaults -h 127.0.0.1 -P $((GALERA_PORT + 1)) -u ihoprauth_test -pihoprauth_test \
    -e "CREATE DATABASE $db CHARACTER SET utf8mb4"
  for n in 1 2 3; do
    instance "$n" -db "mysql://ihoprauth_test:ihoprauth_test@127.0.0.1:$((GALERA_PORT + n))/$db?wsrep_sync_wait=1"
  done
  kill="kill -9 \$(cat $cluster/node2/pid)"
  restart="bash .ci/galera.sh restart $cluster 2 >$tmp/restart.log 2>&1"
  victim=1
  echo "== instances 0, 1, 2 on Galera nodes 1, 2, 3; node 2 is killed; $(nproc) cores"
  ;;
pgreplica)
  export PGREPLICA_PORT=${PGREPLICA_PORT:-55442}
  pair=$tmp/pair
  stop_cluster="bash .ci/pgreplica.sh stop $pair"
  bash .ci/pgreplica.sh start "$pair"
  IFS=, read -r primary replica <"$pair/dsns"
  for n in 1 2; do
    instance "$n" -db "$primary" -replica "$replica"
  done
  kill="bash .ci/pgreplica.sh kill-replica $pair"
  restart="bash .ci/pgreplica.sh restart-replica $pair >$tmp/restart.log 2>&1"
  victim=-1
  echo "== instances 0 and 1 on the primary, reading the replica; the replica is stopped; $(nproc) cores"
  ;;
*)
  echo "usage: $0 galera|pgreplica" >&2
  exit 2
  ;;
esac

urls=$(for n in $(seq "${#pids[@]}"); do printf 'http://127.0.0.1:%d,' $((8290 + n)); done)
status=0
"$tmp/nodekill" -instances "${urls%,}" -victim "$victim" -client-id load -client-secret "$SECRET" \
  -kill "$kill" -restart "$restart" -workers "${WORKERS:-6}" -before "${BEFORE:-15s}" -down "${DOWN:-15s}" || status=1
count=${#pids[@]}
stop_instances
for n in $(seq "$count"); do
  grep -h 'reads that a -replica could serve' "$tmp/i$n.err" | sed "s/^/== instance $((n - 1)): /" || true
done
for n in $(seq "$count"); do
  errors=$(grep -c 'level=ERROR' "$tmp/i$n.err" || true)
  echo "== instance $((n - 1)) logged $errors errors; the most frequent (digits as #):"
  grep 'level=ERROR' "$tmp/i$n.err" | sed -E 's/^.*level=ERROR //; s/[0-9]+/#/g' | cut -c1-240 |
    sort | uniq -c | sort -rn | head -5 || true
done
exit "$status"
