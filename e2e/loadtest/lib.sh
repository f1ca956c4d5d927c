# Shell functions shared by run.sh and burst.sh; source it after cd to the
# repository root.

# await ADDR waits up to 30 s for ADDR to accept connections.
await() {
  local host=${1%:*} port=${1##*:} i
  for i in $(seq 300); do
    if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  echo "$(basename "$0"): nothing listens on $1" >&2
  return 1
}
