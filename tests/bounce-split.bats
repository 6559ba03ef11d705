#!/usr/bin/env bats
# not tested: 100,000 recipients (RCPT_MAX) in one call; the suppression of that many at once (one rewrite of the list per address).
load helper

setup() {
	export RELAY_HOME="$BATS_TEST_TMPDIR/home"
	mkdir -p "$RELAY_HOME/etc"
	export FAKEQ_DIR="$BATS_TEST_TMPDIR/q"
	export RELAYQUEUE="$TESTS/fake-relay-queue"
	unset FAKEQ_EXIT
	printf '%s\n' 'hostname relay.test' | "$TESTS/mkcdb" "$RELAY_HOME/etc/settings.cdb"
	QF="$BATS_TEST_TMPDIR/qf"
	REC="$BATS_TEST_TMPDIR/rec"
	printf 'RQ1\nA1700000000\nCdefault\nFalice@example.com\nTbob@example.net\n\nFrom: Alice <alice@example.com>\r\nSubject: s\r\n\r\nbody\r\n' > "$QF"
}

# records N: N failed recipients (a policy refusal: not suppressed)
records() {
	/usr/bin/python3 -c '
import sys
for i in range(int(sys.argv[1])):
    print("r%d@example.net\tfailed\t5.7.1\tmx.example.net\t550 5.7.1 policy\t1700000100" % i)
' "$1" > "$REC"
}

@test "dsn: more than 10000 failed recipients are split over several DSNs, every one reported, exit 0" {
	records 10001
	run bash -c 'relay-bounce dsn <"$1" 3<"$2"' _ "$QF" "$REC"
	echo "$output"
	assert_success
	[ "$(find "$FAKEQ_DIR" -name message | wc -l)" -eq 2 ]
	[ "$(cat "$FAKEQ_DIR"/*/message | grep -c '^Final-Recipient: ')" -eq 10001 ]
	grep -q '^Final-Recipient: rfc822; r0@example.net' "$FAKEQ_DIR/1/message"
	grep -q '^Final-Recipient: rfc822; r10000@example.net' "$FAKEQ_DIR/2/message"
	for m in "$FAKEQ_DIR"/*/message; do
		run /usr/bin/python3 "$TESTS/dsn-parse" "$m"
		assert_line 'defects=0'
	done
	[ "$(tr '\0' '|' < "$FAKEQ_DIR/2/envelope")" = "F|Talice@example.com||" ]
}

@test "dsn: a split DSN that cannot be queued is temporary (111): the records stay for the next attempt" {
	records 10001
	export FAKEQ_EXIT=53
	run bash -c 'relay-bounce dsn <"$1" 3<"$2"' _ "$QF" "$REC"
	assert_failure 111
}
