# Shared by tests/cluster.bats and bench/cluster: a redis-server of the
# test's own (port, pid) and relay homes that share limits through it.

# start_redis [PORT]: a redis-server on loopback in the test's directory,
# no persistence; REDIS_PORT, REDIS_PID. REDIS_TLS=1: TLS only (the port
# is its tls-port, no plaintext port), with the certificates of
# make_certs, client certificates required (Redis's default); rcli
# speaks TLS to it then.
start_redis() {
	REDIS_PORT=${1:-$(free_port)}
	mkdir -p "$BATS_TEST_TMPDIR/redis"
	if [ -n "${REDIS_TLS:-}" ]; then
		REDIS_CLI_TLS="--tls --cacert $CERTS/ca.pem --cert $CERTS/client.pem --key $CERTS/client.key"
		set -- --port 0 --tls-port "$REDIS_PORT" --tls-cert-file "$CERTS/${REDIS_TLS_CERT:-server}.pem" \
			--tls-key-file "$CERTS/${REDIS_TLS_CERT:-server}.key" --tls-ca-cert-file "$CERTS/ca.pem"
	else
		REDIS_CLI_TLS=
		set -- --port "$REDIS_PORT"
	fi
	redis-server "$@" --bind 127.0.0.1 --save '' --appendonly no \
		--dir "$BATS_TEST_TMPDIR/redis" --daemonize no \
		--logfile "$BATS_TEST_TMPDIR/redis/log" 3>&- &
	REDIS_PID=$!
	wait_for rcli ping >/dev/null 2>&1
}
stop_redis() {
	[ -n "${REDIS_PID:-}" ] && kill "$REDIS_PID" 2>/dev/null || true
	[ -n "${REDIS_PID:-}" ] && wait_for gone "$REDIS_PID"
	REDIS_PID=
}
# shellcheck disable=SC2086   # REDIS_CLI_TLS: words
rcli() { redis-cli -p "$REDIS_PORT" ${REDIS_CLI_TLS:-} "$@"; }

# node NAME: a relay home $BATS_TEST_TMPDIR/NAME with hostname NAME,
# sharing through the redis-server (RELAY_HOME stays as it was; REDIS_URL
# instead of redis://127.0.0.1:$REDIS_PORT/0 when set).
node() {
	local h="$BATS_TEST_TMPDIR/$1"
	relay-config init "$h" >/dev/null
	printf 'hostname %s\nsmtp_timeout 10s\nshared %s\n' "$1" "${REDIS_URL:-redis://127.0.0.1:$REDIS_PORT/0}" >> "$h/etc/settings"
	relay-config -d "$h" >/dev/null
}
# three MEMBERS LIMITS [SETTING]: nodes a, b, c with one failover pool of
# MEMBERS routed to, etc/limits LIMITS, and SETTING ("name value") added
three() {
	local n h
	for n in a b c; do
		node $n
		h="$BATS_TEST_TMPDIR/$n"
		echo "main failover $1" > "$h/etc/pools"
		echo "default main" > "$h/etc/routes"
		echo "$2" > "$h/etc/limits"
		[ -z "${3:-}" ] || echo "$3" >> "$h/etc/settings"
		relay-config -d "$h" >/dev/null
	done
}
# on NAME CMD...: CMD with RELAY_HOME the node's
on() { local n=$1; shift; RELAY_HOME="$BATS_TEST_TMPDIR/$n" "$@"; }
# inject_on NAME N: N messages to r@example.net through NAME's relay-inject
inject_on() {
	local i
	for i in $(seq "$2"); do
		printf 'Subject: %s-%s\n\nbody\n' "$1" "$i" | on "$1" relay-inject -f s@example.org r@example.net
	done
}
recorded_n() { ls "$1/rec" | grep -c '\.eml$' || true; }
queued_on() { find "$BATS_TEST_TMPDIR/$1/queue/msg" -type f | wc -l; }

# issue 16 (tests/cluster.bats)
# classify_on RULE: etc/classify RULE on nodes a, b and c
classify_on() {
	local n
	for n in a b c; do
		echo "$1" > "$BATS_TEST_TMPDIR/$n/etc/classify"
		relay-config -d "$BATS_TEST_TMPDIR/$n" >/dev/null
	done
}
# leases_of KEY NODE: the leases NODE holds on destination KEY (0: none)
leases_of() {
	local v
	v=$(rcli hget "relay:lease:$1" "$2")
	echo "${v%%:*}" | sed 's/^$/0/'
}
# kill_node PID: relay-send and its children, kill -9 (a node that dies)
kill_node() {
	local k
	for k in $(pgrep -P "$1"); do kill -9 "$k" 2>/dev/null || true; done
	kill -9 "$1" 2>/dev/null || true
}
peak_of() { cat "$1/peak" 2>/dev/null || echo 0; }

# The daemons of a test (DAEMONS: relay-send pids) killed, the servers
# and Redis stopped: the teardown of cluster.bats and cluster-share.bats.
cluster_teardown() {
	local p
	for p in $DAEMONS; do kill -9 "$p" 2>/dev/null || true; done
	stop_servers
	stop_redis
	true
}
# daemon_on NAME: relay-send (-w $CLUSTER_WORKERS, default 3) for the
# home NAME, logging to NAME.log; its own pid (not a subshell's) joins
# DAEMONS.
daemon_on() {
	RELAY_HOME="$BATS_TEST_TMPDIR/$1" relay-send -w "${CLUSTER_WORKERS:-3}" > "$BATS_TEST_TMPDIR/$1.log" 2>&1 &
	DAEMONS="$DAEMONS $!"
}
