#!/usr/bin/env bash
# Issue 16, "Done when" 2: two instances of the example on two nodes of a
# three-node MariaDB Galera cluster, and N repetitions (50 by default) of C
# concurrent exchanges of one code (20), half on each instance: every
# repetition must give exactly one 200 and C-1 401s, no 500 and no 503
# (coderace). The cluster is a fresh one of .ci/galera.sh, on ports from
# GALERA_PORT (default 23400, beside CI's 23300), stopped at the end.
#
#   bash e2e/loadtest/galera.sh            # from anywhere; as root, or a user who may run mariadbd
#   N=10 C=40 bash e2e/loadtest/galera.sh
#
# The instances connect with wsrep_sync_wait=1 (README, "Many database
# nodes"). Afterwards it prints how many errors each instance logged, and
# the most frequent.
set -euo pipefail
cd "$(dirname "$0")/../.." # the repository root: ./example is in the root module
. e2e/loadtest/lib.sh

N=${N:-50}
C=${C:-20}
export GALERA_PORT=${GALERA_PORT:-23400}
A=127.0.0.1:${PORT_A:-8281}
B=127.0.0.1:${PORT_B:-8282}
SECRET=coderace-secret-0123456789

tmp=$(mktemp -d)
chmod 0755 "$tmp" # the nodes run as user mysql and must reach $tmp/cluster
cluster=$tmp/cluster
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  bash .ci/galera.sh stop "$cluster" || true
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/example" ./example
(cd e2e && go build -o "$tmp/coderace" ./loadtest/coderace)
started=$SECONDS
bash .ci/galera.sh start "$cluster"
echo "== the cluster took $((SECONDS - started)) s to start"
db=ihoprauth_coderace_$$
mariadb --no-defaults -h 127.0.0.1 -P $((GALERA_PORT + 1)) -u ihoprauth_test -pihoprauth_test \
  -e "CREATE DATABASE $db CHARACTER SET utf8mb4"
url() { echo "mysql://ihoprauth_test:ihoprauth_test@127.0.0.1:$((GALERA_PORT + $1))/$db?wsrep_sync_wait=1"; }
"$tmp/example" -addr "$A" -db "$(url 1)" -project "none:load:$SECRET" >"$tmp/a.out" 2>"$tmp/a.err" &
pids+=($!)
await "$A"
"$tmp/example" -addr "$B" -db "$(url 2)" -project "none:load:$SECRET" >"$tmp/b.out" 2>"$tmp/b.err" &
pids+=($!)
await "$B"
echo "== A on node 1 (port $((GALERA_PORT + 1))), B on node 2 (port $((GALERA_PORT + 2))); $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== coderace -n $N -c $C"
status=0
"$tmp/coderace" -a "http://$A" -b "http://$B" -client-id load -client-secret "$SECRET" -n "$N" -c "$C" || status=1
for side in a b; do
  errors=$(grep -c 'level=ERROR' "$tmp/$side.err" || true)
  echo "== instance ${side^^} logged $errors errors; the most frequent (digits as #):"
  grep 'level=ERROR' "$tmp/$side.err" | sed -E 's/^.*level=ERROR //; s/[0-9]+/#/g' | cut -c1-200 |
    sort | uniq -c | sort -rn | head -5 || true
done
exit "$status"
