#!/usr/bin/env bats
# not tested: a RELAYQUEUE filter that passes fd 1 on (RELAYQUEUE_DSN=1 is only seen reaching the filter), ORCPT with non-rfc822 address types at the far end, BDAT.
load helper
load smtpd_helper
load smtp_helper

setup() {
	relay_home
	Q="$BATS_TEST_TMPDIR/q"
}
teardown() { smtpd_stop; stop_servers; }

# env_of FILE: the envelope lines of a queue file
env_of() { sed '/^$/q' "$1"; }

# qenv PRINTF-FORMAT: run relay-queue with that envelope on fd 1
qenv() {
	printf 'Subject: x\n\nbody\n' > "$BATS_TEST_TMPDIR/m"
	printf "$1" > "$BATS_TEST_TMPDIR/e"
	run bash -c 'relay-queue <"$0" 1<"$1"' "$BATS_TEST_TMPDIR/m" "$BATS_TEST_TMPDIR/e"
}

@test "relay-inject -N -R -V: stored as N, R and E records in their places; plain -V text is encoded" {
	printf 'Subject: x\n\nbody\n' | relay-inject -N success,Failure -R hdrs -V 'id 42=x' -f a@example.org b@example.net c@example.com
	run env_of "$(queue_last)"
	assert_line --index 3 'Fa@example.org'
	assert_line --index 4 'Eid+2042+3Dx'
	assert_line --index 5 'RHDRS'
	assert_line --index 6 'NSUCCESS,FAILURE'
	assert_line --index 7 'Tb@example.net'
	assert_line --index 8 'NSUCCESS,FAILURE'
	assert_line --index 9 'Tc@example.com'
	# xtext given as xtext is kept as it is
	printf 'Subject: x\n\nbody\n' | relay-inject -V 'a+2Bb' -N never -f a@example.org b@example.net
	run env_of "$(queue_last)"
	assert_line 'Ea+2Bb'
	assert_line 'NNEVER'
	refute_line --regexp '^R(FULL|HDRS)'
}

@test "relay-inject: a message without DSN options has no DSN records (the format of before)" {
	printf 'Subject: x\n\nbody\n' | relay-inject -f a@example.org b@example.net
	run env_of "$(queue_last)"
	assert_output --regexp $'^RQ1\nA[0-9]+\nCdefault\nFa@example.org\nTb@example.net\nL[0-9]+$'
}

@test "relay-inject: bad -N, -R or -V is refused (100), nothing queued" {
	inject() {
		run relay-inject "$@" -f a@example.org b@example.net <<<'Subject: x'
		[ "$status" -eq 100 ] || { echo "status $status for $*: $output"; return 1; }
	}
	inject -N sometimes
	inject -N success,never
	inject -N failure,failure
	inject -N failure,
	inject -R body
	inject -V "$(printf 'a\tb')"
	inject -V "$(printf '%0101d' 0)"
	[ "$(queue_count)" -eq 0 ]
}

@test "a RELAYQUEUE filter gets qmail-queue's envelope unchanged, unless RELAYQUEUE_DSN=1" {
	export FAKEQ_DIR="$Q" RELAYQUEUE="$TESTS/fake-relay-queue"
	printf 'Subject: x\n\nbody\n' | relay-inject -N never -R full -f a@example.org b@example.net
	run cat -v "$Q/1/envelope"
	assert_output 'Fa@example.org^@Tb@example.net^@^@'
	RELAYQUEUE_DSN=1 sh -c "printf 'Subject: x\n\nbody\n' | relay-inject -N never -R full -f a@example.org b@example.net"
	run cat -v "$Q/2/envelope"
	assert_output 'Fa@example.org^@RFULL^@NNEVER^@Tb@example.net^@^@'
}

@test "relay-queue: good DSN items are written as lines; old envelopes unchanged" {
	qenv 'Fa@example.org\0Eab+2Bc\0Rhdrs\0Ndelay,failure\0Ortc822;b+40x\0Tb@example.net\0Tc@example.net\0\0'
	assert_success
	run env_of "$(queue_last)"
	assert_line --index 4 'Eab+2Bc'
	assert_line --index 5 'RHDRS'
	assert_line --index 6 'NFAILURE,DELAY'
	assert_line --index 7 'Ortc822;b+40x'
	assert_line --index 8 'Tb@example.net'
	assert_line --index 9 'Tc@example.net'
}

