#!/usr/bin/env bats
# not tested: kill -9 of the workers themselves (tests/send.bats kills them with the daemon), a storm with DKIM signing.
load helper
load smtp_helper

load send_helper

setup() { send_setup; }
teardown() { send_teardown; }

@test "kill -9 storm of relay-send during a drain: every message delivered at least once, none lost" {
	N=300 KILLS=12
	start_server
	pool main failover 127.0.0.1:$PORT
	for i in $(seq $N); do
		printf 'Subject: m%s\n\nbody %s\n' "$i" "$i" | relay-inject -f s@example.org r@example.net
	done
	for k in $(seq $KILLS); do
		relay-send -w 4 >> "$BATS_TEST_TMPDIR/log" 2>&1 &
		DAEMON=$!
		# a kill in the middle of the drain: after some more deliveries
		wait_for recorded "$SRV" $((k * N / (KILLS + 2)))
		kill -9 $DAEMON
		wait $DAEMON 2>/dev/null || true
		DAEMON=
	done
	# the workers of the killed daemons see their socket close and end;
	# a new relay-send takes the queue lock at once (a POSIX lock dies with its process)
	run relay-send -1 -w 4
	assert_success
	[ "$(queue_count)" -eq 0 ]
	total=$(cat "$SRV"/rec/*.eml | grep -ac '^Subject: m')
	unique=$(cat "$SRV"/rec/*.eml | grep -a '^Subject: m' | sort -u | wc -l)
	[ "$unique" -eq $N ]
	echo "# storm: $KILLS kill -9, $N messages, $total deliveries, $((total - N)) duplicates" >&3
	[ "$total" -ge $N ]
}
