#!/usr/bin/env bats
# not tested: a file size limit hit while relay-send appends an info file (relay-send's own).
load helper

setup() { relay_home; }

@test "a file size limit (ulimit -f, SIGXFSZ) is a temporary write error (53) and leaves no tmp file" {
	{ printf 'Subject: big\n\n'; head -c 200000 /dev/zero | tr '\0' x | fold -w 70; } > "$BATS_TEST_TMPDIR/msg"
	printf 'Fa@example.org\0Tb@example.net\0\0' > "$BATS_TEST_TMPDIR/env"
	run bash -c 'ulimit -f 16; relay-queue <"$0" 1<"$1"' "$BATS_TEST_TMPDIR/msg" "$BATS_TEST_TMPDIR/env"
	echo "$output"
	assert_failure 53
	assert_output --partial "File too large"
	[ -z "$(ls "$RELAY_HOME/queue/tmp")" ]
	[ "$(queue_count)" -eq 0 ]
}
