#!/usr/bin/env bash
# Generates a TypeScript client (@hey-api/openapi-ts, fetch client, zod)
# from the OpenAPI document that the example serves, checks that this
# document is openapi.json, type-checks flows.ts with tsc and runs it
# against the example. Needs Node and npm; versions are pinned in
# package-lock.json (@hey-api/openapi-ts 0.99.0 asks for Node 22 and runs
# on 20 with an engine warning).
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# The example as `go run ./example` runs it, built first so that the
# server's own process can be stopped.
(cd "$root" && go build -o "$work/example" ./example)
"$work/example" -addr 127.0.0.1:0 -db "$work/ihoprauth.db" -project none:ts-none:ts-secret \
  >"$work/stdout" 2>"$work/stderr" &
pid=$!
origin=
for _ in $(seq 100); do
  origin=$(sed -n 's/^ihoprauth example listening on //p' "$work/stdout")
  [ -n "$origin" ] && break
  if ! kill -0 "$pid" 2>/dev/null; then
    cat "$work/stderr" >&2
    exit 1
  fi
  sleep 0.1
done
if [ -z "$origin" ]; then
  echo "the example printed no address within 10s" >&2
  exit 1
fi

npm ci --no-audit --no-fund --loglevel=error

# The served document, which must be openapi.json (key order aside).
node -e '
const [url, out] = process.argv.slice(1);
fetch(url).then(async (r) => {
  if (!r.ok) throw new Error(`GET ${url}: ${r.status}`);
  require("fs").writeFileSync(out, await r.text());
}).catch((e) => { console.error(e.message); process.exit(1); });
' "$origin/api/v1/openapi.json" "$work/openapi.json"
node -e '
const fs = require("fs");
const canon = (v) => Array.isArray(v) ? v.map(canon)
  : v && typeof v === "object" ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon(v[k])])) : v;
const [served, file] = process.argv.slice(1).map((f) => JSON.stringify(canon(JSON.parse(fs.readFileSync(f, "utf8")))));
if (served !== file) { console.error("the served document differs from openapi.json"); process.exit(1); }
' "$work/openapi.json" "$root/openapi.json"

rm -rf gen build
OPENAPI_INPUT="$work/openapi.json" npx openapi-ts -f openapi-ts.config.js --silent
# tsc type-checks as --noEmit would, and writes build/ only when nothing failed.
npx tsc -p .
node build/flows.js "$origin" ts-none ts-secret
