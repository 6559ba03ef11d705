#!/usr/bin/env bats
# not tested: a file changed in place with its length kept (the L record is a length, not a checksum).
load helper
load smtp_helper

setup() { relay_home; relay_setting smtp_timeout 5s; }
teardown() { stop_servers; }

@test "relay-queue records the message length (L) as the last envelope line" {
	printf 'Subject: s\n\nbody\n' | relay-inject -f a@example.org b@example.net
	f=$(queue_last)
	len=$(grep '^L' "$f" | cut -c2-)
	[ "$(sed -n '/^$/=' "$f" | head -1)" -eq "$(( $(grep -n '^L' "$f" | cut -d: -f1) + 1 ))" ]
	off=$(awk 'BEGIN{n=0} {n += length($0) + 1} /^$/ {print n; exit}' "$f")
	[ "$(stat -c %s "$f")" -eq $((off + len)) ]
}

@test "a truncated queue file is quarantined and logged, never delivered truncated" {
	grep -q 'queue_check_body' "$BATS_TEST_DIRNAME/../lib/send/attempt.c" ||
		skip "needs the call-site change in lib/send/attempt.c (queue_check_body)"
	start_server
	echo "main failover 127.0.0.1:$PORT" >> "$RELAY_HOME/etc/pools"
	echo "default main" >> "$RELAY_HOME/etc/routes"
	relay-config -d "$RELAY_HOME"
	{ printf 'Subject: s\n\n'; seq 1000; } | relay-inject -f a@example.org b@example.net
	f=$(queue_last)
	id=$(basename "$f")
	truncate -s -100 "$f"
	run relay-send -1
	echo "$output"
	assert_line --partial "event=corrupt id=$id"
	assert_line --partial "truncated"
	[ -f "$RELAY_HOME/queue/corrupt/$id" ]
	[ "$(msgs)" -eq 0 ]
}
