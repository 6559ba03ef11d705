#!/usr/bin/env bats
# not tested: a read error of etc/auth.cdb in the middle of a session (the policy is read before the job), ENOMEM.
load helper
load smtp_helper

load send_helper

setup() { send_setup; }
teardown() { send_teardown; }
exits_logged() { [ "$(grep -c "network worker .* exited" "$BATS_TEST_TMPDIR/log")" -ge "$1" ]; }

@test "a failed reload keeps the daemon and the old configuration, and says why" {
	start_server; A=$PORT; SA=$SRV
	start_server; B=$PORT; SB=$SRV
	pool main failover 127.0.0.1:$A
	start_daemon
	send_one m1
	wait_for recorded "$SA" 1
	# a new pools table that names B, but an auth table that is not a CDB
	sed -i "s/^main .*/main failover 127.0.0.1:$B/" "$RELAY_HOME/etc/pools"
	relay-config -d "$RELAY_HOME"
	cp "$RELAY_HOME/etc/auth.cdb" "$BATS_TEST_TMPDIR/auth.cdb"
	echo garbage > "$RELAY_HOME/etc/auth.cdb"
	kill -HUP $DAEMON
	wait_for logged 'reload failed'
	alive
	grep 'reload failed' "$BATS_TEST_TMPDIR/log" | grep -q 'etc/auth.cdb'
	# the old configuration (pool on A) still delivers
	send_one m2
	wait_for recorded "$SA" 2
	[ "$(ls "$SB/rec" | grep -c eml || true)" -eq 0 ]
	# a good table again: the reload takes, mail goes to B
	cp "$BATS_TEST_TMPDIR/auth.cdb" "$RELAY_HOME/etc/auth.cdb"
	kill -HUP $DAEMON
	wait_for logged '^event=reload '
	send_one m3
	wait_for recorded "$SB" 1
	alive
}

@test "a bad etc/settings.cdb at reload keeps the daemon" {
	start_server
	pool main failover 127.0.0.1:$PORT
	start_daemon
	cp "$RELAY_HOME/etc/settings.cdb" "$BATS_TEST_TMPDIR/settings.cdb"
	echo garbage > "$RELAY_HOME/etc/settings.cdb"
	kill -HUP $DAEMON
	wait_for logged 'reload failed'
	alive
	cp "$BATS_TEST_TMPDIR/settings.cdb" "$RELAY_HOME/etc/settings.cdb"
	send_one m1
	wait_for recorded "$SRV" 1
}

@test "a CDB truncated in place under a running relay-send is an error, not a SIGBUS" {
	start_server
	pool main failover 127.0.0.1:$PORT
	start_daemon
	send_one m1
	wait_for recorded "$SRV" 1
	for t in routes tls auth limits retry pools; do
		truncate -s 100 "$RELAY_HOME/etc/$t.cdb"
	done
	send_one m2
	wait_for recorded "$SRV" 2
	alive
	kill -HUP $DAEMON
	wait_for logged 'reload failed'
	send_one m3
	wait_for recorded "$SRV" 3
	alive
	kill -TERM $DAEMON
	st=0; wait $DAEMON || st=$?
	DAEMON=
	[ "$st" -eq 0 ]
}

@test "state/health that cannot be read keeps the last marks (never every member up)" {
	start_server --greet 421; A=$PORT
	start_server; B=$PORT; SB=$SRV
	pool main failover 127.0.0.1:$A 127.0.0.1:$B
	run relay-health
	grep -q "^main 127.0.0.1:$A down" "$RELAY_HOME/state/health/status"
	start_daemon
	send_one m1
	wait_for recorded "$SB" 1
	logged "event=member_down pool=main relay=127.0.0.1:$A"
	rm "$RELAY_HOME/state/health/status"
	mkdir "$RELAY_HOME/state/health/status"
	kill -HUP $DAEMON     # a reload looks at state/health again at once
	wait_for logged 'unable to read .*state/health/status'
	send_one m2
	wait_for recorded "$SB" 2
	refute_logged 'event=member_up'
	refute_logged 'event=failover'
	alive
}

