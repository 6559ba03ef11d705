#!/usr/bin/env bats
# not tested: the setuid install (a caller's uid other than the queue owner's; tests/install*.bats run it installed).
load helper

setup() { relay_home; }

@test "relay-queue called directly adds a Received: line with the caller's real uid, above a forged one" {
	printf 'Received: (relay-inject invoked by uid 0);\n\tMon, 1 Jan 2024 00:00:00 +0000\nSubject: q\n\nbody\n' > "$BATS_TEST_TMPDIR/msg"
	printf 'Fa@example.org\0Tb@example.net\0\0' > "$BATS_TEST_TMPDIR/env"
	run bash -c 'relay-queue <"$0" 1<"$1"' "$BATS_TEST_TMPDIR/msg" "$BATS_TEST_TMPDIR/env"
	assert_success
	f=$(queue_last)
	run sed '1,/^$/d' "$f"
	assert_line --index 0 --regexp "^Received: \\(relay-queue invoked by uid $(id -u)\\);"$'\r'"?$"
	assert_line --index 1 --regexp $'^\t[A-Z][a-z][a-z], '
	assert_line --index 2 --partial 'invoked by uid 0'
}

@test "a message through relay-inject carries relay-queue's trace first, then relay-inject's" {
	printf 'Subject: q\n\nbody\n' | relay-inject -f a@example.org b@example.net
	run sed '1,/^$/d' "$(queue_last)"
	assert_line --index 0 --partial "(relay-queue invoked by uid $(id -u));"
	assert_line --index 2 --partial "(relay-inject invoked by uid $(id -u));"
}
