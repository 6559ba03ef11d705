#!/usr/bin/env bats
# not tested: a lock file that cannot be opened (install tree permissions: tests/install*.bats), NFS.
load helper
load smtp_helper

load send_helper

setup() { send_setup; }
teardown() { send_teardown; }

@test "a second daemon on one queue exits 111 at start-up and says why" {
	start_server
	pool main failover 127.0.0.1:$PORT
	relay-send -w 1 > "$BATS_TEST_TMPDIR/log" 2>&1 &
	DAEMON=$!
	wait_for logged '^event=start'
	run timeout 30 relay-send -w 1
	[ "$status" -eq 111 ]
	echo "$output" | grep -q "another relay-send (pid $DAEMON) runs on this queue"
	kill -0 $DAEMON
}

@test "relay-send -1 beside a daemon asks it to flush and exits 0; nothing is sent twice" {
	start_server --refuse; DOWN=$PORT
	pool main failover 127.0.0.1:$DOWN
	relay-send -w 2 > "$BATS_TEST_TMPDIR/log" 2>&1 &
	DAEMON=$!
	wait_for logged '^event=start'
	for i in $(seq 20); do printf 'Subject: m%s\n\nb\n' $i | relay-inject -f s@example.org r@example.net; done
	wait_for logged '^event=deferred'
	start_server; OK=$PORT
	sed -i "s/^main .*/main failover 127.0.0.1:$OK/" "$RELAY_HOME/etc/pools"
	relay-config -d "$RELAY_HOME"
	kill -HUP $DAEMON
	wait_for logged '^event=reload '
	run relay-send -1
	[ "$status" -eq 0 ]
	echo "$output" | grep -q "a relay-send daemon (pid $DAEMON) runs on this queue: asked it to flush"
	wait_for logged '^event=flush'
	wait_for recorded "$SRV" 20
	[ "$(cat "$SRV"/rec/*.eml | grep -c '^Subject: m')" -eq 20 ]
}

@test "the lock goes with the daemon: after kill -9 a new one starts" {
	start_server
	pool main failover 127.0.0.1:$PORT
	relay-send -w 2 > "$BATS_TEST_TMPDIR/log" 2>&1 &
	DAEMON=$!
	wait_for logged '^event=start'
	kill -9 $DAEMON
	wait $DAEMON 2>/dev/null || true
	relay-send -w 1 > "$BATS_TEST_TMPDIR/log2" 2>&1 &
	DAEMON=$!
	wait_for grep -q '^event=start' "$BATS_TEST_TMPDIR/log2"
	run relay-send -1
	[ "$status" -eq 0 ]
}