@test "a reply before the final dot (354 then 250, 554 after the dot) is a protocol error: deferred, never delivered" {
	start_server --hostile-reply unsolicited --hostile-at data --data-reply '554 5.0.0 no'
	pool main failover 127.0.0.1:$PORT
	send_one m1
	run relay-send -1 -w 1
	echo "$output"
	assert_success
	refute_line --partial 'event=delivered'
	assert_line --regexp '^event=(deferred|failover) .*protocol error'
	[ "$(queue_count)" -eq 1 ]
}

@test "a FIFO in msg/ does not block relay-send: quarantined, the rest flows, SIGTERM works" {
	start_server
	pool main failover 127.0.0.1:$PORT
	send_one fifo
	f=$(queue_last); id=$(basename "$f")
	rm "$f"; mkfifo "$f"
	start_daemon
	send_one m1
	wait_for recorded "$SRV" 1
	wait_for test -p "$RELAY_HOME/queue/corrupt/$id"
	[ ! -e "$f" ]
	logged "event=corrupt id=$id"
	kill -TERM $DAEMON
	st=0; wait $DAEMON || st=$?
	DAEMON=
	[ "$st" -eq 0 ]
}

@test "a symlink in msg/ is quarantined once, its target untouched" {
	start_server
	pool main failover 127.0.0.1:$PORT
	send_one link
	f=$(queue_last); id=$(basename "$f")
	cp "$f" "$BATS_TEST_TMPDIR/target"
	rm "$f"; ln -s "$BATS_TEST_TMPDIR/target" "$f"
	run relay-send -1
	assert_success
	assert_line --regexp "^event=corrupt id=$id "
	[ -L "$RELAY_HOME/queue/corrupt/$id" ]
	[ -f "$BATS_TEST_TMPDIR/target" ]
	[ "$(msgs)" -eq 0 ]
	run relay-send -1
	assert_success
	refute_line --partial "$id"
	refute_line --partial 'unable'
}

