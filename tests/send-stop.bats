#!/usr/bin/env bats
# not tested: a journal append that fails (ENOSPC: the message may go out again), a stop while the message data is being written (the worker finishes that session: it is past its 354), a stop under the fork server (tests/install-e2e.bats stops an installed relay-send, which has one).
load helper
load smtp_helper
load send_helper

# relay_home only: the RFC default timeouts (greeting 300 s), so a stop
# that waits for the session shows as a wait_for that gives up
setup() { relay_home; }
teardown() { send_teardown; }

inject() {
	printf 'Subject: stop\n\nbody\n' | relay-inject -f s@example.org r@example.net
}
# a session to the test relay on $PORT is open
connected() { ss -Htn state established "( dport = :$PORT )" | grep -q .; }
info_file() { find "$RELAY_HOME/queue/info" -type f | head -1; }
queue_empty() { [ "$(queue_count)" -eq 0 ]; }
# the worker of a killed daemon journaled its delivery (send/journal.h)
journaled() { cat "$RELAY_HOME"/queue/journal/W* 2>/dev/null | grep -Eq '^[0-9a-f]{13}\.[0-9a-f]{8} D0 [0-9]+ 127\.0\.0\.1:'; }
# the second daemon (log2) applied the journal line, the relay has the
# message once, and the journals are empty
applied_not_resent() {
	wait_for queue_empty
	stop_daemon
	[ "$(ls "$SRV/rec" | grep -c '\.eml$')" -eq 1 ]
	! grep -q '^event=delivered' "$BATS_TEST_TMPDIR/log2"
	grep -q 'journals: 1 deliveries' "$BATS_TEST_TMPDIR/log2"
	journals_empty
}
journals_empty() { [ -z "$(cat "$RELAY_HOME"/queue/journal/W* 2>/dev/null)" ]; }
no_orphan_worker() { ! fuser -s "$RELAY_HOME"/queue/msg/*/* 2>/dev/null; }
# SIGTERM, and the daemon exits (the wait is for a stop that waits for
# no session: before, a stalled greeting held it 300 s)
stop_daemon() { kill -TERM $DAEMON; wait_for gone $DAEMON; wait $DAEMON; DAEMON=; }
kill_daemon() { kill -9 $DAEMON; wait $DAEMON 2>/dev/null || true; DAEMON=; }
# stalled_at greet|dot: one message to a relay that stalls there, the
# daemon started, and the session there: at the greeting (a session
# open), or past the dot (the relay has the message, holds back its 250)
stalled_at() {
	if [ "$1" = greet ]; then start_server --stall 600 --stall-at greet; else start_server --stall 4 --stall-at dot; fi
	pool main failover 127.0.0.1:$PORT
	inject
	relay-send -w 2 > "$BATS_TEST_TMPDIR/log" 2>&1 &
	DAEMON=$!
	if [ "$1" = greet ]; then wait_for connected; else wait_for recorded "$SRV" 1; fi
}

@test "SIGTERM drops a session stalled at the greeting at once: relay-send exits, the message stays queued, not counted as an attempt" {
	stalled_at greet
	# before: it waited for the greeting timeout (300 s)
	stop_daemon
	grep -q '^event=stopped' "$BATS_TEST_TMPDIR/log"
	wait_for grep -q ' STALL-CLIENT-GONE' "$SRV/log"
	[ "$(queue_count)" -eq 1 ]
	# no retry record: the next start sends it at once
	f=$(info_file)
	[ -z "$f" ] || ! grep -q '^R' "$f"
	! grep -q '^event=deferred' "$BATS_TEST_TMPDIR/log"
	! grep -q 'network worker .* exited' "$BATS_TEST_TMPDIR/log"
}

@test "SIGTERM with a worker past the final dot: it waits for the reply and the delivery is recorded" {
	stalled_at dot
	stop_daemon
	grep -q '^event=delivered' "$BATS_TEST_TMPDIR/log"
	[ "$(queue_count)" -eq 0 ]
	[ "$(ls "$SRV/rec" | grep -c '\.eml$')" -eq 1 ]
}

@test "kill -9 with a worker past the final dot: the worker journals the delivery; the next relay-send applies it and does not send it again" {
	stalled_at dot
	kill_daemon
	# the worker, its scheduler gone, reads the 250, cannot send its
	# result and journals the D line (before: it died with the scheduler
	# and the message went out again)
	wait_for journaled
	wait_for no_orphan_worker
	[ "$(queue_count)" -eq 1 ]
	relay-send -w 2 > "$BATS_TEST_TMPDIR/log2" 2>&1 &
	DAEMON=$!
	applied_not_resent
}

@test "kill -9 past the final dot, a relay-send started at once: it waits for the worker (the queue file's lock), applies its journal, does not send again" {
	stalled_at dot
	kill_daemon
	relay-send -w 2 > "$BATS_TEST_TMPDIR/log2" 2>&1 &
	DAEMON=$!
	wait_for no_orphan_worker
	applied_not_resent
}

@test "kill -9 with a session stalled at the greeting: the worker drops it at once and ends" {
	stalled_at greet
	kill_daemon
	wait_for grep -q ' STALL-CLIENT-GONE' "$SRV/log"
	wait_for no_orphan_worker
	[ "$(queue_count)" -eq 1 ]
}
