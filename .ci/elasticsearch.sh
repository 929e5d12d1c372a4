#!/usr/bin/env bash
# Fetch, start and stop a throwaway single-node Elasticsearch for the tests.
#
#   .ci/elasticsearch.sh start   # download (cached), start, wait until yellow
#   .ci/elasticsearch.sh stop    # stop the node this script started
#
# One node by default.  tests/cluster starts two as one cluster, through the same script, with
# ES_CLUSTER_NAME, ES_NODE_NAME, ES_TRANSPORT_PORT, ES_SEED_HOSTS (the other nodes' transport
# addresses), ES_INITIAL_MASTERS (the node names that bootstrap the cluster), ES_ROLES and
# ES_KEEP_DATA=1 (restart a node on the data it had, as a node rejoining after a crash).
#
# Elastic's integ-test-zip from Maven Central is a minimal distribution without a bundled JDK
# (see DESIGN.md, "Elasticsearch in tests and CI: facts").  The zip and the unpacked copy are
# cached outside the checkout, in ES_CACHE (default /var/cache/est-elasticsearch, owned by the
# Elasticsearch user), because the node runs as that user and must reach its files wherever the
# clone lives (a clone in root's home, mode 700, is out of its reach).  The data, logs and config
# live in /tmp/est-es-<port> and are wiped at every start, so each run begins from an empty
# cluster.
set -euo pipefail

ES_VERSION="${ES_VERSION:-9.2.4}"
ES_PORT="${ES_PORT:-9200}"
ES_USER="${ES_USER:-elasticsearch}"
ES_HEAP="${ES_HEAP:-1g}"
ES_WAIT_SECONDS="${ES_WAIT_SECONDS:-120}"
ES_CLUSTER_NAME="${ES_CLUSTER_NAME:-est-test}"
ES_NODE_NAME="${ES_NODE_NAME:-est-test-${ES_PORT}}"
ES_TRANSPORT_PORT="${ES_TRANSPORT_PORT:-}"
ES_SEED_HOSTS="${ES_SEED_HOSTS:-}"
ES_INITIAL_MASTERS="${ES_INITIAL_MASTERS:-}"
ES_ROLES="${ES_ROLES:-}"
ES_KEEP_DATA="${ES_KEEP_DATA:-}"

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
if [ "$(id -u)" = 0 ]; then
  CACHE="${ES_CACHE:-/var/cache/est-elasticsearch}"
else  # a non-root caller runs the node as themselves, from their own cache
  CACHE="${ES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/est-elasticsearch}"
fi
ARTIFACT="org.elasticsearch.distribution.integ-test-zip:elasticsearch:${ES_VERSION}:zip"
ZIP="$CACHE/elasticsearch-${ES_VERSION}.zip"
DIST="$CACHE/elasticsearch-${ES_VERSION}"
RUN_DIR="/tmp/est-es-${ES_PORT}"
PID_FILE="$RUN_DIR/elasticsearch.pid"
HEALTH_URL="http://127.0.0.1:${ES_PORT}/_cluster/health?wait_for_status=yellow&timeout=5s"

log() { printf '\033[1;32m[elasticsearch]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[elasticsearch]\033[0m %s\n' "$*" >&2; exit 1; }
# shellcheck source=lib.sh
. "$ROOT/.ci/lib.sh"

healthy() { curl -fsS --max-time 10 "$HEALTH_URL" >/dev/null 2>&1; }

java_major() {  # java_major /path/to/jdk -> e.g. 21 (empty if not a JDK)
  local release="$1/release"
  [ -x "$1/bin/java" ] && [ -f "$release" ] || return 0
  sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$release"
}

