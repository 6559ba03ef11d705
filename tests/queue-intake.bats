#!/usr/bin/env bats
# not tested: -t recipients with quoted local parts from a real MUA (the header path uses the same addr_check).
load helper

setup() { relay_home; printf 'Subject: q\n\nbody\n' > "$BATS_TEST_TMPDIR/msg"; }

rq() {
	printf "$1" > "$BATS_TEST_TMPDIR/env"
	run bash -c 'relay-queue <"$0" 1<"$1"' "$BATS_TEST_TMPDIR/msg" "$BATS_TEST_TMPDIR/env"
}

@test "a quoted local part that relay-send cannot send is refused at intake, not accepted and lost" {
	run relay-inject -f '"john smith"@b.example' to@example.net < "$BATS_TEST_TMPDIR/msg"
	assert_failure 100
	assert_output --partial "cannot be sent"
	run relay-inject -f app@example.org '"a b"@example.net' < "$BATS_TEST_TMPDIR/msg"
	assert_failure 100
	[ "$(queue_count)" -eq 0 ]
	# relay-queue called directly refuses it too (one grammar)
	rq 'F"john smith"@b.example\0Tb@example.net\0\0'
	assert_failure 91
	[ "$(queue_count)" -eq 0 ]
	# a quoted local part without space or brackets is sendable and accepted
	run relay-inject -f '"john.smith"@b.example' to@example.net < "$BATS_TEST_TMPDIR/msg"
	assert_success
	grep -q '^F"john.smith"@b.example$' "$(queue_last)"
}

@test "an LF inside an argument address is refused, not read as a second recipient" {
	run relay-inject -f app@example.org $'u@x.example\nRCPT TO:<evil@x.example>' < "$BATS_TEST_TMPDIR/msg"
	assert_failure 100
	assert_output --partial "control character"
	run relay-inject -f $'app@example.org\nRCPT TO:<evil@x.example>' u@x.example < "$BATS_TEST_TMPDIR/msg"
	assert_failure 100
	[ "$(queue_count)" -eq 0 ]
}

@test "an X-Relay-Class over 63 octets is refused, not cut to another class" {
	c=$(printf 'c%.0s' $(seq 64))
	run bash -c "printf 'X-Relay-Class: $c\nSubject: s\n\nx\n' | relay-inject b@example.net"
	assert_failure 100
	assert_output --partial "longer than 63"
	[ "$(queue_count)" -eq 0 ]
	run bash -c "printf 'X-Relay-Class: ${c:1}\nSubject: s\n\nx\n' | relay-inject b@example.net"
	assert_success
	grep -q "^C${c:1}\$" "$(queue_last)"
}
