#!/usr/bin/env bash
# Two instances of the example on one PostgreSQL database, with the
# default token cache: how long a logout on one takes to be refused by the
# other (issue 12, docs/design.md D7: within 1 s). 50 repetitions by default.
#
#   PG_URL=postgres://postgres@127.0.0.1:5432/postgres bash e2e/loadtest/feedlag.sh
#
# It creates a database of its own for the run and drops it afterwards.
set -euo pipefail
cd "$(dirname "$0")/../.." # the repository root: ./example is in the root module
. e2e/loadtest/lib.sh

PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
N=${N:-50}
A=127.0.0.1:${PORT_A:-8181}
B=127.0.0.1:${PORT_B:-8182}
SECRET=feedlag-secret-0123456789

tmp=$(mktemp -d)
db=feedlag_$$
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$PG_URL" -qAtc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/example" ./example
(cd e2e && go build -o "$tmp/feedlag" ./loadtest/feedlag)
psql "$PG_URL" -qAtc "CREATE DATABASE $db" >/dev/null
url="${PG_URL%/*}/$db"
"$tmp/example" -addr "$A" -db "$url" -project "none:load:$SECRET" >"$tmp/a.out" 2>"$tmp/a.err" &
pids+=($!)
await "$A"
"$tmp/example" -addr "$B" -db "$url" -project "none:load:$SECRET" >"$tmp/b.out" 2>"$tmp/b.err" &
pids+=($!)
await "$B"
"$tmp/feedlag" -a "http://$A" -b "http://$B" -client-id load -client-secret "$SECRET" -n "$N"
