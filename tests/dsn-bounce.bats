#!/usr/bin/env bats
# not tested: ORCPT address types other than rfc822 beyond their text; a report of more than DSN_RECORDS_MAX wanted records (tests/bounce-split.bats covers the split).
load helper

PY=/usr/bin/python3

setup() {
	export RELAY_HOME="$BATS_TEST_TMPDIR/home"
	mkdir -p "$RELAY_HOME/etc"
	export FAKEQ_DIR="$BATS_TEST_TMPDIR/q"
	export RELAYQUEUE="$TESTS/fake-relay-queue"
	printf '%s\n' 'hostname relay.test' | "$TESTS/mkcdb" "$RELAY_HOME/etc/settings.cdb"
	QF="$BATS_TEST_TMPDIR/qf"
	REC="$BATS_TEST_TMPDIR/rec"
}

# queuefile ENVELOPE-LINES: a queue file from alice@example.com with these
# lines after F (DSN records and T lines)
queuefile() {
	printf 'RQ1\nA1700000000\nCdefault\nFalice@example.com\n%s\n\n' "$1" > "$QF"
	printf 'From: Alice <alice@example.com>\r\nTo: bob@example.net\r\nSubject: quarterly report\r\n\r\nHello Bob,\r\nthe numbers.\r\n' >> "$QF"
}

# record RCPT ACTION STATUS [DIAG]
record() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" mx.example.net "${4:-550 5.1.1 no such user}" 1700000100 >> "$REC"
}

bounce_dsn() { run bash -c 'relay-bounce dsn <"$1" 3<"$2"' _ "$QF" "$REC"; }

parse() {
	run "$PY" "$TESTS/dsn-parse" "$FAKEQ_DIR/${1:-1}/message"
	echo "$output"
	assert_success
	assert_line 'defects=0'
}

queued() { find "$FAKEQ_DIR" -name message 2>/dev/null | wc -l; }

@test "NOTIFY=NEVER: no report for that recipient; all NEVER: none at all, logged, exit 0" {
	queuefile $'NNEVER\nTbob@example.net\nNNEVER\nTcarol@example.org'
	record bob@example.net failed 5.1.1
	record carol@example.org failed 5.1.1
	bounce_dsn
	assert_success
	assert_output --partial 'NOTIFY (RFC 3461) asks for no report of these recipients: dropped'
	[ "$(queued)" -eq 0 ]
	# a recipient without NOTIFY beside one with NEVER: only it is reported
	queuefile $'NNEVER\nTbob@example.net\nTcarol@example.org'
	bounce_dsn
	assert_success
	[ "$(queued)" -eq 1 ]
	parse
	assert_line 'ds1:Final-Recipient=rfc822; carol@example.org'
	refute_output --partial 'bob@example.net>'
	refute_output --regexp 'ds2:'
}

@test "NOTIFY without FAILURE: no failure report; with FAILURE: one" {
	queuefile $'NSUCCESS,DELAY\nTbob@example.net\nNFAILURE\nTcarol@example.org'
	record bob@example.net failed 5.1.1
	record carol@example.org failed 5.1.1
	bounce_dsn
	assert_success
	parse
	assert_line 'ds1:Final-Recipient=rfc822; carol@example.org'
	refute_output --regexp 'ds2:'
}

@test "delay warnings: sent for no NOTIFY and for NOTIFY with DELAY, not for NOTIFY=FAILURE" {
	queuefile $'NFAILURE\nTbob@example.net\nNDELAY\nTcarol@example.org\nTdave@example.org'
	record bob@example.net delayed 4.4.1 '421 try later'
	record carol@example.org delayed 4.4.1 '421 try later'
	record dave@example.org delayed 4.4.1 '421 try later'
	bounce_dsn
	assert_success
	parse
	assert_line 'h:Subject=Delayed Mail (still being retried)'
	assert_line 'ds1:Final-Recipient=rfc822; carol@example.org'
	assert_line 'ds2:Final-Recipient=rfc822; dave@example.org'
	assert_line 'ds2:Action=delayed'
	refute_output --partial 'Final-Recipient=rfc822; bob'
}

