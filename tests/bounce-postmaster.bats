#!/usr/bin/env bats
# not tested: a postmaster@hostname that relay-send then cannot reach (that DSN is a triple bounce, dropped as below).
load helper

setup() {
	export RELAY_HOME="$BATS_TEST_TMPDIR/home"
	mkdir -p "$RELAY_HOME/etc"
	export FAKEQ_DIR="$BATS_TEST_TMPDIR/q"
	export RELAYQUEUE="$TESTS/fake-relay-queue"
	unset FAKEQ_EXIT
	settings 'hostname relay.test'
	QF="$BATS_TEST_TMPDIR/qf"
	REC="$BATS_TEST_TMPDIR/rec"
}

settings() { printf '%s\n' "$@" | "$TESTS/mkcdb" "$RELAY_HOME/etc/settings.cdb"; }

# queuefile SENDER RCPT
queuefile() {
	printf 'RQ1\nA1700000000\nCdefault\nF%s\nT%s\n\nFrom: <x@example.com>\r\nSubject: s\r\n\r\nbody\r\n' "$1" "$2" > "$QF"
}

bounce_dsn() {
	printf '%s\tfailed\t5.1.1\t\t550 5.1.1 no such user\t1700000100\n' "$1" > "$REC"
	run bash -c 'relay-bounce dsn <"$1" 3<"$2"' _ "$QF" "$REC"
}

@test "dsn: a double bounce goes to the default postmaster@hostname when no postmaster is set" {
	queuefile "" bob@example.net
	bounce_dsn bob@example.net
	assert_success
	[ "$(tr '\0' '|' < "$FAKEQ_DIR/1/envelope")" = "F|Tpostmaster@relay.test||" ]
	grep -q '^To: <postmaster@relay.test>' "$FAKEQ_DIR/1/message"
}

@test "dsn: an explicit postmaster wins over the default" {
	settings 'hostname relay.test' 'postmaster pm@example.org'
	queuefile "" bob@example.net
	bounce_dsn bob@example.net
	assert_success
	[ "$(tr '\0' '|' < "$FAKEQ_DIR/1/envelope")" = "F|Tpm@example.org||" ]
}

@test "dsn: a failed double bounce to the postmaster (a triple bounce) is dropped with a log line, exit 0" {
	queuefile "" postmaster@relay.test
	bounce_dsn postmaster@relay.test
	assert_success
	assert_output --partial 'triple bounce'
	assert_output --partial 'dropped'
	[ ! -e "$FAKEQ_DIR/attempts" ]
}