@test "relay-queue: malformed or misplaced DSN items are refused with 91 and a clear reason, nothing queued" {
	check91() {
		qenv "$1"
		[ "$status" -eq 91 ] || { echo "status $status for $1: $output"; return 1; }
		[[ "$output" == *"$2"* ]] || { echo "for $1: $output (want $2)"; return 1; }
	}
	check91 'Fa@b.example\0Ea=b\0Tb@example.net\0\0' 'ENVID is not xtext'
	check91 'Fa@b.example\0Ea+0Ab\0Tb@example.net\0\0' 'ENVID decodes to a control'
	check91 'Fa@b.example\0Ea+4a\0Tb@example.net\0\0' 'ENVID is not xtext'
	check91 "Fa@b.example\0E$(printf '%0101d' 0)\0Tb@example.net\0\0" 'longer than 100'
	check91 'Fa@b.example\0Rbody\0Tb@example.net\0\0' 'RET must be FULL or HDRS'
	check91 'Fa@b.example\0Rfull\0Rhdrs\0Tb@example.net\0\0' 'RET record twice'
	check91 'Fa@b.example\0Tb@example.net\0Rfull\0\0' 'after a recipient'
	check91 'Nnever\0Fa@b.example\0Tb@example.net\0\0' 'before the sender'
	check91 'Fa@b.example\0Nsometimes\0Tb@example.net\0\0' 'NOTIFY must be'
	check91 'Fa@b.example\0Nnever\0Nnever\0Tb@example.net\0\0' 'NOTIFY record twice'
	check91 'Fa@b.example\0Tb@example.net\0Nnever\0\0' 'without its recipient'
	check91 'Fa@b.example\0Ob@example.net\0Tb@example.net\0\0' 'addr-type;xtext'
	check91 'Fa@b.example\0Orfc 822;b\0Tb@example.net\0\0' 'not an atom'
	check91 'Fa@b.example\0Orfc822;b+0D+0Ax\0Tb@example.net\0\0' 'control or non-ASCII'
	check91 'Fa@b.example\0Nnev\001er\0Tb@example.net\0\0' 'NOTIFY must be'
	check91 'Fa@b.example\0Enot-terminated' 'not terminated'
	[ "$(queue_count)" -eq 0 ]
	[ -z "$(ls "$RELAY_HOME/queue/tmp")" ]
}

# smtplib into relay-smtpd under tcpserver, with DSN parameters
smtp_dsn() {
	python3 - "$SPORT" "$@" <<'PY'
import smtplib, sys
port = int(sys.argv[1])
s = smtplib.SMTP("127.0.0.1", port)
s.ehlo("client.test")
assert s.has_extn("dsn"), s.esmtp_features
code, msg = s.mail("a@example.org", ["RET=HDRS", "ENVID=QQ+2B314"])
print("mail", code)
for spec in sys.argv[2:]:
    rcpt, _, opts = spec.partition(" ")
    code, msg = s.rcpt(rcpt, opts.split() if opts else [])
    print("rcpt", rcpt, code, msg.decode())
try:
    code, msg = s.data(b"Subject: dsn\r\n\r\nbody\r\n")
    print("data", code)
except smtplib.SMTPException as e:
    print("data", e)
s.quit()
PY
}

@test "relay-smtpd: MAIL RET= ENVID= and RCPT NOTIFY= ORCPT= are stored with the message" {
	relay_client 127.0.0.0/8
	smtpd_start
	run smtp_dsn "b@example.net NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b+2Bx@example.net" \
		"c@example.net" "d@example.net NOTIFY=never"
	assert_line 'mail 250'
	assert_line 'data 250'
	run env_of "$(queue_last)"
	assert_line --index 4 'EQQ+2B314'
	assert_line --index 5 'RHDRS'
	assert_line --index 6 'NSUCCESS,FAILURE'
	assert_line --index 7 'Orfc822;b+2Bx@example.net'
	assert_line --index 8 'Tb@example.net'
	assert_line --index 9 'Tc@example.net'
	assert_line --index 10 'NNEVER'
	assert_line --index 11 'Td@example.net'
}

@test "relay-smtpd: an ORCPT that relay-queue would refuse is refused at RCPT (501), the others go on" {
	relay_client 127.0.0.0/8
	smtpd_start
	run smtp_dsn "b@example.net ORCPT=rfc822;b+0Ax@example.net" "c@example.net"
	assert_line --partial 'rcpt b@example.net 501 5.5.4 ORCPT address decodes to a control'
	assert_line 'data 250'
	run env_of "$(queue_last)"
	refute_line --partial 'b@example.net'
	assert_line 'Tc@example.net'
}

# the next hop: tests/smtp-test-server, with or without DSN
upstream() {
	start_server "$@"
	echo "main failover 127.0.0.1:$PORT" >> "$RELAY_HOME/etc/pools"
	echo "default main" >> "$RELAY_HOME/etc/routes"
	relay-config -d "$RELAY_HOME" >/dev/null
}

@test "relay-send: to a next hop that offers DSN, MAIL carries RET= ENVID=, RCPT NOTIFY= ORCPT= as queued" {
	upstream --dsn
	relay_client 127.0.0.0/8
	smtpd_start
	run smtp_dsn "b@example.net NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b+2Bx@example.net" "c@example.net"
	assert_line 'data 250'
	run relay-send -1 -w 1
	assert_success
	run grep -E 'MAIL|RCPT' "$SRV/log"
	assert_line --regexp 'MAIL FROM:<a@example.org>.* RET=HDRS ENVID=QQ\+2B314$'
	assert_line --regexp 'RCPT TO:<b@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b\+2Bx@example.net$'
	assert_line --regexp 'RCPT TO:<c@example.net>$'
	[ "$(queue_count)" -eq 0 ]
}

