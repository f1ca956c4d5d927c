#!/usr/bin/env bash
# The load acceptance of issue 10 (BENCHMARKS.md, "Bursts"), over loopback
# only: BURST cheap requests at once from SOURCES loopback addresses against
# the example, on SQLite and, when PG_URL is set, on PostgreSQL. For each
# database it starts the built example on a fresh database, signs a user up
# (for the bearer token of the burst's GET /user), sends a warm-up burst of
# WARMUP requests (which opens the database pool and lets a collection free
# the signup's password hash, so the level before is that of a server in
# use rather than one just started), waits QUIET seconds, reads its open
# descriptors (/proc/PID/fd) and RSS (VmRSS) before the burst, runs
# `loadgen -scenario burst`, waits SETTLE seconds without touching the
# server, reads them again and checks them against the targets: no 500
# (loadgen fails any answer but the expected one or a 503 with
# Retry-After), descriptors back within +FD_SLACK, RSS within +RSS_PCT%.
#
#   bash e2e/loadtest/burst.sh                   # from the repository root; SQLite
#   PG_URL=postgres://postgres@127.0.0.1:5432/postgres bash e2e/loadtest/burst.sh
#   RUNS=3 DBS=postgres PG_URL=... bash e2e/loadtest/burst.sh
#   DBS="ceiling sqlite" bash e2e/loadtest/burst.sh   # the bare net/http server beside it
#
# DBS=ceiling runs the same burst against e2e/loadtest/ceiling, the bare
# net/http server that answers every request with a fixed body (401 for
# the refresh kind), in place of the example: what a Go server that does
# nothing else keeps of the same burst.
# PG_URL names a server and a database to connect to with psql: each run
# creates a database of its own there (ihoprauth_burst_...) and drops it at
# the end. DBS picks the databases (default: sqlite, and postgres when
# PG_URL is set). Nothing is forced in the server: no debug.FreeOSMemory,
# no GC; the runtime returns memory on its own schedule.
#
# The burst holds BURST client connections in loadgen and as many in the
# example at once, so both need more descriptors than the usual soft limit
# of 1024: the script raises `ulimit -n` (the soft limit, up to the hard
# one) to 2*BURST+1024 when it is lower, and fails when the hard limit does
# not allow it. (Go programs also raise their own soft limit to the hard
# one at start.)
set -euo pipefail
cd "$(dirname "$0")/../.." # the repository root: ./example is in the root module
. e2e/loadtest/lib.sh

BURST=${BURST:-4000}
SOURCES=${SOURCES:-1000}
BURST_KINDS=${BURST_KINDS:-user,bad-refresh}
SETTLE=${SETTLE:-30}   # seconds between the end of the burst and the second reading
WARMUP=${WARMUP:-200}  # requests of the warm-up burst; 0: none
QUIET=${QUIET:-5}      # seconds between the warm-up and the first reading
RUNS=${RUNS:-1}
FD_SLACK=${FD_SLACK:-50}
RSS_PCT=${RSS_PCT:-20}
PG_URL=${PG_URL:-}
DBS=${DBS:-sqlite${PG_URL:+ postgres}}
EXAMPLE_FLAGS=${EXAMPLE_FLAGS:-}
SECRET=load-secret-0123456789
ADDR=127.0.0.1:18090

need=$((2 * BURST + 1024))
if (($(ulimit -n) < need)); then
  ulimit -n "$need" || { echo "burst.sh: ulimit -n $need refused (hard limit $(ulimit -Hn))" >&2; exit 1; }
fi
case " $DBS " in *" postgres "*)
  [[ -n $PG_URL ]] || { echo "burst.sh: DBS has postgres but PG_URL is empty" >&2; exit 1; }
  command -v psql >/dev/null || { echo "burst.sh: psql is not installed" >&2; exit 1; }
esac

tmp=$(mktemp -d)
example_pid=
pg_db=
cleanup() {
  stop_example
  drop_pg
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/example" ./example
(cd e2e && go build -o "$tmp/loadgen" ./loadtest/loadgen && go build -o "$tmp/ceiling" ./loadtest/ceiling)

stop_example() {
  if [[ -n $example_pid ]]; then
    kill "$example_pid" 2>/dev/null || true
    wait "$example_pid" 2>/dev/null || true
    example_pid=
  fi
}

drop_pg() {
  if [[ -n $pg_db ]]; then
    psql "$PG_URL" -qAtc "DROP DATABASE IF EXISTS $pg_db" >/dev/null || true
    pg_db=
  fi
}

fds() { ls "/proc/$1/fd" | wc -l; }
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; } # KiB

loadgen() {
  "$tmp/loadgen" -base "http://$ADDR" -client-id load -client-secret "$SECRET" -sources "$SOURCES" "$@"
}