@test "a message in the wrong bucket is found by housekeeping and quarantined" {
	start_server
	pool main failover 127.0.0.1:$PORT
	send_one lost
	f=$(queue_last); id=$(basename "$f")
	b=$(basename "$(dirname "$f")")
	other=$(printf '%02x' $(( (16#$b + 1) % 256 )))
	mv "$f" "$RELAY_HOME/queue/msg/$other/$id"
	start_daemon
	wait_for test -e "$RELAY_HOME/queue/corrupt/$id"
	logged "event=corrupt id=$id .*wrong bucket"
	alive
}

@test "relay-bounce that does not take every failure record: the message stays queued, nothing lost" {
	start_server --mail-reply '550 5.7.1 refused'
	pool main failover 127.0.0.1:$PORT
	export RELAYBOUNCE=$BATS_TEST_TMPDIR/fake-bounce
	# reads nothing, says it queued a DSN
	printf '#!/bin/sh\nexec 3<&-\nexit 0\n' > "$RELAYBOUNCE"; chmod +x "$RELAYBOUNCE"
	rcpts=$(for i in $(seq 1500); do printf 'user-with-a-long-name-%s@example.net ' "$i"; done)
	printf 'Subject: x\n\nhi\n' | relay-inject -f s@example.org $rcpts
	run relay-send -1 -w 1
	echo "$output" | grep -v '^event=failed' | tail -5
	[ "$(queue_count)" -eq 1 ]
	assert_line --partial 'unable to write the failure records to relay-bounce'
	refute_line --partial 'event=bounced'
}


@test "workers that die are replaced (with a back-off when they die at once); the daemon never exits for it" {
	start_server
	pool main failover 127.0.0.1:$PORT
	start_daemon
	for round in 1 2 3; do
		kids=$(pgrep -P "$DAEMON" || true)
		[ -n "$kids" ]
		kill -9 $kids
		wait_for gone $kids
		wait_for exits_logged $((round * 2))
		alive
		send_one m$round
		wait_for recorded "$SRV" $round || { cat "$BATS_TEST_TMPDIR/log"; false; }
	done
	alive
}

# the fault shim (tests/c/faults.c); ASan must not insist on coming first
faults() { env LD_PRELOAD="$RELAY_BUILD/tests/libfaults.so" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" "$@"; }
info_of() { echo "$RELAY_HOME/queue/info/${1:14:2}/$1"; }
# nothing half-written: no info file, an empty one, or whole lines
whole_lines() { [ ! -s "$1" ] || [ "$(tail -c 1 "$1" | od -An -tx1 | tr -d ' ')" = 0a ]; }

@test "appending the F lines fails part-way (ENOSPC): no half line, no DSN, still queued; the next run records them whole and queues the DSN" {
	start_server --rcpt-reply 'a@example.net=550 5.1.1 no such user a' --rcpt-reply 'b@example.net=550 5.1.1 no such user b'
	pool main failover 127.0.0.1:$PORT
	printf 'Subject: f\n\nhi\n' | relay-inject -f s@example.org a@example.net b@example.net
	id=$(basename "$(queue_last)")
	run faults env FAULT_WRITE_MATCH=/queue/info/ FAULT_WRITE_AFTER=20 relay-send -1
	assert_line --partial "unable to record outcomes of $id"
	refute_line --partial 'event=bounced'
	[ "$(queue_count)" -eq 1 ]
	whole_lines "$(info_of "$id")"
	run grep -c '^F' "$(info_of "$id")"
	[ "${output:-0}" = 0 ]
	# the disk is back: both failures recorded whole, one DSN, the message done
	run relay-send -1
	assert_success
	assert_line --regexp "^event=bounced id=$id recipients=2"
	[ ! -e "$RELAY_HOME/queue/msg/${id:14:2}/$id" ]
}

@test "the fsync after the F lines fails (EIO): the lines are cut back, no DSN, still queued; then recorded and bounced" {
	start_server --rcpt-reply 'a@example.net=550 5.1.1 no such user a'
	pool main failover 127.0.0.1:$PORT
	printf 'Subject: f\n\nhi\n' | relay-inject -f s@example.org a@example.net
	id=$(basename "$(queue_last)")
	run faults env FAULT_FSYNC_MATCH=/queue/info/ relay-send -1
	assert_line --partial "unable to record outcomes of $id"
	refute_line --partial 'event=bounced'
	run grep -c '^F' "$(info_of "$id")"
	[ "${output:-0}" = 0 ]
	run relay-send -1
	assert_line --regexp "^event=bounced id=$id recipients=1"
}

@test "fork failing while workers are replaced: logged, retried with a back-off, never an exit; then delivered" {
	start_server
	pool main failover 127.0.0.1:$PORT
	# (not through the function: $! must be relay-send itself)
	env LD_PRELOAD="$RELAY_BUILD/tests/libfaults.so" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		FAULT_FORK_FILE="$BATS_TEST_TMPDIR/fork-fails" relay-send -w 2 > "$BATS_TEST_TMPDIR/log" 2>&1 &
	DAEMON=$!
	wait_for grep -q '^event=start' "$BATS_TEST_TMPDIR/log"
	touch "$BATS_TEST_TMPDIR/fork-fails"
	kids=$(pgrep -P "$DAEMON")
	kill -9 $kids
	wait_for gone $kids
	wait_for fork_failures 3
	alive
	send_one m1
	rm "$BATS_TEST_TMPDIR/fork-fails"
	wait_for recorded "$SRV" 1
	alive
}
fork_failures() { [ "$(grep -c 'unable to fork a worker' "$BATS_TEST_TMPDIR/log")" -ge "$1" ]; }
