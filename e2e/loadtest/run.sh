#!/usr/bin/env bash
# Load runs of BENCHMARKS.md, over loopback only: wrk against GET
# /api/v1/user of the example and against the bare ceiling server, then
# loadgen's multi-step flows and the login storm against the example.
#
#   bash e2e/loadtest/run.sh                      # from the repository root
#   EXAMPLE_FLAGS='-token-cache 0' bash e2e/loadtest/run.sh     # the token cache off
#   SCENARIOS= WRK_ARGS='-t2 -c32 --latency' bash e2e/loadtest/run.sh  # wrk only, with p99
#
# Needs wrk (Debian package wrk). Every run is bounded: wrk runs
# WRK_DURATION per target, each loadgen scenario at most LOAD_DURATION.
# It starts the two servers on 127.0.0.1 ports 18080 and 18081, on a fresh
# SQLite file in a temporary directory, and stops them when it ends.
# loadgen sends from 1,000 loopback addresses (-sources, 127.1.0.1 onwards)
# so that the per-address caps do not fire; wrk's GET /user takes no slot
# of them. The burst of issue 10 has a script of its own, burst.sh.
set -euo pipefail
cd "$(dirname "$0")/../.." # the repository root: ./example is in the root module
. e2e/loadtest/lib.sh

WRK_ARGS=${WRK_ARGS:--t1 -c32}
WRK_DURATION=${WRK_DURATION:-10s}
LOAD_DURATION=${LOAD_DURATION:-10s}
LOAD_ARGS=${LOAD_ARGS:-}
SCENARIOS=${SCENARIOS-flow,login,refresh,storm} # empty: wrk only
EXAMPLE_FLAGS=${EXAMPLE_FLAGS:-}
SECRET=load-secret-0123456789
EXAMPLE=127.0.0.1:18080
CEILING=127.0.0.1:18081

command -v wrk >/dev/null || { echo "run.sh: wrk is not installed (apt-get install -y wrk)" >&2; exit 1; }
tmp=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/example" ./example
(cd e2e && go build -o "$tmp/ceiling" ./loadtest/ceiling && go build -o "$tmp/loadgen" ./loadtest/loadgen)

# shellcheck disable=SC2086 # EXAMPLE_FLAGS is a list of flags
"$tmp/example" -addr "$EXAMPLE" -db "$tmp/load.db" -project "none:load:$SECRET" $EXAMPLE_FLAGS \
  >"$tmp/example.out" 2>"$tmp/example.err" &
example_pid=$!
pids+=("$example_pid")
"$tmp/ceiling" -addr "$CEILING" &
pids+=("$!")
await "$EXAMPLE"
await "$CEILING"

loadgen() {
  # shellcheck disable=SC2086 # LOAD_ARGS is a list of flags
  "$tmp/loadgen" -base "http://$EXAMPLE" -client-id load -client-secret "$SECRET" $LOAD_ARGS "$@"
}

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/ {print $2}') GiB"
echo "== example flags: ${EXAMPLE_FLAGS:-(none)}"
TOKEN=$(loadgen -scenario token)
export TOKEN
for target in "example http://$EXAMPLE/api/v1/user" "ceiling http://$CEILING/api/v1/user"; do
  set -- $target
  echo "== wrk $WRK_ARGS -d$WRK_DURATION -s e2e/loadtest/user.lua ($1)"
  # shellcheck disable=SC2086 # WRK_ARGS is a list of flags
  wrk $WRK_ARGS -d"$WRK_DURATION" -s e2e/loadtest/user.lua "$2"
done

if [[ -z $SCENARIOS ]]; then
  exit 0
fi
echo "== loadgen"
echo "| scenario                   | requests |     req/s |       p50 |       p99 | errors |   peak RSS | notes"
loadgen -pid "$example_pid" -duration "$LOAD_DURATION" -scenario "$SCENARIOS"
echo "== example peak RSS since start: $(grep VmHWM "/proc/$example_pid/status" | awk '{print $2, $3}')"
