#!/usr/bin/env bash
# The soak run of issue 15 (BENCHMARKS.md, "Soak"): DURATION of mixed
# traffic (loadgen -scenario soak: signups, code exchanges, reads,
# refreshes, logouts, logins, a malformed body and a wrong client secret,
# from SOURCES loopback addresses) against the example on SQLite and, when
# PG_URL is set, on PostgreSQL, both at once on ports of their own. Every
# SAMPLE it records the example's RSS (VmRSS), open descriptors and
# goroutines (process_goroutines on its /metrics); at the end it checks:
# no request failed (loadgen fails any 5xx and any answer but the expected
# one), and after the first WARM minutes each of the three grows less than
# MAX_PCT% per 10 minutes (the slope of a least-squares line through the
# samples, against their mean, so that the garbage collector's saw-tooth
# does not count as growth).
#
#   bash e2e/loadtest/soak.sh                                   # 30 minutes on SQLite
#   PG_URL=postgres://postgres@127.0.0.1:5432/postgres bash e2e/loadtest/soak.sh
#   DURATION=6m WARM=2 bash e2e/loadtest/soak.sh                # a short try
set -euo pipefail
cd "$(dirname "$0")/../.."
. e2e/loadtest/lib.sh

DURATION=${DURATION:-30m}
SAMPLE=${SAMPLE:-60}   # seconds between samples
WARM=${WARM:-5}        # minutes left out of the growth check
MAX_PCT=${MAX_PCT:-5}  # most growth per 10 minutes, in percent
WORKERS=${WORKERS:-4}
PAUSE=${PAUSE:-1s}     # least time between two rounds of a worker
SOURCES=${SOURCES:-1000}
PG_URL=${PG_URL:-}
DBS=${DBS:-sqlite${PG_URL:+ postgres}}
SECRET=soak-secret-0123456789

tmp=$(mktemp -d)
pids=()
pg_dbs=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for d in "${pg_dbs[@]}"; do psql "$PG_URL" -qAtc "DROP DATABASE IF EXISTS $d" >/dev/null 2>&1 || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/example" ./example
(cd e2e && go build -o "$tmp/loadgen" ./loadtest/loadgen)

# soak DB PORT: one run; writes $tmp/DB.samples and $tmp/DB.loadgen.
soak() {
  local db=$1 addr=127.0.0.1:$2 spec
  case $db in
  sqlite) spec=$tmp/soak.db ;;
  postgres)
    local name=ihoprauth_soak_$$
    psql "$PG_URL" -qAtc "CREATE DATABASE $name" >/dev/null
    pg_dbs+=("$name")
    local base=${PG_URL%%\?*}
    spec=${base%/*}/$name${PG_URL#"$base"}
    ;;
  esac
  "$tmp/example" -addr "$addr" -db "$spec" -project "none:soak:$SECRET" >"$tmp/$db.out" 2>"$tmp/$db.err" &
  local pid=$!
  pids+=("$pid")
  await "$addr"
  "$tmp/loadgen" -base "http://$addr" -client-id soak -client-secret "$SECRET" -sources "$SOURCES" \
    -scenario soak -duration "$DURATION" -c "$WORKERS" -soak-pause "$PAUSE" -max 100000000 -pid "$pid" \
    >"$tmp/$db.loadgen" 2>&1 &
  local gen=$!
  local start=$SECONDS
  while kill -0 "$gen" 2>/dev/null; do
    local goroutines
    goroutines=$(curl -s "http://$addr/metrics" | awk '/^process_goroutines / {print $2}')
    echo "$(( (SECONDS - start) / 60 )) $(( SECONDS - start )) $(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status") $(ls "/proc/$pid/fd" | wc -l) ${goroutines:-0}" >>"$tmp/$db.samples"
    sleep "$SAMPLE"
  done
  wait "$gen" && echo ok >"$tmp/$db.status" || echo failed >"$tmp/$db.status"
  kill "$pid" 2>/dev/null || true
}

port=18100
for db in $DBS; do
  soak "$db" "$port" &
  port=$((port + 1))
done
wait

# growth FILE COLUMN: the least-squares slope through the samples after WARM
# minutes, as percent of their mean per 10 minutes.
growth() {
  awk -v c="$2" -v warm="$WARM" '$1 >= warm {n++; x=$2/60; y=$c; sx+=x; sy+=y; sxx+=x*x; sxy+=x*y}
    END {if (n < 3) {print "n/a"; exit} m=(n*sxy-sx*sy)/(n*sxx-sx*sx); printf "%+.2f", m*10*100/(sy/n)}' "$1"
}

failed=0
for db in $DBS; do
  echo "== $db: loadgen"
  grep -v '^$' "$tmp/$db.loadgen" || true
  echo "== $db: samples (minute, second, VmRSS kB, descriptors, goroutines)"
  cat "$tmp/$db.samples"
  [[ $(cat "$tmp/$db.status") == ok ]] || { echo "== $db: some requests failed"; failed=1; }
  for col in 3:VmRSS 4:descriptors 5:goroutines; do
    g=$(growth "$tmp/$db.samples" "${col%%:*}")
    verdict=pass
    if [[ $g == n/a ]] || awk -v g="$g" -v max="$MAX_PCT" 'BEGIN {exit !(g > max)}'; then verdict=FAIL; failed=1; fi
    echo "== $db: ${col#*:} after minute $WARM: $g% per 10 minutes (at most +$MAX_PCT%): $verdict"
  done
  errors=$(grep -c 'level=ERROR' "$tmp/$db.err" || true)
  echo "== $db: the example logged $errors errors"
done
exit "$failed"