@test "RET=HDRS returns only the header section; RET=FULL and no RET the whole message" {
	queuefile $'RHDRS\nTbob@example.net'
	record bob@example.net failed 5.1.1
	bounce_dsn
	assert_success
	parse 1
	assert_line 'part3=text/rfc822-headers'
	assert_line 'part3:h:Subject=quarterly report'
	refute_output --partial 'the numbers'
	queuefile $'RFULL\nTbob@example.net'
	bounce_dsn
	parse 2
	assert_line 'part3=message/rfc822'
	assert_line 'part3:body=Hello Bob,|the numbers.|'
}

@test "ENVID comes back as Original-Envelope-Id, ORCPT as Original-Recipient per recipient (xtext decoded)" {
	queuefile $'EQQ+2B314+20x\nOrfc822;B+2Bob@Example.NET\nTbob@example.net\nTcarol@example.org\nNFAILURE\nOrfc822;dave+40old@example.org\nTdave@example.org'
	record bob@example.net failed 5.1.1
	record carol@example.org failed 5.1.1
	record dave@example.org failed 5.1.1
	bounce_dsn
	assert_success
	parse
	assert_line 'ds0:Original-Envelope-Id=QQ+314 x'
	assert_line 'ds0:headers=Original-Envelope-Id,Reporting-MTA,Arrival-Date'
	assert_line 'ds1:Original-Recipient=rfc822; B+ob@Example.NET'
	assert_line 'ds1:headers=Original-Recipient,Final-Recipient,Action,Status,Remote-MTA,Diagnostic-Code,Last-Attempt-Date'
	assert_line 'ds2:Final-Recipient=rfc822; carol@example.org'
	refute_line --regexp '^ds2:Original-Recipient'
	assert_line 'ds3:Original-Recipient=rfc822; dave@old@example.org'
	assert_line 'ds3:Final-Recipient=rfc822; dave@example.org'
}

@test "the same address twice: each record gets its own recipient's parameters, in order" {
	queuefile $'NNEVER\nTbob@example.net\nOrfc822;second\nTbob@example.net'
	record bob@example.net failed 5.1.1
	record bob@example.net failed 5.1.1
	bounce_dsn
	assert_success
	parse
	assert_line 'ds1:Original-Recipient=rfc822; second'
	refute_output --regexp 'ds2:'
}

@test "relayed (RFC 3461 6.2.2): reported for NOTIFY=SUCCESS, headers only; not without SUCCESS" {
	queuefile $'EID1\nNSUCCESS\nOrfc822;bob@example.net\nTbob@example.net\nNFAILURE\nTcarol@example.org\nTdave@example.org'
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' bob@example.net relayed 2.0.0 mx.example.net '250 2.0.0 ok' 1700000100 >> "$REC"
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' carol@example.org relayed 2.0.0 mx.example.net '250 2.0.0 ok' 1700000100 >> "$REC"
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' dave@example.org relayed 2.0.0 mx.example.net '250 2.0.0 ok' 1700000100 >> "$REC"
	bounce_dsn
	assert_success
	parse
	assert_line 'h:Subject=Relayed Mail (no delivery report will follow)'
	assert_line 'ds0:Original-Envelope-Id=ID1'
	assert_line 'ds1:Original-Recipient=rfc822; bob@example.net'
	assert_line 'ds1:Action=relayed'
	assert_line 'ds1:Status=2.0.0'
	refute_output --regexp 'ds2:'
	assert_line 'part3=text/rfc822-headers'
	# a relayed record must say 2.x.x
	: > "$REC"
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' bob@example.net relayed 5.0.0 mx.example.net 'x' 1700000100 >> "$REC"
	bounce_dsn
	assert_failure
	assert_output --partial 'bad status code'
}

@test "a queue file with a malformed DSN record is refused (permanent), no report" {
	queuefile $'Ebad=envid\nTbob@example.net'
	record bob@example.net failed 5.1.1
	bounce_dsn
	[ "$status" -eq 100 ]
	assert_output --partial 'ENVID is not xtext'
	[ "$(queued)" -eq 0 ]
}

@test "a relayed report for a message from <> goes nowhere (never to the postmaster)" {
	printf 'RQ1\nA1700000000\nCdefault\nF\nNSUCCESS\nTbob@example.net\n\nSubject: x\r\n\r\nbody\r\n' > "$QF"
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' bob@example.net relayed 2.0.0 mx.example.net '250 ok' 1700000100 >> "$REC"
	bounce_dsn
	assert_success
	assert_output --partial 'dropped'
	[ "$(queued)" -eq 0 ]
}
