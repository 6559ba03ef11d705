#!/usr/bin/env bats
# not tested: real power loss (page cache loss); a crash is simulated by SIGKILL at each step and by injected faults.
load helper

setup() { relay_home; }

body_ok() {   # body_ok FILE: the queue file parses and its message is whole
	head -1 "$1" | grep -qx RQ1 && grep -q $'^end-of-message\r$' "$1"
}

inject_msg() {
	printf 'Subject: crash\n\n%s\nend-of-message\n' "$(head -c 3000 /dev/zero | tr '\0' x | fold -w 70)" |
		relay-inject -v "$@" b@example.net
}

@test "kill -9 before publishing leaves nothing visible; the caller gets 111" {
	for point in queue-created queue-written queue-synced; do
		RELAY_CRASH_AT=$point run inject_msg
		assert_failure 111
		assert_output --partial "crashed (signal 9)"
		[ "$(queue_count)" -eq 0 ]
		run relay-qctl list
		assert_output ""
	done
	# the leftovers are in tmp/ only, for relay-send's clean-up
	[ "$(ls "$RELAY_HOME/queue/tmp" | wc -l)" -le 3 ]
}

@test "kill -9 after publishing leaves one whole message" {
	for point in queue-published queue-dirsynced; do
		rm -rf "$RELAY_HOME"/queue/msg/*/*
		RELAY_CRASH_AT=$point run inject_msg
		assert_failure 111
		[ "$(queue_count)" -eq 1 ]
		body_ok "$(queue_last)"
		[ -z "$(ls "$RELAY_HOME/queue/tmp")" ]
	done
}

@test "fsync failure: temporary exit, nothing half-visible, earlier messages untouched" {
	inject_msg
	before=$(md5sum "$(queue_last)")
	RELAY_FAIL_FSYNC=1 run inject_msg
	assert_failure 111
	assert_output --partial "unable to fsync"
	[ "$(queue_count)" -eq 1 ]
	[ -z "$(ls "$RELAY_HOME/queue/tmp")" ]
	[ "$(md5sum "$(queue_last)")" = "$before" ]
}

@test "kill -9 at random moments: every message acknowledged with 0 is whole" {
	export -f inject_msg
	# a session of its own, so the kills reach only this test's processes
	setsid bash -c 'for i in $(seq 300); do inject_msg 2>/dev/null || true; done' > "$BATS_TEST_TMPDIR/ids" &
	loop=$!
	for k in $(seq 60); do
		sleep 0.0$((RANDOM % 9 + 1))
		pkill -9 -s "$loop" -x relay-queue || true
	done
	wait $loop || true
	n=0
	while read -r id; do
		[ -n "$id" ] || continue
		f="$RELAY_HOME/queue/msg/${id:14:2}/$id"
		body_ok "$f"
		n=$((n + 1))
	done < "$BATS_TEST_TMPDIR/ids"
	[ "$n" -ge 10 ]
	# nothing listed is half a message
	for f in $(find "$RELAY_HOME/queue/msg" -type f); do body_ok "$f"; done
}

@test "disk full (a small tmpfs): 111 with a clear line, nothing half-visible, earlier messages intact" {
	[ "$(id -u)" -eq 0 ] || skip "needs root for a private mount namespace"
	command -v unshare >/dev/null || skip "no unshare"
	run unshare -m bash -c '
		set -e
		q="$RELAY_HOME/queue"
		mount -t tmpfs -o size=64k tmpfs "$q"
		mkdir -p "$q/tmp" "$q/hold" "$q/corrupt"
		for i in $(seq 0 255); do mkdir -p "$q/msg/$(printf %02x $i)" "$q/info/$(printf %02x $i)"; done
		ok=0; st=0
		for i in $(seq 40); do
			if printf "Subject: full\n\n%s\nend-of-message\n" "$(head -c 6000 /dev/zero | tr "\0" y | fold -w 70)" |
				relay-inject b@example.net 2>"$BATS_TEST_TMPDIR/err"; then ok=$((ok+1)); else st=$?; break; fi
		done
		echo "ok=$ok st=$st"
		cat "$BATS_TEST_TMPDIR/err"
		[ "$st" -eq 111 ]
		[ -z "$(ls $q/tmp)" ]
		[ "$(find $q/msg -type f | wc -l)" -eq "$ok" ]
		for f in $(find $q/msg -type f); do grep -q $'"'"'^end-of-message\r$'"'"' "$f"; done
	'
	echo "$output"
	assert_success
	assert_output --partial "No space left on device"
}
