#!/usr/bin/env bash
# A three-node MariaDB Galera cluster on loopback, for the tests and load
# runs of issue 16, from Debian's galera-4 and mariadb-server:
#
#   bash .ci/galera.sh start DIR   # blocks until 3 nodes are Synced; prints the DSNs
#   bash .ci/galera.sh stop DIR
#   bash .ci/galera.sh restart DIR N  # starts node N again after it died; blocks until Synced
#
# Each node has its data directory, socket, pid file, log and option file
# under DIR/nodeN, and ports of its own from GALERA_PORT (default 23300):
# SQL on GALERA_PORT+N, group communication on +10+N, IST on +20+N and
# rsync SST on +30+N, all on 127.0.0.1, so the machine's own MariaDB (3306)
# is left as it is. Node 1 bootstraps the cluster (--wsrep-new-cluster);
# nodes 2 and 3 join it and receive its state by rsync. Once the cluster
# is up, user ihoprauth_test (password ihoprauth_test, from 127.0.0.1 and
# localhost) may create and drop the databases ihoprauth\_test%, and
# DIR/dsns holds one go-sql-driver/mysql DSN per node, comma-separated, for
# IHOPRAUTH_TEST_GALERA. Run as root, the nodes run as user mysql.
set -euo pipefail

provider=/usr/lib/galera/libgalera_smm.so
base=${GALERA_PORT:-23300}
nodes=(1 2 3)

usage() {
  echo "usage: $0 start|stop DIR, or $0 restart DIR N" >&2
  exit 2
}
[ $# -ge 2 ] || usage
cmd=$1
dir=$2

sql_port() { echo $((base + $1)); }
gcomm_port() { echo $((base + 10 + $1)); }
ist_port() { echo $((base + 20 + $1)); }
sst_port() { echo $((base + 30 + $1)); }

# client N ARGS... runs the mariadb client as root on node N's socket.
client() {
  local n=$1
  shift
  mariadb --no-defaults -S "$dir/node$n/mysqld.sock" -u root "$@"
}

# status N VAR prints the value of node N's status variable VAR.
status() {
  client "$1" -N -B -e "SHOW GLOBAL STATUS LIKE '$2'" 2>/dev/null | cut -f2
}

# write_config N writes node N's option file.
write_config() {
  local n=$1 d=$dir/node$1 addrs=() m
  for m in "${nodes[@]}"; do
    addrs+=("127.0.0.1:$(gcomm_port "$m")")
  done
  local members
  members=$(IFS=,; echo "${addrs[*]}")
  cat >"$d/my.cnf" <<EOF
[mariadbd]
datadir=$d/data
socket=$d/mysqld.sock
pid-file=$d/mysqld.pid
log-error=$d/error.log
port=$(sql_port "$n")
bind-address=127.0.0.1
skip-name-resolve
performance_schema=OFF
innodb_buffer_pool_size=64M
innodb_log_file_size=32M
innodb_flush_log_at_trx_commit=2
max_connections=300
binlog_format=ROW
default_storage_engine=InnoDB
innodb_autoinc_lock_mode=2
wsrep_on=ON
wsrep_provider=$provider
wsrep_cluster_name=ihoprauth_test
wsrep_cluster_address=gcomm://$members
wsrep_node_name=node$n
wsrep_node_address=127.0.0.1:$(gcomm_port "$n")
wsrep_node_incoming_address=127.0.0.1:$(sql_port "$n")
wsrep_provider_options=gmcast.listen_addr=tcp://127.0.0.1:$(gcomm_port "$n");ist.recv_addr=127.0.0.1:$(ist_port "$n");gcache.size=64M
wsrep_sst_method=rsync
wsrep_sst_receive_address=127.0.0.1:$(sst_port "$n")
[client]
socket=$d/mysqld.sock
EOF
}

# start_node N [ARGS...] starts node N's mariadbd in the background.
start_node() {
  local n=$1
  shift
  local user=()
  [ "$(id -u)" -eq 0 ] && user=(--user=mysql)
  mariadbd --defaults-file="$dir/node$n/my.cnf" "${user[@]}" "$@" >>"$dir/node$n/stdout.log" 2>&1 &
  echo $! >"$dir/node$n/pid"
}

# wait_synced N SECONDS waits until node N answers and is Synced.
wait_synced() {
  local n=$1 limit=$2 i
  for ((i = 0; i < limit * 4; i++)); do
    if [ "$(status "$n" wsrep_local_state_comment)" = Synced ]; then
      return 0
    fi
    sleep 0.25
  done
  echo "galera.sh: node $n not Synced within ${limit}s; the end of $dir/node$n/error.log:" >&2
  tail -n 30 "$dir/node$n/error.log" >&2 || true
  return 1
}

start() {
  local owner=() n
  [ "$(id -u)" -eq 0 ] && owner=(-o mysql -g mysql)
  install -d "${owner[@]}" -m 0755 "$dir"
  for n in "${nodes[@]}"; do
    install -d "${owner[@]}" -m 0755 "$dir/node$n"
    write_config "$n"
  done
  # Only node 1 needs system tables: the others receive node 1's whole
  # data directory by SST when they join.
  local install_user=()
  [ "$(id -u)" -eq 0 ] && install_user=(--user=mysql)
  mariadb-install-db --defaults-file="$dir/node1/my.cnf" "${install_user[@]}" \
    --auth-root-authentication-method=socket --skip-test-db >"$dir/node1/install.log" 2>&1 ||
    { cat "$dir/node1/install.log" >&2; return 1; }
  for n in 2 3; do
    install -d "${owner[@]}" -m 0750 "$dir/node$n/data"
  done
  start_node 1 --wsrep-new-cluster
  wait_synced 1 60
  # One joiner at a time: node 1 is the donor of each state transfer.
  for n in 2 3; do
    start_node "$n"
    wait_synced "$n" 120
  done
  local size
  size=$(status 1 wsrep_cluster_size)
  if [ "$size" != 3 ]; then
    echo "galera.sh: wsrep_cluster_size is $size, want 3" >&2
    return 1
  fi
  client 1 <<'SQL'
CREATE USER IF NOT EXISTS 'ihoprauth_test'@'localhost' IDENTIFIED BY 'ihoprauth_test';
CREATE USER IF NOT EXISTS 'ihoprauth_test'@'127.0.0.1' IDENTIFIED BY 'ihoprauth_test';
GRANT ALL PRIVILEGES ON `ihoprauth\_%`.* TO 'ihoprauth_test'@'localhost';
GRANT ALL PRIVILEGES ON `ihoprauth\_%`.* TO 'ihoprauth_test'@'127.0.0.1';
SQL
  local dsns=()
  for n in "${nodes[@]}"; do
    dsns+=("ihoprauth_test:ihoprauth_test@tcp(127.0.0.1:$(sql_port "$n"))/")
  done
  (IFS=,; echo "${dsns[*]}") >"$dir/dsns"
  echo "galera.sh: 3 nodes Synced on 127.0.0.1:$(sql_port 1)-$(sql_port 3); DSNs in $dir/dsns"
}

stop() {
  local n pids=() pid
  for n in "${nodes[@]}"; do
    [ -f "$dir/node$n/pid" ] || continue
    pid=$(cat "$dir/node$n/pid")
    kill "$pid" 2>/dev/null && pids+=("$pid")
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 120); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.25
    done
    kill -9 "$pid" 2>/dev/null || true
  done
}

case $cmd in
start) start ;;
stop) stop ;;
restart)
  [ $# -eq 3 ] || usage
  start_node "$3"
  wait_synced "$3" 180
  ;;
*) usage ;;
esac