@test "relay-send: to a next hop that does not offer DSN, no DSN parameter is sent" {
	upstream
	printf 'Subject: x\n\nbody\n' | relay-inject -N failure -R full -V env1 -f a@example.org b@example.net
	run relay-send -1 -w 1
	assert_success
	run grep -E 'MAIL|RCPT' "$SRV/log"
	assert_line --regexp 'MAIL FROM:<a@example.org>'
	assert_line --regexp 'RCPT TO:<b@example.net>$'
	refute_output --regexp 'RET=|ENVID=|NOTIFY=|ORCPT='
	[ "$(queue_count)" -eq 0 ]
}

@test "relay-send: relay-inject's -N -R -V reach a DSN next hop" {
	upstream --dsn
	printf 'Subject: x\n\nbody\n' | relay-inject -N delay,failure -R full -V 'e 1' -f a@example.org b@example.net c@example.org
	run relay-send -1 -w 1
	assert_success
	run grep -E 'MAIL|RCPT' "$SRV/log"
	assert_line --regexp 'MAIL FROM:<a@example.org>.* RET=FULL ENVID=e\+201$'
	assert_line --regexp 'RCPT TO:<b@example.net> NOTIFY=FAILURE,DELAY$'
	assert_line --regexp 'RCPT TO:<c@example.org> NOTIFY=FAILURE,DELAY$'
}

# the DSN the test relay received (MAIL FROM:<>), parsed
received_dsn() {
	dsn=$(grep -l 'MAIL FROM:<>' "$SRV"/rec/*.env | head -1)
	[ -n "$dsn" ] || { echo "no DSN received"; return 1; }
	run "$TESTS/dsn-parse" "${dsn%.env}.eml"
	echo "$output"
	assert_line 'defects=0'
}

@test "end to end: NOTIFY=SUCCESS to a next hop without DSN gives the sender a relayed DSN (RFC 3461 6.2.2); with DSN none" {
	upstream
	relay_client 127.0.0.0/8
	smtpd_start
	run smtp_dsn "b@example.net NOTIFY=SUCCESS ORCPT=rfc822;B@example.net" "c@example.net"
	assert_line 'data 250'
	run relay-send -1 -w 1
	assert_success
	run relay-send -1 -w 1
	[ "$(queue_count)" -eq 0 ]
	received_dsn
	assert_line 'h:To=<a@example.org>'
	assert_line 'h:Subject=Relayed Mail (no delivery report will follow)'
	assert_line 'ds0:Original-Envelope-Id=QQ+314'
	assert_line 'ds1:Original-Recipient=rfc822; B@example.net'
	assert_line 'ds1:Final-Recipient=rfc822; b@example.net'
	assert_line 'ds1:Action=relayed'
	assert_line 'ds1:Status=2.0.0'
	refute_line --regexp '^ds2:'
	assert_line 'part3=text/rfc822-headers'
	[ "$(ls "$SRV"/rec/*.eml | wc -l)" -eq 2 ]
	# the same to a next hop that offers DSN: it reports, relay does not
	stop_servers
	rm -f "$RELAY_HOME/etc/pools" "$RELAY_HOME/etc/routes"
	upstream --dsn
	run smtp_dsn "b@example.net NOTIFY=SUCCESS"
	run relay-send -1 -w 1
	assert_success
	run relay-send -1 -w 1
	[ "$(queue_count)" -eq 0 ]
	[ "$(ls "$SRV"/rec/*.eml | wc -l)" -eq 1 ]
	! grep -q 'MAIL FROM:<>' "$SRV"/rec/*.env
}

@test "end to end: a 5.1.1 for NOTIFY=NEVER gives no DSN; for NOTIFY=FAILURE with ORCPT a DSN with Original-Recipient" {
	upstream --rcpt-reply 'b@example.net=550 5.1.1 no such user' --rcpt-reply 'c@example.net=550 5.1.1 no such user'
	relay_client 127.0.0.0/8
	smtpd_start
	run smtp_dsn "b@example.net NOTIFY=NEVER" "c@example.net NOTIFY=FAILURE ORCPT=rfc822;old+2Bc@example.net" "d@example.net"
	assert_line 'data 250'
	run relay-send -1 -w 1
	assert_success
	assert_line --partial 'event=bounced'
	run relay-send -1 -w 1
	[ "$(queue_count)" -eq 0 ]
	received_dsn
	assert_line 'h:Subject=Undelivered Mail Returned to Sender'
	assert_line 'ds1:Original-Recipient=rfc822; old+c@example.net'
	assert_line 'ds1:Final-Recipient=rfc822; c@example.net'
	refute_line --regexp '^ds2:'
	# RET=HDRS (smtp_dsn's MAIL): the headers only
	assert_line 'part3=text/rfc822-headers'
}
