#!/usr/bin/env bash
# Local Podium stack on 127.0.0.1: redis (3 rank shards and 2 social shards, each a primary + a replica, and 3 Sentinels), kafka (KRaft, 9092/9093),
# cassandra 5.0 (9042, CDC on), schema (`podium schema`: the DDL and the topics), debezium
# (Cassandra 5 CDC connector, standalone, http 8089), warm (`podium stack warm`: scores through the
# whole pipeline until it answers warm, then deleted; PODIUM_STACK_WARM=0 skips it).
#
#   infra/stack.sh up     [component...]   start in order, waiting for each to be ready
#   infra/stack.sh down   [component...]   stop (reverse order) only what this script started (pidfiles)
#   infra/stack.sh status [component...]
#   infra/stack.sh render                  only render configs into var/conf
#   infra/stack.sh kill   kafka3-<1|2|3>   SIGKILL one node of the kafka3 cluster (`up kafka3` restarts it)
#
# Components: redis kafka cassandra schema debezium warm (default: all). State, pidfiles, logs: var/.
# Passwords: var/secrets.toml (0600), made on the first `up` and kept; every engine listens on
# 127.0.0.1 only, Redis (and its Sentinels) and Cassandra ask for a password (docs/operations.md).
# Optional, only when named: kafka3 (three combined broker+controller KRaft nodes, brokers
# 19092-19094, controllers 19192-19194, replication factor 3, min.insync.replicas 2; for fault tests).
# Jars: .infra/libs/<component> (infra/fetch_jars.sh is run automatically when missing).
# Env: JAVA_HOME (default /usr/lib/jvm/java-17-openjdk-amd64), PODIUM_BIN (the podium command
#      used by `schema`, default PODIUM_PYTHON -m podium), PODIUM_PYTHON (the Python with Podium
#      installed; `podium stack` sets it to its own, default .venv/bin/python), REDIS_SERVER (default redis-server),
#      *_TIMEOUT overrides (KAFKA_TIMEOUT=90 CASSANDRA_TIMEOUT=240 DEBEZIUM_TIMEOUT=120 REDIS_TIMEOUT=20),
#      CASSANDRA_RING_DELAY_MS (default 1000), REDIS_AUTO_INSTALL=1 (apt-get install redis-server if missing, as root).
# Needs: JDK 17, mvn (first fetch only), curl, redis-server + redis-cli (Debian redis-server / redis-tools).
set -euo pipefail
umask 077  # the state holds passwords (secrets, Redis and Sentinel configs): the user's alone

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VAR="$ROOT/var"
RUN="$VAR/run"
LOGS="$VAR/logs"
RCONF="$VAR/conf"
SECRETS="$VAR/secrets.toml"
LIBS="$ROOT/.infra/libs"
JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}"
J="$JAVA_HOME/bin/java"
REDIS_SERVER="${REDIS_SERVER:-redis-server}"
# The Python that has Podium and its drivers: the one `podium stack` runs under (it sets
# PODIUM_PYTHON), else the one beside PODIUM_BIN, else the checkout's .venv.
PY="${PODIUM_PYTHON:-$(dirname "${PODIUM_BIN:-$ROOT/.venv/bin/podium}")/python}"
ALL=(redis kafka cassandra schema debezium warm)
OPTIONAL=(kafka3)  # started only when named
KNOWN=("${ALL[@]}" "${OPTIONAL[@]}")

