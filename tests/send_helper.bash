# Shared by tests/send-*.bats: a pool routed to, the test relay's count,
# and a relay-send daemon logging to $BATS_TEST_TMPDIR/log.

# pool NAME STRATEGY MEMBER...: define the pool and route everything to it
pool() {
	local name=$1; shift
	echo "$name $*" >> "$RELAY_HOME/etc/pools"
	grep -q '^default' "$RELAY_HOME/etc/routes" || echo "default $name" >> "$RELAY_HOME/etc/routes"
	relay-config -d "$RELAY_HOME"
}
# recorded SRVDIR N: the server in SRVDIR recorded at least N messages
recorded() { [ "$(ls "$1/rec" | grep -c '\.eml$' || true)" -ge "$2" ]; }
send_one() { printf 'Subject: %s\n\nbody\n' "$1" | relay-inject -f s@example.org r@example.net; }
logged() { grep -q "$1" "$BATS_TEST_TMPDIR/log"; }
refute_logged() { if grep -q "$1" "$BATS_TEST_TMPDIR/log"; then echo "logged: $1"; return 1; fi; }
alive() { kill -0 "$DAEMON" 2>/dev/null; }
start_daemon() {
	relay-send -w 2 > "$BATS_TEST_TMPDIR/log" 2>&1 &
	DAEMON=$!
	wait_for grep -q '^event=start' "$BATS_TEST_TMPDIR/log"
}
send_setup() { relay_home; relay_setting smtp_timeout 10s; }
send_teardown() {
	stop_servers
	[ -n "${DAEMON:-}" ] && kill -9 "$DAEMON" 2>/dev/null || true
	true
}