# run DB: one run on a fresh database of kind DB; returns 1 when a target is missed.
run() {
  local db=$1 spec
  case $db in
  ceiling) spec= ;;
  sqlite) spec=$tmp/burst-$RANDOM.db ;;
  postgres)
    pg_db=ihoprauth_burst_$$_$(date +%s)
    psql "$PG_URL" -qAtc "CREATE DATABASE $pg_db" >/dev/null || return 1
    local base=${PG_URL%%\?*}
    spec=${base%/*}/$pg_db${PG_URL#"$base"} # the same server and parameters, the new database
    ;;
  *) echo "burst.sh: unknown database $db" >&2; return 1 ;;
  esac
  local token=ceiling # the ceiling takes any bearer token
  if [[ $db == ceiling ]]; then
    "$tmp/ceiling" -addr "$ADDR" >"$tmp/example.out" 2>"$tmp/example.err" &
    example_pid=$!
    await "$ADDR" || return 1
  else
    # shellcheck disable=SC2086 # EXAMPLE_FLAGS is a list of flags
    "$tmp/example" -addr "$ADDR" -db "$spec" -project "none:load:$SECRET" $EXAMPLE_FLAGS \
      >"$tmp/example.out" 2>"$tmp/example.err" &
    example_pid=$!
    await "$ADDR" || return 1
    token=$(loadgen -scenario token) || return 1
  fi
  if ((WARMUP > 0)); then
    echo "== $db: warm-up: loadgen -scenario burst -burst $WARMUP -burst-kinds $BURST_KINDS -sources $SOURCES"
    loadgen -scenario burst -burst "$WARMUP" -burst-kinds "$BURST_KINDS" -token "$token" >/dev/null || return 1
  fi
  sleep "$QUIET"
  local fd0 rss0 fd1 rss1 peak_fd=0 status=0
  fd0=$(fds "$example_pid")
  rss0=$(rss "$example_pid")
  echo "== $db: example pid $example_pid, ulimit -n $(ulimit -n), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "== $db: before: $fd0 descriptors, VmRSS $rss0 kB"
  echo "== $db: loadgen -scenario burst -burst $BURST -burst-kinds $BURST_KINDS -sources $SOURCES -pid $example_pid"
  (
    while kill -0 "$example_pid" 2>/dev/null; do
      fds "$example_pid"
      sleep 0.5
    done
  ) >"$tmp/fd-samples" 2>/dev/null &
  local sampler=$!
  loadgen -scenario burst -burst "$BURST" -burst-kinds "$BURST_KINDS" -token "$token" -pid "$example_pid" || status=1
  local burst_end=$SECONDS
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  peak_fd=$(sort -n "$tmp/fd-samples" | tail -1)
  echo "== $db: during: at most ${peak_fd:-?} descriptors (sampled every 0.5 s), VmHWM $(awk '/^VmHWM:/ {print $2}' "/proc/$example_pid/status") kB"
  local trace=""
  while ((SECONDS - burst_end < SETTLE)); do
    sleep 5
    trace+=" +$((SECONDS - burst_end))s: $(fds "$example_pid") fds, $(rss "$example_pid") kB;"
  done
  fd1=$(fds "$example_pid")
  rss1=$(rss "$example_pid")
  echo "== $db: after the burst:$trace"
  echo "== $db: ${SETTLE} s after: $fd1 descriptors, VmRSS $rss1 kB"
  local fd_ok=pass rss_ok=pass
  ((fd1 <= fd0 + FD_SLACK)) || { fd_ok=FAIL; status=1; }
  ((rss1 * 100 <= rss0 * (100 + RSS_PCT))) || { rss_ok=FAIL; status=1; }
  echo "== $db: descriptors $fd0 → $fd1 ($((fd1 - fd0)) against +$FD_SLACK): $fd_ok"
  echo "== $db: VmRSS $rss0 → $rss1 kB ($(awk -v a="$rss0" -v b="$rss1" 'BEGIN {printf "%+.1f%%", (b - a) * 100 / a}') against +$RSS_PCT%): $rss_ok"
  local errors
  errors=$(grep -c 'level=ERROR' "$tmp/example.err" || true)
  echo "== $db: the example logged $errors errors; the most frequent (digits as #):"
  grep 'level=ERROR' "$tmp/example.err" | sed -E 's/^.*level=ERROR //; s/[0-9]+/#/g' | cut -c1-200 |
    sort | uniq -c | sort -rn | head -5 || true
  stop_example
  drop_pg
  if ((status == 0)); then echo "== $db: PASS"; else echo "== $db: FAIL"; fi
  return "$status"
}

failed=0
for i in $(seq "$RUNS"); do
  for db in $DBS; do
    echo "== run $i of $RUNS, $db"
    run "$db" || failed=1
  done
done
exit "$failed"