log()  { printf '[stack %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die()  { printf '[stack %s] ERROR: %s\n' "$(date +%H:%M:%S)" "$*" >&2; exit 1; }
now()  { date +%s.%N; }
since(){ awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }

fail_with_log() {  # $1 = message, $2 = log file
  printf '[stack %s] ERROR: %s\n' "$(date +%H:%M:%S)" "$1" >&2
  if [ -f "${2:-}" ]; then echo "----- last 40 lines of $2 (cut to 400 chars) -----" >&2; tail -n 40 "$2" | cut -c1-400 >&2; echo "-----" >&2; fi
  exit 1
}

# ---- secrets ----------------------------------------------------------------------------------
# var/secrets.toml: the engines' passwords, as Podium settings (`redis_password = "…"`), which
# Podium reads by default (settings.py: stack_secrets). Made once; a missing line is made again,
# so deleting a line and restarting the stack rotates that password (docs/operations.md).
secret_of() { sed -n "s/^$1 = \"\(.*\)\"\$/\1/p" "$SECRETS" 2>/dev/null | tail -1; }
ensure_secrets() {
  mkdir -p "$VAR"
  [ -f "$SECRETS" ] || printf '# Passwords of the local stack, made by infra/stack.sh; read by Podium (stack_secrets).\n' > "$SECRETS"
  chmod 600 "$SECRETS"
  local key made=()
  for key in redis_password cassandra_password cassandra_admin_password; do
    [ -n "$(secret_of "$key")" ] && continue
    printf '%s = "%s"\n' "$key" "$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')" >> "$SECRETS"
    made+=("$key")
  done
  grep -q '^redis_username = ' "$SECRETS" || printf 'redis_username = "podium"\n' >> "$SECRETS"
  grep -q '^cassandra_username = ' "$SECRETS" || printf 'cassandra_username = "podium"\n' >> "$SECRETS"
  [ ${#made[@]} -eq 0 ] || log "secrets: made ${made[*]} in $SECRETS"
  load_secrets
}
load_secrets() { REDIS_USER="$(secret_of redis_username)"; REDIS_PASSWORD="$(secret_of redis_password)"; }

render() {  # infra/conf/* -> var/conf/* with __ROOT__ replaced
  mkdir -p "$RCONF"
  local src dst
  while IFS= read -r -d '' src; do
    dst="$RCONF/${src#"$ROOT/infra/conf/"}"
    mkdir -p "$(dirname "$dst")"
    sed "s#__ROOT__#$ROOT#g" "$src" > "$dst.tmp" && mv "$dst.tmp" "$dst"
  done < <(find "$ROOT/infra/conf" -type f -print0)
}

need_libs() {  # $1 = lib component
  [ -f "$LIBS/$1/.done" ] || "$ROOT/infra/fetch_jars.sh" "$1"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ---- pidfile handling -------------------------------------------------------------------------
pidfile() { echo "$RUN/$1.pid"; }
# alive NAME MARKER: pid from pidfile is running and its cmdline contains MARKER (guards pid reuse)
alive() {
  local pf pid; pf="$(pidfile "$1")"
  [ -f "$pf" ] || return 1
  pid="$(cat "$pf")"
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "$2"
}
# launch NAME LOGFILE cmd... : start detached in its own session, record pid
launch() {
  local name="$1" logf="$2"; shift 2
  mkdir -p "$RUN" "$LOGS"
  : > "$logf"
  # Every descriptor above 2 closed first: an engine must not keep what its starter holds
  # open, e.g. the lock of `flock file podium stack up` (held then as long as the engine runs).
  setsid bash -c 'for fd in /proc/$$/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done; exec "$@"' \
    launch "$@" >>"$logf" 2>&1 </dev/null &
  local pid=$! i
  echo "$pid" > "$(pidfile "$name")"
  # Until the child has exec'd, its cmdline is this script's: `alive` would find no marker
  # in it and call the engine dead (a fault test's restart of Redis once failed so).
  for ((i = 0; i < 200; i++)); do
    [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$(readlink "/proc/$$/exe")" ] || break
    sleep 0.01
  done
}
# stop NAME MARKER TIMEOUT
stop_proc() {
  local name="$1" marker="$2" t="${3:-30}" pf pid i
  pf="$(pidfile "$name")"
  if ! alive "$name" "$marker"; then
    [ -f "$pf" ] && { log "$name: not running (stale pidfile removed)"; rm -f "$pf"; }
    return 0
  fi
  pid="$(cat "$pf")"
  log "$name: stopping pid $pid (SIGTERM, up to ${t}s)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < t * 5; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name: still alive after ${t}s, SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$pf"
}
# wait_until TIMEOUT NAME LOG PIDNAME MARKER cmd... : poll cmd every 0.25 s; fail on death/timeout
wait_until() {
  local t="$1" name="$2" logf="$3" pname="$4" marker="$5"; shift 5
  local deadline; deadline=$(( $(date +%s) + t ))
  until "$@"; do
    alive "$pname" "$marker" || fail_with_log "$name exited during startup" "$logf"
    if [ "$(date +%s)" -ge "$deadline" ]; then
      stop_proc "$pname" "$marker" 30 >&2   # don't leave a half-started process behind
      fail_with_log "$name not ready after ${t}s (stopped it; raise the matching *_TIMEOUT env var?)" "$logf"
    fi
    sleep 0.25
  done
}
check_port_free() {  # $1 = port, $2 = component
  if port_open "$1"; then die "$2: port 127.0.0.1:$1 already in use by a process this script did not start"; fi
}

# ---- redis ------------------------------------------------------------------------------------
# REDIS_SHARDS shards (default 3), shard i = a primary on 6379+2i and its replica on 6380+2i,
# watched by three Sentinels on 26379-26381 (quorum 2) that fail a dead primary over to its
# replica. Clients find each shard's primary by asking a Sentinel for master "shard<i>".
# SOCIAL_SHARDS social shards (default 2; the social index's, apart from the rank index's),
# social shard i = a primary on 6391+2i and its replica on 6392+2i, master "social<i>".
# `SOCIAL_SHARDS=3 stack.sh up redis` on a running stack adds social2 (the running Sentinels
# are told to watch it); the count is remembered in var/redis/social_shards for down/status.
REDIS_SHARDS="${REDIS_SHARDS:-3}"
SOCIAL_SHARDS="${SOCIAL_SHARDS:-$(cat "$VAR/redis/social_shards" 2>/dev/null || echo 2)}"
# redis_groups: each shard's Sentinel name and configured primary port, rank shards first.
redis_groups() {
  local i
  for ((i = 0; i < REDIS_SHARDS; i++)); do echo "shard$i $((6379 + 2 * i))"; done
  for ((i = 0; i < SOCIAL_SHARDS; i++)); do echo "social$i $((6391 + 2 * i))"; done
}
SENTINEL_PORTS=(26379 26380 26381)
# rcli PORT ARGS...: redis-cli as Podium's user; the password goes by environment, never in argv (ps).
rcli() { local port="$1"; shift; REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli --no-auth-warning --user "$REDIS_USER" -h 127.0.0.1 -p "$port" "$@"; }
redis_ping() { [ "$(rcli "$1" ping 2>/dev/null)" = "PONG" ]; }
redis_link_up() { rcli "$1" info replication 2>/dev/null | grep -q 'master_link_status:up'; }
sentinel_knows() {  # all shards monitored, each with its replica seen
  local group port; while read -r group port; do
    rcli "$1" sentinel replicas "$group" 2>/dev/null | grep -q 'slave\|replica' || return 1
  done < <(redis_groups)
}
# live_primary SHARD: the port of the shard's primary if Sentinel knows one that is up and a
# primary; nothing otherwise (no Sentinel running, or the primary is down).
live_primary() {
  local sport addr port
  for sport in "${SENTINEL_PORTS[@]}"; do
    addr="$(rcli "$sport" sentinel get-master-addr-by-name "$1" 2>/dev/null | tail -1)" || continue
    port="${addr//[^0-9]/}"
    [ -n "$port" ] || continue
    if rcli "$port" info replication 2>/dev/null | grep -q '^role:master'; then echo "$port"; fi
    return
  done
}
# recorded_primary SHARD DEFAULT-PORT: the shard's primary when the stack was last stopped
# (a failover may have moved it to the other instance), else the configured one.
recorded_primary() {
  local f="$VAR/redis/$1.primary"
  if [ -s "$f" ]; then cat "$f"; else echo "$2"; fi
}
# After instances came back with their configured roles (both of a shard had died), point
# any Sentinel whose primary for a shard is not a live primary at the configured one.
resync_sentinels() {
  local sport group port want addr
  for sport in "${SENTINEL_PORTS[@]}"; do
    redis_ping "$sport" || continue
    while read -r group port; do
      want="$(recorded_primary "$group" "$port")"
      addr="$(rcli "$sport" sentinel get-master-addr-by-name "$group" | tail -1)"
      rcli "${addr//[^0-9]/}" info replication 2>/dev/null | grep -q '^role:master' && continue
      log "redis: sentinel :$sport watched a dead primary for $group; watching :$want again"
      rcli "$sport" sentinel remove "$group" >/dev/null
      rcli "$sport" sentinel monitor "$group" 127.0.0.1 "$want" 2 >/dev/null
      rcli "$sport" sentinel set "$group" down-after-milliseconds "${SENTINEL_DOWN_AFTER_MS:-1000}" failover-timeout 5000 >/dev/null
      # The password by stdin: a command line is visible to every user in `ps`.
      printf 'SENTINEL SET %s auth-user %s auth-pass %s\n' "$group" "$REDIS_USER" "$REDIS_PASSWORD" | rcli "$sport" >/dev/null
    done < <(redis_groups)
  done
}
redis_instances() {  # name port role(primary|replica) primary-port group
  local i; for ((i = 0; i < REDIS_SHARDS; i++)); do
    echo "redis-s$i-primary $((6379 + 2 * i)) primary $((6379 + 2 * i)) shard$i"
    echo "redis-s$i-replica $((6380 + 2 * i)) replica $((6379 + 2 * i)) shard$i"
  done
  for ((i = 0; i < SOCIAL_SHARDS; i++)); do
    echo "redis-social$i-primary $((6391 + 2 * i)) primary $((6391 + 2 * i)) social$i"
    echo "redis-social$i-replica $((6392 + 2 * i)) replica $((6391 + 2 * i)) social$i"
  done
}
up_redis() {
  mkdir -p "$LOGS"
  if ! command -v "$REDIS_SERVER" >/dev/null && [ "$(id -u)" = 0 ] && [ "${REDIS_AUTO_INSTALL:-1}" = 1 ]; then
    log "redis: redis-server missing, installing the Debian package (apt-get update && apt-get install redis-server)"
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server; } > "$LOGS/apt-redis.log" 2>&1 \
      || fail_with_log "apt-get install redis-server failed" "$LOGS/apt-redis.log"
  fi
  command -v "$REDIS_SERVER" >/dev/null || die "redis-server not found (apt-get update && apt-get install -y redis-server)"
  local t0 name port role primary dir live shard; t0=$(now)
  # Podium's user; replicas and Sentinels log in as it too. Written on every start, so a changed
  # password in var/secrets.toml takes effect here. The default user keeps a password rather
  # than being turned off: Redis 7.0 replays an append-only file as the default user and
  # re-checks its permissions at each EXEC, so with it off every script's writes (replicated as
  # MULTI/EXEC) were dropped at a restart (redis/redis#14541, fixed only in 8.x).
  mkdir -p "$VAR/redis"
  echo "$SOCIAL_SHARDS" > "$VAR/redis/social_shards"
  {
    echo "user default on >$REDIS_PASSWORD ~* &* +@all"
    echo "user $REDIS_USER on >$REDIS_PASSWORD ~* &* +@all"
    echo "masteruser $REDIS_USER"
    echo "masterauth $REDIS_PASSWORD"
  } > "$VAR/redis/users.conf"
  while read -r name port role primary shard; do
    if alive "$name" redis-server; then continue; fi
    check_port_free "$port" "$name"
    dir="$VAR/redis/$name"; mkdir -p "$dir"
    # Every instance keeps an append-only file: a restarted one comes back with its data.
    # After a failover the shard's primary may be the other instance: then this one
    # comes back as its replica (and resyncs), never as a second primary.
    live="$(live_primary "$shard")"
    [ -n "$live" ] || live="$(recorded_primary "$shard" "$primary")"
    local args=("$RCONF/redis/instance.conf" --port "$port" --dir "$dir")
    [ "$live" != "$port" ] && args+=(--replicaof 127.0.0.1 "$live")
    launch "$name" "$LOGS/$name.log" "$REDIS_SERVER" "${args[@]}"
    wait_until "${REDIS_TIMEOUT:-20}" "$name" "$LOGS/$name.log" "$name" redis-server redis_ping "$port"
  done < <(redis_instances)
  resync_sentinels
  while read -r name port role primary shard; do
    if ! rcli "$port" info replication | grep -q '^role:slave'; then continue; fi  # a primary
    wait_until "${REDIS_TIMEOUT:-20}" "$name link" "$LOGS/$name.log" "$name" redis-server redis_link_up "$port"
  done < <(redis_instances)
  local j sport sdir group gport
  for j in "${!SENTINEL_PORTS[@]}"; do
    sport="${SENTINEL_PORTS[$j]}"; name="redis-sentinel$j"
    if alive "$name" redis-server; then continue; fi
    check_port_free "$sport" "$name"
    sdir="$VAR/redis/$name"; mkdir -p "$sdir"
    # Sentinel rewrites its own file; a fresh start watches the primaries as configured.
    {
      echo "bind 127.0.0.1"; echo "port $sport"; echo "dir $sdir"; echo "daemonize no"
      echo "user default off"; echo "user $REDIS_USER on >$REDIS_PASSWORD ~* &* +@all"
      echo "sentinel sentinel-user $REDIS_USER"; echo "sentinel sentinel-pass $REDIS_PASSWORD"
      while read -r group gport; do
        echo "sentinel monitor $group 127.0.0.1 $(recorded_primary "$group" "$gport") 2"
        echo "sentinel down-after-milliseconds $group ${SENTINEL_DOWN_AFTER_MS:-1000}"
        echo "sentinel failover-timeout $group 5000"
        echo "sentinel parallel-syncs $group 1"
        echo "sentinel auth-user $group $REDIS_USER"; echo "sentinel auth-pass $group $REDIS_PASSWORD"
      done < <(redis_groups)
    } > "$sdir/sentinel.conf"
    launch "$name" "$LOGS/$name.log" "$REDIS_SERVER" "$sdir/sentinel.conf" --sentinel
    wait_until "${REDIS_TIMEOUT:-20}" "$name" "$LOGS/$name.log" "$name" redis-server redis_ping "$sport"
  done
  # Sentinels already running (a shard added to a running stack): watch what they do not know.
  for sport in "${SENTINEL_PORTS[@]}"; do
    while read -r group gport; do
      [ -n "$(rcli "$sport" sentinel get-master-addr-by-name "$group" 2>/dev/null)" ] && continue
      log "redis: sentinel :$sport now watches $group"
      rcli "$sport" sentinel monitor "$group" 127.0.0.1 "$(recorded_primary "$group" "$gport")" 2 >/dev/null
      rcli "$sport" sentinel set "$group" down-after-milliseconds "${SENTINEL_DOWN_AFTER_MS:-1000}" failover-timeout 5000 >/dev/null
      printf 'SENTINEL SET %s auth-user %s auth-pass %s\n' "$group" "$REDIS_USER" "$REDIS_PASSWORD" | rcli "$sport" >/dev/null
    done < <(redis_groups)
  done
  for sport in "${SENTINEL_PORTS[@]}"; do
    wait_until "${REDIS_TIMEOUT:-20}" "sentinel :$sport" "$LOGS/redis-sentinel0.log" redis-sentinel0 redis-server sentinel_knows "$sport"
  done
  log "redis: $REDIS_SHARDS rank shards (primaries :6379,:6381,…; replicas :6380,:6382,…), $SOCIAL_SHARDS social shards (primaries :6391,:6393,…; replicas :6392,…) + sentinels :${SENTINEL_PORTS[*]} ready in $(since "$t0")s"
}
down_redis() {
  # Sentinels first (no failover while we stop), then per shard the replicas before the
  # primary, so the primary's append-only file is the newest; its port is recorded, so the
  # next `up` starts it as the primary again even if a failover had moved it.
  local j name port role primary group gport p
  for j in "${!SENTINEL_PORTS[@]}"; do stop_proc "redis-sentinel$j" redis-server 10; done
  while read -r group gport; do
    local ports=("$gport" $((gport + 1))) first="" last=""
    for p in "${ports[@]}"; do
      if rcli "$p" info replication 2>/dev/null | grep -q '^role:master'; then last="$p"; else first="$first $p"; fi
    done
    [ -n "$last" ] && { mkdir -p "$VAR/redis"; echo "$last" > "$VAR/redis/$group.primary"; }
    for p in $first $last; do
      while read -r name port role primary shard; do
        if [ "$port" = "$p" ]; then stop_proc "$name" redis-server 10; fi
      done < <(redis_instances)
    done
  done < <(redis_groups)
}
status_redis() {
  local j name port role primary shard
  while read -r name port role primary shard; do
    if alive "$name" redis-server; then echo "$name: running pid $(cat "$(pidfile "$name")") :$port"; else echo "$name: stopped"; fi
  done < <(redis_instances)
  for j in "${!SENTINEL_PORTS[@]}"; do
    if alive "redis-sentinel$j" redis-server; then echo "redis-sentinel$j: running :${SENTINEL_PORTS[$j]}"; else echo "redis-sentinel$j: stopped"; fi
  done
}

# ---- kafka ------------------------------------------------------------------------------------
KAFKA_MAIN=kafka.Kafka
kafka_ready() { grep -q 'Kafka Server started' "$LOGS/kafka.log" && port_open 9092; }
up_kafka() {
  if alive kafka "$KAFKA_MAIN"; then log "kafka: already running"; return; fi
  need_libs kafka
  check_port_free 9092 kafka; check_port_free 9093 kafka
  local C="$RCONF/kafka" CP="$LIBS/kafka/*" t0 cid
  t0=$(now)
  mkdir -p "$VAR/kafka/data" "$LOGS"
  if [ ! -f "$VAR/kafka/data/meta.properties" ]; then
    cid="$("$J" -Xmx256m -Dlog4j2.configurationFile="$C/log4j2-tools.properties" -cp "$CP" kafka.tools.StorageTool random-uuid | tail -1)"
    log "kafka: formatting storage (cluster id $cid)"
    "$J" -Xmx256m -Dlog4j2.configurationFile="$C/log4j2-tools.properties" -cp "$CP" \
      kafka.tools.StorageTool format --standalone --cluster-id="$cid" --config "$C/server.properties" \
      > "$LOGS/kafka-format.log" 2>&1 || fail_with_log "kafka storage format failed" "$LOGS/kafka-format.log"
    log "kafka: formatted in $(since "$t0")s"
  fi
  local t1; t1=$(now)
  launch kafka "$LOGS/kafka.log" "$J" -Xms512m -Xmx512m -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 \
    -Djava.awt.headless=true -Dkafka.logs.dir="$LOGS" \
    -Dlog4j2.configurationFile="$C/log4j2.properties" \
    -cp "$CP" "$KAFKA_MAIN" "$C/server.properties"
  wait_until "${KAFKA_TIMEOUT:-90}" kafka "$LOGS/kafka.log" kafka "$KAFKA_MAIN" kafka_ready
  log "kafka: broker ready in $(since "$t1")s"
  local t2 topic parts rest; t2=$(now)
  while read -r topic parts rest; do
    case "$topic" in ''|'#'*) continue ;; esac
    # shellcheck disable=SC2086
    "$J" -Xmx256m -Dlog4j2.configurationFile="$C/log4j2-tools.properties" -cp "$CP" \
      org.apache.kafka.tools.TopicCommand --bootstrap-server 127.0.0.1:9092 --create --if-not-exists \
      --topic "$topic" --partitions "$parts" --replication-factor 1 $rest \
      >> "$LOGS/kafka-topics.log" 2>&1 || fail_with_log "kafka: creating topic $topic failed" "$LOGS/kafka-topics.log"
  done < "$C/topics.txt"
  log "kafka: topics ensured in $(since "$t2")s (total $(since "$t0")s)"
}
down_kafka() { stop_proc kafka "$KAFKA_MAIN" 60; }
status_kafka() { if alive kafka "$KAFKA_MAIN"; then echo "kafka: running pid $(cat "$(pidfile kafka)")"; else echo "kafka: stopped"; fi; }

# ---- kafka3 -----------------------------------------------------------------------------------
# Three combined broker+controller KRaft nodes with a static quorum, for the fault tests: node n
# (1..3) serves clients on 19091+n and the controller quorum on 19191+n; data var/kafka3/<n>, log
# var/logs/kafka3-<n>.log, one cluster id for all three in var/kafka3/cluster.id.
KAFKA3_NODES=(1 2 3)
kafka3_conf()   { echo "$RCONF/kafka3/node-$1.properties"; }
kafka3_marker() { echo "kafka3/node-$1.properties"; }  # in the node's cmdline, and only its
kafka3_ready()  { grep -q 'Kafka Server started' "$LOGS/kafka3-$1.log" && port_open $((19091 + $1)); }
up_kafka3() {
  need_libs kafka
  local C="$RCONF/kafka" CP="$LIBS/kafka/*" t0 n cid started=()
  t0=$(now)
  mkdir -p "$VAR/kafka3" "$LOGS"
  if [ ! -s "$VAR/kafka3/cluster.id" ]; then
    "$J" -Xmx256m -Dlog4j2.configurationFile="$C/log4j2-tools.properties" -cp "$CP" kafka.tools.StorageTool random-uuid \
      | tail -1 > "$VAR/kafka3/cluster.id"
  fi
  cid="$(cat "$VAR/kafka3/cluster.id")"
  for n in "${KAFKA3_NODES[@]}"; do
    sed -e "s#__NODE__#$n#g" -e "s#__BROKER_PORT__#$((19091 + n))#g" -e "s#__CONTROLLER_PORT__#$((19191 + n))#g" \
      "$RCONF/kafka3/server.properties" > "$(kafka3_conf "$n")"
    if alive "kafka3-$n" "$(kafka3_marker "$n")"; then continue; fi
    check_port_free $((19091 + n)) "kafka3-$n"; check_port_free $((19191 + n)) "kafka3-$n"
    mkdir -p "$VAR/kafka3/$n/data"
    if [ ! -f "$VAR/kafka3/$n/data/meta.properties" ]; then
      "$J" -Xmx256m -Dlog4j2.configurationFile="$C/log4j2-tools.properties" -cp "$CP" \
        kafka.tools.StorageTool format --cluster-id="$cid" --config "$(kafka3_conf "$n")" \
        > "$LOGS/kafka3-$n-format.log" 2>&1 || fail_with_log "kafka3-$n: storage format failed" "$LOGS/kafka3-$n-format.log"
      log "kafka3-$n: formatted storage (cluster id $cid)"
    fi
    launch "kafka3-$n" "$LOGS/kafka3-$n.log" "$J" -Xms384m -Xmx384m -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
      -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 \
      -Djava.awt.headless=true -Dkafka.logs.dir="$LOGS" \
      -Dlog4j2.configurationFile="$C/log4j2.properties" \
      -cp "$CP" "$KAFKA_MAIN" "$(kafka3_conf "$n")"
    started+=("$n")
  done
  if [ ${#started[@]} -eq 0 ]; then log "kafka3: already running"; return; fi
  # A node's broker starts only once the quorum has a leader, i.e. two controllers are up: so
  # launch them all, then wait for each. If one fails, stop every node this call started.
  for n in "${started[@]}"; do
    ( wait_until "${KAFKA_TIMEOUT:-90}" "kafka3-$n" "$LOGS/kafka3-$n.log" "kafka3-$n" "$(kafka3_marker "$n")" kafka3_ready "$n" ) \
      || { for n in "${started[@]}"; do stop_proc "kafka3-$n" "$(kafka3_marker "$n")" 30; done; exit 1; }
  done
  log "kafka3: node(s) ${started[*]} ready in $(since "$t0")s (brokers 127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094)"
}
down_kafka3() {
  # SIGTERM all at once: a node stopped after the others would wait for a quorum that is gone.
  # Even so, the last broker still in its controlled shutdown when the quorum goes can hang for
  # minutes: after 20 s it is SIGKILLed (its partitions have two other copies; it recovers its log).
  local n
  log "kafka3: SIGTERM to every running node"
  for n in "${KAFKA3_NODES[@]}"; do
    if alive "kafka3-$n" "$(kafka3_marker "$n")"; then kill -TERM "$(cat "$(pidfile "kafka3-$n")")" 2>/dev/null || true; fi
  done
  for n in "${KAFKA3_NODES[@]}"; do stop_proc "kafka3-$n" "$(kafka3_marker "$n")" 20; done
}
status_kafka3() {
  local n
  for n in "${KAFKA3_NODES[@]}"; do
    if alive "kafka3-$n" "$(kafka3_marker "$n")"; then
      echo "kafka3-$n: running pid $(cat "$(pidfile "kafka3-$n")") :$((19091 + n)) :$((19191 + n))"
    else echo "kafka3-$n: stopped"; fi
  done
}
kill_kafka3_node() {  # $1 = kafka3-<n>: SIGKILL, as a crash would
  local n="${1#kafka3-}" pid i
  case "$1" in kafka3-[1-3]) ;; *) die "kill: expected kafka3-1, kafka3-2 or kafka3-3, got '$1'" ;; esac
  alive "$1" "$(kafka3_marker "$n")" || die "$1 is not running"
  pid="$(cat "$(pidfile "$1")")"
  kill -KILL "$pid"
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$(pidfile "$1")"
  log "$1: SIGKILLed pid $pid"
}

# ---- cassandra --------------------------------------------------------------------------------
CASS_MAIN=org.apache.cassandra.service.CassandraDaemon
cass_ready() { port_open 9042 && grep -q 'Startup complete' "$LOGS/cassandra.log"; }
cass_logins() {  # idempotent: an earlier `up` stopped before this step is finished here
  [ -x "$PY" ] || die "cassandra: $PY not found (run: make install, or set PODIUM_PYTHON)"
  "$PY" "$ROOT/infra/cassandra_roles.py" "$SECRETS" || die "cassandra: setting up its logins failed"
}
up_cassandra() {
  if alive cassandra "$CASS_MAIN"; then
    cass_logins
    log "cassandra: already running (logins checked)"
    return
  fi
  need_libs cassandra
  check_port_free 9042 cassandra; check_port_free 7000 cassandra; check_port_free 7199 cassandra
  local C="$RCONF/cassandra" LIB="$LIBS/cassandra" JAMM t0
  JAMM=$(ls "$LIB"/jamm-*.jar | head -1)
  mkdir -p "$VAR/cassandra"/{data,commitlog,saved_caches,hints,cdc_raw} "$VAR/tmp" "$LOGS"
  # Each Cassandra stop leaves the unused pre-allocated segment hard-linked in cdc_raw with no _cdc.idx.
  # The connector only processes segments that have an idx, so these are never removed, yet they count
  # (32 MiB apparent size each) towards cdc_total_space. Cassandra is down here, so it is safe to drop them.
  local seg n=0
  for seg in "$VAR/cassandra/cdc_raw"/CommitLog-*.log; do
    [ -e "$seg" ] || continue
    [ -e "${seg%.log}_cdc.idx" ] || { rm -f "$seg"; n=$((n + 1)); }
  done
  [ "$n" -eq 0 ] || log "cassandra: removed $n orphan segment link(s) without _cdc.idx from cdc_raw"
  local -a opts; mapfile -t opts < <(grep -E '^-' "$C/jvm17.options")
  t0=$(now)
  launch cassandra "$LOGS/cassandra.log" "$J" -Xms1G -Xmx1G "${opts[@]}" \
    -javaagent:"$JAMM" \
    -Dcassandra.config="file://$C/cassandra.yaml" \
    -Dcassandra.storagedir="$VAR/cassandra" \
    -Dcassandra.logdir="$LOGS" \
    -Dlogback.configurationFile="$C/logback.xml" \
    -Dcassandra-foreground=yes \
    -Dcassandra.jmx.local.port=7199 \
    -Dcassandra.superuser_setup_delay_ms=0 \
    -Dcassandra.skip_wait_for_gossip_to_settle=0 \
    -Dcassandra.ring_delay_ms="${CASSANDRA_RING_DELAY_MS:-1000}" \
    -Djna.tmpdir="$VAR/tmp" -Djava.io.tmpdir="$VAR/tmp" \
    -cp "$C:$LIB/*" "$CASS_MAIN"
  wait_until "${CASSANDRA_TIMEOUT:-240}" cassandra "$LOGS/cassandra.log" cassandra "$CASS_MAIN" cass_ready
  cass_logins
  log "cassandra: CQL ready (logins set) in $(since "$t0")s"
}
down_cassandra() { stop_proc cassandra "$CASS_MAIN" 90; }
status_cassandra() {
  if ! alive cassandra "$CASS_MAIN"; then echo "cassandra: stopped"; return; fi
  echo "cassandra: running pid $(cat "$(pidfile cassandra)"); $("$PY" "$ROOT/infra/cassandra_roles.py" --check "$SECRETS" 2>&1 | tail -1)"
}

# ---- schema -----------------------------------------------------------------------------------
up_schema() {
  # The DDL lives in one place, podium/store/cassandra.py; `podium schema` applies it
  # (and creates the Kafka topics). It must run before Debezium starts: the connector
  # silently drops writes to CDC tables created while it runs.
  port_open 9042 || die "schema: cassandra is not listening on 127.0.0.1:9042 (run: stack.sh up cassandra)"
  local -a podium; local t0
  if [ -n "${PODIUM_BIN:-}" ]; then podium=("$PODIUM_BIN"); else podium=("$PY" -m podium); fi
  [ -x "${podium[0]}" ] || die "schema: ${podium[0]} not found (run: make install, or set PODIUM_PYTHON)"
  t0=$(now)
  PODIUM_PROFILE=distributed PODIUM_STACK_SECRETS="$SECRETS" "${podium[@]}" schema || die "schema: podium schema failed"
  log "schema: applied in $(since "$t0")s"
}

# ---- debezium ---------------------------------------------------------------------------------
DBZ_MAIN=io.debezium.connector.cassandra.CassandraConnectorTask
dbz_ready() { curl -sf -o /dev/null "http://127.0.0.1:8089/ping" 2>/dev/null; }
up_debezium() {
  if alive debezium "$DBZ_MAIN"; then log "debezium: already running"; return; fi
  need_libs dbz-cassandra
  "$ROOT/infra/fetch_jars.sh" dbz-agent >/dev/null   # rebuilds only if its source changed
  port_open 9042 || die "debezium: cassandra is not up (run: stack.sh up cassandra schema)"
  port_open 9092 || die "debezium: kafka is not up (run: stack.sh up kafka)"
  check_port_free 8089 debezium
  local C="$RCONF/debezium" t0
  mkdir -p "$VAR/debezium"/{offsets,relocation/archive,relocation/error} "$VAR/tmp" "$LOGS"
  # The connector's driver logs in as Podium's role; application.conf includes this file.
  {
    echo 'datastax-java-driver.advanced.auth-provider {'
    echo '  class = PlainTextAuthProvider'
    echo "  username = \"$(secret_of cassandra_username)\""
    echo "  password = \"$(secret_of cassandra_password)\""
    echo '}'
  } > "$VAR/debezium/driver-auth.conf"
  local -a opts; mapfile -t opts < <(grep -E '^-' "$C/jvm.options")
  t0=$(now)
  # GC log: a CI run once saw the connector emit nothing for ~3 minutes, then go on
  # (re-reading from its last offset); this says whether the JVM was the cause.
  launch debezium "$LOGS/debezium.log" "$J" -Xms256m -Xmx768m "${opts[@]}" \
    -Xlog:gc:file="$LOGS/debezium-gc.log":time,uptime:filecount=2,filesize=10m \
    -javaagent:"$LIBS/dbz-agent/loopback-agent.jar=127.0.0.1" \
    -Djna.tmpdir="$VAR/tmp" -Djava.io.tmpdir="$VAR/tmp" \
    -Dlogback.configurationFile="$C/logback.xml" \
    -cp "$LIBS/dbz-cassandra/*" \
    "$DBZ_MAIN" "$C/cassandra-connector.properties"
  wait_until "${DEBEZIUM_TIMEOUT:-120}" debezium "$LOGS/debezium.log" debezium "$DBZ_MAIN" dbz_ready
  log "debezium: /ping ok in $(since "$t0")s"
}
down_debezium() { stop_proc debezium "$DBZ_MAIN" 20; }
status_debezium() {
  if alive debezium "$DBZ_MAIN"; then
    echo "debezium: running pid $(cat "$(pidfile debezium)") health=$(curl -s --max-time 2 http://127.0.0.1:8089/health || echo '?')"
  else echo "debezium: stopped"; fi
}

# ---- warm -------------------------------------------------------------------------------------
up_warm() {
  # Scores through the whole pipeline (api → Kafka → Cassandra → Debezium → Kafka → Redis) on
  # a board of its own, until it answers as a warm one, then deleted with its users: the
  # JVMs' request paths compiled before the stack says ready (podium/tools/stack_warm.py;
  # docs/operations.md). PODIUM_STACK_WARM=0 (`podium stack up --no-warm`) skips it.
  if [ "${PODIUM_STACK_WARM:-1}" = 0 ]; then log "warm: skipped (PODIUM_STACK_WARM=0)"; return; fi
  port_open 8089 || die "warm: debezium is not up (run: stack.sh up)"
  local -a podium; local t0
  if [ -n "${PODIUM_BIN:-}" ]; then podium=("$PODIUM_BIN"); else podium=("$PY" -m podium); fi
  t0=$(now)
  log "warm: sending scores through the pipeline (at most ${PODIUM_STACK_WARM_S:-90} s)"
  PODIUM_PROFILE=distributed PODIUM_STACK_SECRETS="$SECRETS" "${podium[@]}" stack warm || {
    # The engines are up and serve: a warm-up that fails leaves them cold, not broken, so
    # `up` says so and succeeds; `podium stack warm` runs it again.
    log "warm: WARNING: the warm-up failed after $(since "$t0")s; the stack is up but cold (run: podium stack warm)"
    return
  }
  log "warm: done in $(since "$t0")s"
}

# ---- main -------------------------------------------------------------------------------------
cmd="${1:-}"; shift || true
if [ "$cmd" = kill ]; then [ $# -eq 1 ] || die "usage: $0 kill kafka3-<1|2|3>"; kill_kafka3_node "$1"; exit 0; fi
comps=("$@"); [ ${#comps[@]} -gt 0 ] || comps=("${ALL[@]}")
for c in "${comps[@]}"; do
  case " ${KNOWN[*]} " in *" $c "*) ;; *) die "unknown component '$c' (one of: ${KNOWN[*]})" ;; esac
done
ordered() {  # print requested components in canonical (or reverse) order
  local c r
  if [ "${1:-}" = rev ]; then for ((r = ${#KNOWN[@]} - 1; r >= 0; r--)); do c=${KNOWN[r]}; [[ " ${comps[*]} " == *" $c "* ]] && echo "$c"; done
  else for c in "${KNOWN[@]}"; do [[ " ${comps[*]} " == *" $c "* ]] && echo "$c"; done; fi
  return 0
}
case "$cmd" in
  up)     ensure_secrets; render; T0=$(now); for c in $(ordered); do "up_$c"; done; log "up: done in $(since "$T0")s" ;;
  down)   load_secrets; for c in $(ordered rev); do [ "$c" = schema ] || [ "$c" = warm ] || "down_$c"; done ;;
  status) for c in $(ordered); do [ "$c" = schema ] || [ "$c" = warm ] || "status_$c"; done ;;
  render) render; log "rendered into $RCONF" ;;
  *) echo "usage: $0 up|down|status|render [redis kafka cassandra schema debezium warm kafka3] | kill kafka3-<1|2|3>" >&2; exit 2 ;;
esac
