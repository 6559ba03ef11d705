#!/usr/bin/env bats
# not tested: kill -9 of the workers themselves (tests/send.bats kills them with the daemon), a storm with DKIM signing, a worker whose D-line append fails (then the scheduler records, as before).
load helper
load smtp_helper

load send_helper

setup() { send_setup; }
# a worker of a killed relay-send that is past the data still has the
# message open (it records its delivery, then ends); none left:
no_orphan_worker() { ! fuser -s "$RELAY_HOME"/queue/msg/*/* 2>/dev/null; }
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
	# the workers of the killed daemons see their socket close and end
	# (one past the data first records its delivery: the next relay-send
	# waits for it); a new relay-send takes the queue lock at once (a
	# POSIX lock dies with its process). relay-send -1 leaves a message
	# such a worker still holds to the next run: wait for them first.
	wait_for no_orphan_worker
	run relay-send -1 -w 4
	assert_success
	[ "$(queue_count)" -eq 0 ]
	total=$(cat "$SRV"/rec/*.eml | grep -ac '^Subject: m')
	unique=$(cat "$SRV"/rec/*.eml | grep -a '^Subject: m' | sort -u | wc -l)
	[ "$unique" -eq $N ]
	echo "# storm: $KILLS kill -9, $N messages, $total deliveries, $((total - N)) duplicates" >&3
	[ "$total" -ge $N ]
	# the worker records its delivery right after the 250 (send/dline.h):
	# a kill costs a duplicate only when the worker itself dies (before:
	# about one a kill, 11 and 14 of 12)
	[ $((total - N)) -lt $((KILLS / 2)) ]
}