find_jdk() {  # prints the newest JDK >= 21 under /usr/lib/jvm, if any
  local best="" best_major=0 dir major
  for dir in /usr/lib/jvm/*; do
    [ -L "$dir" ] && continue  # Debian adds alias symlinks; the real directories suffice
    major="$(java_major "$dir")"
    if [ -n "$major" ] && [ "$major" -ge 21 ] && [ "$major" -gt "$best_major" ]; then
      best="$dir" best_major="$major"
    fi
  done
  printf '%s' "$best"
}

ensure_java() {
  # 9.x needs Java 21+; the distribution has no bundled JDK and reads ES_JAVA_HOME only.
  if [ -n "${ES_JAVA_HOME:-}" ]; then
    log "using ES_JAVA_HOME=$ES_JAVA_HOME"
    return
  fi
  local jdk
  jdk="$(find_jdk)"
  if [ -z "$jdk" ]; then
    apt_install openjdk-21-jdk-headless ||
      apt_install openjdk-25-jdk-headless ||
      die "no JDK >= 21 under /usr/lib/jvm and none installable with apt-get"
    jdk="$(find_jdk)"
    [ -n "$jdk" ] || die "installed a JDK but found none >= 21 under /usr/lib/jvm"
  fi
  export ES_JAVA_HOME="$jdk"
  log "using Java $(java_major "$jdk") from $jdk"
}

ensure_distribution() {
  if [ -x "$DIST/bin/elasticsearch" ]; then
    log "using cached $DIST"
    return
  fi
  mkdir -p "$CACHE"
  chmod 755 "$CACHE"
  if [ ! -s "$ZIP" ]; then
    command -v mvn >/dev/null || apt_install maven
    log "fetching $ARTIFACT from Maven Central"
    # Maven's output is noise when it works (and escape codes even with -q): keep it for errors.
    if ! mvn -B -q dependency:copy -Dartifact="$ARTIFACT" -DoutputDirectory="$CACHE" \
        >"$CACHE/mvn.log" 2>&1; then
      cat "$CACHE/mvn.log" >&2
      die "could not fetch $ARTIFACT"
    fi
  fi
  log "unpacking $(basename "$ZIP")"
  command -v unzip >/dev/null || apt_install unzip
  # Unpack beside the final path and rename, so an interrupted unzip is never mistaken for
  # a complete cached copy.
  local tmp="$CACHE/.unpack-$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  unzip -q "$ZIP" -d "$tmp"
  # The node runs as another user: it must be able to read the distribution whatever umask.
  chmod -R a+rX "$tmp"
  if [ "$(id -u)" = 0 ]; then
    chown -R "$ES_USER:" "$tmp"
  fi
  # Another checkout may have unpacked the same version meanwhile: keep the first.
  [ -e "$DIST" ] || mv "$tmp/elasticsearch-${ES_VERSION}" "$DIST"
  rm -rf "$tmp"
}

ensure_user() {
  # Elasticsearch refuses to run as root.  A non-root caller simply runs it as themselves.
  if [ "$(id -u)" != 0 ]; then
    ES_USER="$(id -un)"
    return
  fi
  if ! id "$ES_USER" >/dev/null 2>&1; then
    log "creating system user $ES_USER"
    useradd --system --no-create-home --shell /usr/sbin/nologin "$ES_USER"
  fi
}

write_config() {
  # A fresh config, data and logs directory per start: no state leaks between runs.  A node
  # restarted with ES_KEEP_DATA=1 keeps its data directory, as a crashed node that rejoins.
  if [ -n "$ES_KEEP_DATA" ] && [ -d "$RUN_DIR/data" ]; then
    rm -rf "$RUN_DIR/config" "$RUN_DIR/tmp"
  else
    rm -rf "$RUN_DIR"
  fi
  mkdir -p "$RUN_DIR/data" "$RUN_DIR/logs" "$RUN_DIR/tmp"
  cp -r "$DIST/config" "$RUN_DIR/config"
  cat >"$RUN_DIR/config/elasticsearch.yml" <<EOF
cluster.name: ${ES_CLUSTER_NAME}
node.name: ${ES_NODE_NAME}
$(discovery_config)
network.host: 127.0.0.1
http.port: ${ES_PORT}
path.data: ${RUN_DIR}/data
path.logs: ${RUN_DIR}/logs
xpack.security.enabled: false
# A nearly full CI disk must not stop shards from being allocated.
cluster.routing.allocation.disk.threshold_enabled: false
# Tests drop their indices by wildcard (prefix-*).
action.destructive_requires_name: false
EOF
  if [ "$(id -u)" = 0 ]; then
    chown -R "$ES_USER:" "$RUN_DIR"
  fi
}

discovery_config() {  # the YAML lines that make this node a cluster of one, or join others
  if [ -z "$ES_SEED_HOSTS" ] && [ -z "$ES_INITIAL_MASTERS" ]; then
    echo "discovery.type: single-node"
  else
    echo "discovery.seed_hosts: [${ES_SEED_HOSTS}]"
    [ -z "$ES_INITIAL_MASTERS" ] || echo "cluster.initial_master_nodes: [${ES_INITIAL_MASTERS}]"
  fi
  [ -z "$ES_TRANSPORT_PORT" ] || echo "transport.port: ${ES_TRANSPORT_PORT}"
  [ -z "$ES_ROLES" ] || echo "node.roles: [${ES_ROLES}]"
}

run_as_es_user() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u "$ES_USER" -- "$@"
  else
    "$@"
  fi
}

print_logs() {
  local file
  for file in "$RUN_DIR/logs/${ES_CLUSTER_NAME}.log" "$RUN_DIR/logs/startup.out"; do
    if [ -f "$file" ]; then
      echo "---- last 50 lines of $file ----" >&2
      tail -n 50 "$file" >&2
    fi
  done
}

# Marks, in this checkout, that this checkout started the node: `stop` then stops only a node
# it started, never one another checkout or a developer left running.
OWNER_MARK="$ROOT/.ci/cache/started-es-$ES_PORT"

start() {
  if healthy; then
    log "something already answers on 127.0.0.1:$ES_PORT; leaving it alone"
    exit 0
  fi
  rm -f "$OWNER_MARK"
  local started=$SECONDS
  ensure_java
  ensure_user  # first: the distribution is chowned to that user
  ensure_distribution
  write_config
  log "starting Elasticsearch $ES_VERSION on 127.0.0.1:$ES_PORT (data in $RUN_DIR)"
  # -d daemonises once the node has started; its stdout goes to startup.out for diagnosis.
  if ! run_as_es_user env ES_JAVA_HOME="$ES_JAVA_HOME" ES_PATH_CONF="$RUN_DIR/config" \
      ES_TMPDIR="$RUN_DIR/tmp" ES_JAVA_OPTS="-Xms$ES_HEAP -Xmx$ES_HEAP" \
      "$DIST/bin/elasticsearch" -d -p "$PID_FILE" >"$RUN_DIR/logs/startup.out" 2>&1; then
    print_logs
    die "Elasticsearch failed to start"
  fi
  log "waiting for yellow cluster health (up to ${ES_WAIT_SECONDS} s)"
  local deadline=$((SECONDS + ES_WAIT_SECONDS))
  until healthy; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      print_logs
      die "Elasticsearch was not healthy after ${ES_WAIT_SECONDS} s"
    fi
    sleep 1
  done
  log "ready on http://127.0.0.1:$ES_PORT in $((SECONDS - started)) s (pid $(cat "$PID_FILE"))"
  mkdir -p "$(dirname "$OWNER_MARK")"
  touch "$OWNER_MARK"
}

stop() {
  if [ ! -f "$OWNER_MARK" ]; then
    log "this checkout did not start Elasticsearch on port $ES_PORT; leaving it running"
    return
  fi
  rm -f "$OWNER_MARK"
  if [ ! -s "$PID_FILE" ]; then
    log "no pidfile at $PID_FILE; nothing to stop"
    return
  fi
  local pid
  pid="$(cat "$PID_FILE")"
  if ! kill -0 "$pid" 2>/dev/null; then
    log "pid $pid is not running"
    rm -f "$PID_FILE"
    return
  fi
  log "stopping pid $pid"
  kill "$pid"
  for _ in $(seq 1 30); do
    kill -0 "$pid" 2>/dev/null || { log "stopped"; rm -f "$PID_FILE"; return; }
    sleep 1
  done
  log "still running after 30 s; sending SIGKILL"
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$PID_FILE"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop  (env: ES_VERSION, ES_PORT, ES_JAVA_HOME, ES_HEAP, ES_CACHE;" \
       "for a cluster also ES_CLUSTER_NAME, ES_NODE_NAME, ES_TRANSPORT_PORT, ES_SEED_HOSTS," \
       "ES_INITIAL_MASTERS, ES_ROLES, ES_KEEP_DATA)" >&2; exit 2 ;;
esac
