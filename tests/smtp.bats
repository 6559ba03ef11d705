#!/usr/bin/env bats
# not tested: real remote servers and MX hosts (loopback only); expired certificates and protocol/cipher mismatch (item 47 partly); the 452 too-many-recipients split (item 17, the scheduler's job); slow links with tc (item 73, a benchmark).
load helper
load smtp_helper

setup_file() { TESTS="$BATS_TEST_DIRNAME"; make_certs; }
teardown() { stop_servers; }

T="--timeout connect=2000 --timeout greeting=5000 --timeout ehlo=5000 --timeout mail=5000 --timeout rcpt=5000 --timeout data_init=5000 --timeout dot=5000"

@test "plain delivery round-trips leading dots byte-exact (item 4)" {
	make_certs
	start_server
	printf '.\r\n..\r\n.foo\r\nmiddle\r\n...\r\n.' > "$BATS_TEST_TMPDIR/m"
	drv $T --from a@example.test --to b@example.test --msg "$BATS_TEST_TMPDIR/m"
	assert_success
	assert_line --partial "txn code=250"
	assert_line "send rc=0"
	[ "$(msgs)" -eq 1 ]
	printf '.\r\n..\r\n.foo\r\nmiddle\r\n...\r\n.\r\n' | cmp - "$SRV/rec/0001.eml"
	grep -q '^MAIL FROM:<a@example.test>' "$SRV/rec/0001.env"
	grep -q '^RCPT TO:<b@example.test>' "$SRV/rec/0001.env"
	grep -q '^TLS no' "$SRV/rec/0001.env"
}

@test "empty message sends just the dot (item 5)" {
	start_server
	: > "$BATS_TEST_TMPDIR/m"
	drv $T --msg "$BATS_TEST_TMPDIR/m"
	assert_success
	[ "$(msgs)" -eq 1 ]
	[ ! -s "$SRV/rec/0001.eml" ]
	grep -q 'DATA-END 0 bytes' "$SRV/log"
}

@test "bare LF and bare CR go out as CRLF (items 1, 2)" {
	start_server
	printf 'Subject: x\n\nline1\nline2\rline3\r\n' > "$BATS_TEST_TMPDIR/m"
	drv $T --msg "$BATS_TEST_TMPDIR/m"
	assert_success
	printf 'Subject: x\r\n\r\nline1\r\nline2\r\nline3\r\n' | cmp - "$SRV/rec/0001.eml"
}

@test "SMTP smuggling payloads stay inside one message (item 3)" {
	start_server
	m="$BATS_TEST_TMPDIR/m"
	printf 'Subject: smuggle\r\n\r\nstart\r\n' > "$m"
	for p in '\n.\n' '\n.\r\n' '\r\n.\n' '\r.\r' '\r.\n' '\n.\r' '\r.\r\n' '\r\n.\r' '\r\n\0.\r\n'; do
		printf "x${p}MAIL FROM:<spoof@evil.test>\r\nRCPT TO:<victim@example.test>\r\nDATA\r\n\r\nspoofed\r\n.\r\n" >> "$m"
	done
	printf 'end\r\n' >> "$m"
	drv $T --msg "$m"
	assert_success
	[ "$(msgs)" -eq 1 ]
	[ "$(grep -c ' MAIL ' "$SRV/log")" -eq 1 ]
	[ "$(grep -c 'DATA-END' "$SRV/log")" -eq 1 ]
	! grep -q 'spoof@evil' "$SRV/log"
	[ "$(grep -c 'MAIL FROM:<spoof@evil.test>' "$SRV/rec/0001.eml")" -eq 9 ]
	# the recorded message has no bare LF and no bare CR
	! python3 -c 'import sys,re; d=open(sys.argv[1],"rb").read(); sys.exit(0 if re.search(rb"(?<!\r)\n|\r(?!\n)", d) else 1)' "$SRV/rec/0001.eml"
}

@test "mixed RCPT replies: DATA for the accepted one only (item 33)" {
	start_server --rcpt-reply 'b@example.test=450 4.2.1 busy'
	drv $T --to a@example.test --to b@example.test
	assert_line --partial "rcpt0 code=250"
	assert_line "rcpt1 code=450 enh=4.2.1 stage=rcpt temp=1 member_fault=0 local=0 dup=0 text=4.2.1 busy"
	assert_line --partial "txn code=250"
	assert_line "send rc=0"
	[ "$(msgs)" -eq 1 ]
	grep -q 'RCPT TO:<a@example.test>' "$SRV/rec/0001.env"
	! grep -q 'b@example.test' "$SRV/rec/0001.env"
}

@test "every RCPT rejected: no DATA, RSET, permanent per recipient (item 34)" {
	start_server --rcpt-reply 'a@example.test=550 5.1.1 no such user' --rcpt-reply 'b@example.test=553 5.1.3 bad'
	drv $T --to a@example.test --to b@example.test
	assert_failure 1
	assert_line --partial "rcpt0 code=550 enh=5.1.1 stage=rcpt temp=0 member_fault=0"
	assert_line --partial "rcpt1 code=553 enh=5.1.3 stage=rcpt temp=0"
	assert_line --partial "text=no recipients accepted"
	assert_line "send rc=0"
	! grep -q ' DATA' "$SRV/log"
	grep -q ' RSET' "$SRV/log"
	[ "$(msgs)" -eq 0 ]
}

@test "MAIL refused: every recipient gets the MAIL result (item 35)" {
	start_server --mail-reply '553 5.1.8 bad sender'
	drv $T --to a@example.test --to b@example.test
	assert_line --partial "rcpt0 code=553 enh=5.1.8 stage=mail temp=0"
	assert_line --partial "rcpt1 code=553 enh=5.1.8 stage=mail temp=0"
	! grep -q ' DATA' "$SRV/log"
}

@test "5xx after the dot is permanent, 4xx temporary (items 35, 36)" {
	start_server --data-reply '554 5.7.1 content rejected'
	drv $T
	assert_line "txn code=554 enh=5.7.1 stage=dot temp=0 member_fault=0 local=0 dup=0 text=5.7.1 content rejected"
	assert_line "send rc=0"
	start_server --data-reply '451 4.3.0 try later'
	drv $T
	assert_line --partial "txn code=451 enh=4.3.0 stage=dot temp=1 member_fault=0"
}

@test "connection dropped after the dot: 451, possible duplicate (item 37)" {
	start_server --drop-after-dot
	drv $T
	assert_line --regexp "^txn code=451 enh=4.4.2 stage=dot temp=1 member_fault=1 local=0 dup=1 text=connection lost after data, possible duplicate"
	assert_line "send rc=-1"
}

@test "connection dropped during data: temporary, nothing complete received (item 38)" {
	start_server --drop-in-data
	head -c 2000000 /dev/zero | tr '\0' 'a' | fold -w 70 > "$BATS_TEST_TMPDIR/m"
	drv $T --msg "$BATS_TEST_TMPDIR/m"
	assert_line --regexp "^txn code=[04][0-9]* .* temp=1 member_fault=1"
	assert_line "send rc=-1"
	[ "$(msgs)" -eq 0 ]
}

@test "421, 554 greeting and a refused connection are member faults (item 31)" {
	start_server --greet 421
	drv $T
	assert_failure 1
	assert_line --partial "open code=421 enh=4.3.2 stage=greeting temp=1 member_fault=1"
	start_server --greet 554
	drv $T
	assert_line --partial "open code=554 enh=5.3.2 stage=greeting temp=1 member_fault=1"
	start_server --refuse
	drv $T
	assert_line --partial "open code=0 enh=- stage=greeting temp=1 member_fault=1"
	port=$(free_port)
	run "$RELAY_BUILD/tests/t_smtpdrv" send --port "$port" $T
	assert_line --partial "open code=0 enh=- stage=connect temp=1 member_fault=1"
}

@test "a stalled server times out per stage (item 32)" {
	# 700 ms for MAIL, a 3 s stall, 5 s for the other stages: the client
	# must give up while the server still stalls
	start_server --stall 3 --stall-at mail
	drv $T --timeout mail=700
	wait_for grep -q ' STALL-CLIENT-GONE' "$SRV/log"
	assert_line --regexp "^rcpt0 code=0 .*stage=mail temp=1 member_fault=1 .*text=timeout waiting for reply"
	start_server --stall 5 --stall-at greet
	drv $T --timeout greeting=700
	assert_line --partial "open code=0 enh=- stage=greeting temp=1 member_fault=1 local=0 dup=0 text=timeout waiting for reply"
}

@test "a reply dripped one byte a second hits the absolute deadline (item 32)" {
	start_server --drip --drip-at greet
	drv $T --timeout greeting=3000 --timeout reply_max=2500
	# it left while the greeting was still dripping (it takes 40 s)
	wait_for grep -q ' DRIP-CLIENT-GONE' "$SRV/log"
	assert_line --partial "open code=0 enh=- stage=greeting temp=1 member_fault=1 local=0 dup=0 text=reply deadline exceeded"
}

@test "a stalled dot reply: timeout, possible duplicate (item 72)" {
	start_server --stall 5 --stall-at dot
	drv $T --timeout dot=700
	assert_line --regexp "^txn code=451 enh=4.4.2 stage=dot .*dup=1 text=timeout after data, possible duplicate"
}

@test "STARTTLS with verify against the test CA; capabilities renewed (items 46, 47)" {
	start_server --starttls "$CERTS/server.pem" "$CERTS/server.key" --size 100000
	drv $T --tls verify --ca "$CERTS/ca.pem" --tls-name localhost
	assert_success
	assert_line --regexp "^open ok tls=TLSv1\.[23] "
	grep -q '^TLS yes' "$SRV/rec/0001.env"
	# the name may also be the address itself
	drv $T --tls verify --ca "$CERTS/ca.pem" --host 127.0.0.1
	assert_success
}

@test "verify fails on a host name mismatch and an unknown CA; no MAIL sent (item 47)" {
	start_server --starttls "$CERTS/wrong.pem" "$CERTS/wrong.key"
	drv $T --tls verify --ca "$CERTS/ca.pem" --tls-name localhost
	assert_failure 1
	assert_line --regexp "^open code=0 enh=- stage=tls temp=1 member_fault=1 .*certificate verify failed: [Hh]ostname mismatch"
	! grep -q ' MAIL' "$SRV/log"
	start_server --starttls "$CERTS/self.pem" "$CERTS/self.key"
	drv $T --tls verify --ca "$CERTS/ca.pem" --tls-name localhost
	assert_line --regexp "^open code=0 .*stage=tls .*certificate verify failed"
	# encrypt does not verify
	drv $T --tls encrypt
	assert_success
}

@test "TLS required but STARTTLS not offered or refused: no plaintext MAIL (item 45)" {
	start_server
	drv $T --tls encrypt
	assert_failure 1
	assert_line --partial "open code=0 enh=- stage=starttls temp=1 member_fault=1 local=0 dup=0 text=TLS required but STARTTLS not offered"
	! grep -q ' MAIL' "$SRV/log"
	start_server --starttls "$CERTS/server.pem" "$CERTS/server.key" --starttls-reply '454 4.7.0 TLS not available'
	drv $T --tls verify --ca "$CERTS/ca.pem" --tls-name localhost
	assert_line --partial "open code=454 enh=4.7.0 stage=starttls temp=1 member_fault=1"
	! grep -q ' MAIL' "$SRV/log"
	# may: goes on in plaintext when STARTTLS is refused or not offered
	drv $T --tls may
	assert_success
	assert_line --partial "open ok tls=none"
}

@test "may uses STARTTLS when offered" {
	start_server --starttls "$CERTS/server.pem" "$CERTS/server.key"
	drv $T --tls may
	assert_success
	assert_line --regexp "^open ok tls=TLSv1"
	grep -q '^TLS yes' "$SRV/rec/0001.env"
}

@test "STARTTLS response injection is discarded (item 44)" {
	start_server --starttls "$CERTS/server.pem" "$CERTS/server.key" --starttls-inject
	drv $T --tls verify --ca "$CERTS/ca.pem" --tls-name localhost
	assert_success
	assert_line --regexp "^open ok tls=TLSv1\.[23] peer=127.0.0.1:[0-9]+ name=smtp-test-server "
	refute_output --partial INJECTED
}

@test "AUTH PLAIN and AUTH LOGIN after STARTTLS" {
	start_server --starttls "$CERTS/server.pem" "$CERTS/server.key" --auth user1:secret
	drv $T --tls verify --ca "$CERTS/ca.pem" --tls-name localhost --auth user1:secret
	assert_success
	grep -q '^AUTH user1' "$SRV/rec/0001.env"
	grep -q 'AUTH PLAIN' "$SRV/log"
	start_server --starttls "$CERTS/server.pem" "$CERTS/server.key" --auth user1:secret --auth-mechs LOGIN
	drv $T --tls verify --ca "$CERTS/ca.pem" --tls-name localhost --auth user1:secret
	assert_success
	grep -q '^AUTH user1' "$SRV/rec/0001.env"
	grep -q 'AUTH LOGIN' "$SRV/log"
	refute_output --partial secret
}

@test "AUTH 535 is a temporary member fault, never permanent (item 48)" {
	start_server --starttls "$CERTS/server.pem" "$CERTS/server.key" --auth user1:secret
	drv $T --tls verify --ca "$CERTS/ca.pem" --tls-name localhost --auth user1:wrong
	assert_failure 1
	assert_line --partial "open code=535 enh=5.7.8 stage=auth temp=1 member_fault=1"
	refute_output --partial wrong
	! grep -q ' MAIL' "$SRV/log"
	start_server --starttls "$CERTS/server.pem" "$CERTS/server.key" --auth user1:secret --auth-mechs LOGIN --auth-bad-challenge
	drv $T --tls verify --ca "$CERTS/ca.pem" --tls-name localhost --auth user1:secret
	assert_line --partial "open code=0 enh=- stage=auth temp=1 member_fault=1 local=0 dup=0 text=AUTH LOGIN: malformed challenge"
}

@test "no AUTH over plaintext unless allowed (item 45)" {
	start_server --auth user1:secret --auth-plaintext
	drv $T --auth user1:secret
	assert_failure 1
	assert_line --partial "stage=auth temp=1 member_fault=1 local=0 dup=0 text=refusing to send AUTH credentials without TLS"
	! grep -q ' AUTH' "$SRV/log"
	drv $T --auth user1:secret --auth-plaintext
	assert_success
	# credentials configured, AUTH not offered at all
	start_server --starttls "$CERTS/server.pem" "$CERTS/server.key"
	drv $T --tls verify --ca "$CERTS/ca.pem" --tls-name localhost --auth user1:secret
	assert_line --partial "stage=auth temp=1 member_fault=1"
}

@test "implicit TLS (port 465 style)" {
	start_server --implicit-tls "$CERTS/server.pem" "$CERTS/server.key"
	drv $T --implicit --tls verify --ca "$CERTS/ca.pem" --tls-name localhost
	assert_success
	assert_line --regexp "^open ok tls=TLSv1"
	grep -q '^TLS yes' "$SRV/rec/0001.env"
	# a plaintext client against it fails cleanly
	drv $T --timeout greeting=1000
	assert_line --partial "member_fault=1"
}

@test "pipelining is used when offered and not otherwise (item 40)" {
	start_server
	drv $T --to a@example.test --to b@example.test --to c@example.test
	assert_success
	assert_line --partial "caps=PIPELINING,"
	mail=$(grep ' MAIL ' "$SRV/log" | cut -d' ' -f1,2)
	[ "$(grep -c "^$mail RCPT" "$SRV/log")" -eq 3 ]
	# DATA is never in the same group
	! grep -q "^$mail DATA" "$SRV/log"
	start_server --no-pipelining
	drv $T --to a@example.test --to b@example.test --to c@example.test
	assert_success
	refute_line --partial "PIPELINING"
	[ "$(cut -d' ' -f1,2 "$SRV/log" | sort | uniq -d | wc -l)" -eq 0 ]
}

@test "hostile replies are temporary protocol failures (item 30)" {
	for k in long many code2500 nondigit nosep nul mixed cr unsolicited; do
		start_server --hostile-reply "$k"
		drv $T
		assert_failure 1
		assert_line --regexp "^open code=0 enh=- stage=ehlo temp=1 member_fault=1 .*text=protocol error"
		! grep -q ' MAIL' "$SRV/log"
		stop_servers
	done
	# at RCPT and after the dot too
	start_server --hostile-reply code2500 --hostile-at rcpt
	drv $T
	assert_line --regexp "^rcpt0 code=0 .*stage=rcpt temp=1 member_fault=1 .*protocol error"
	[ "$(msgs)" -eq 0 ]
	start_server --hostile-reply mixed --hostile-at dot
	drv $T
	assert_line --regexp "^txn code=451 .*dup=1"
}

@test "bare-LF replies are accepted leniently" {
	start_server --hostile-reply barelf
	drv $T
	assert_success
	[ "$(msgs)" -eq 1 ]
}

@test "8-bit message to a server without 8BITMIME is refused locally (item 11)" {
	start_server --no-8bitmime
	printf 'Subject: x\r\n\r\ncaf\xc3\xa9\r\n' > "$BATS_TEST_TMPDIR/m"
	drv $T --msg "$BATS_TEST_TMPDIR/m"
	assert_failure 1
	assert_line --partial "txn code=554 enh=5.6.3 stage=mail temp=0 member_fault=0 local=1"
	assert_line "send rc=0"
	! grep -q ' MAIL' "$SRV/log"
	start_server
	drv $T --msg "$BATS_TEST_TMPDIR/m"
	assert_success
	grep -q 'MAIL FROM:<sender@example.test> BODY=8BITMIME' "$SRV/log"
	cmp "$BATS_TEST_TMPDIR/m" "$SRV/rec/0001.eml"
}

@test "SMTPUTF8 sent when needed, refused locally when not offered (item 12)" {
	start_server
	drv $T --utf8 --to 'j@例え.test'
	assert_success
	grep -q 'SMTPUTF8' "$SRV/log"
	start_server --no-smtputf8
	drv $T --utf8
	assert_line --partial "txn code=553 enh=5.6.7 stage=mail temp=0 member_fault=0 local=1"
}

@test "SIZE= sent when advertised; a message over it is refused locally (item 7)" {
	start_server --size 1000
	drv $T
	assert_success
	grep -q 'MAIL FROM:<sender@example.test> SIZE=24' "$SRV/log"
	head -c 2000 /dev/zero | tr '\0' a > "$BATS_TEST_TMPDIR/m"
	drv $T --msg "$BATS_TEST_TMPDIR/m"
	assert_line --partial "txn code=552 enh=5.3.4 stage=mail temp=0 member_fault=0 local=1"
}

@test "several messages on one connection; 421 at MAIL closes (item 36)" {
	start_server
	drv $T --count 3
	assert_success
	[ "$(msgs)" -eq 3 ]
	[ "$(cut -d' ' -f1 "$SRV/log" | sort -u)" = c1 ]
	start_server --max-messages 1
	drv $T --count 2
	assert_line --partial "rcpt0 code=421 enh=4.7.0 stage=mail temp=1 member_fault=1"
	assert_line "send rc=-1"
	[ "$(msgs)" -eq 1 ]
}

@test "HELO fallback when EHLO is refused" {
	start_server --no-ehlo
	drv $T
	assert_success
	assert_line --regexp "^open ok tls=none .* caps= size=0"
	grep -q ' HELO ' "$SRV/log"
}

@test "addresses that could inject commands are refused locally (item 13)" {
	start_server
	drv $T --to 'a@b.test> SIZE=1'
	assert_line --partial "rcpt0 code=553 enh=5.1.3 stage=mail temp=0 member_fault=0 local=1"
	! grep -q ' RCPT' "$SRV/log"
}

@test "IPv6 loopback" {
	python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0))' 2>/dev/null || skip "no ::1"
	start_server --listen ::1
	drv $T --host ::1
	assert_success
	assert_line --regexp "^open ok .*peer=\[::1\]:"
}

@test "library self-checks: QUIT reply lost, peer closes during data, no SIGPIPE (items 39, 41)" {
	run "$RELAY_BUILD/tests/t_smtpdrv"
	echo "$output"
	assert_success
}

@test "unsolicited or out-of-step replies during a transaction: no delivery claimed (item 40)" {
	for st in mail rcpt; do
		start_server --hostile-reply unsolicited --hostile-at "$st"
		drv $T
		assert_failure 1
		assert_line --regexp "^txn code=0 .*temp=1 member_fault=1 .*protocol error"
		assert_line "send rc=-1"
		[ "$(msgs)" -eq 0 ]
		stop_servers
	done
}

@test "421 at RCPT under pipelining closes the session, all temporary (item 36)" {
	start_server --rcpt-reply 'b@example.test=421 4.4.5 shutting down'
	drv $T --to a@example.test --to b@example.test --to c@example.test
	assert_line --partial "rcpt1 code=421 enh=4.4.5 stage=rcpt temp=1 member_fault=1"
	assert_line --regexp "^rcpt0 code=(421|0) .*temp=1"
	assert_line "send rc=-1"
	! grep -q ' DATA' "$SRV/log"
}

@test "the server closes during the TLS handshake: a member fault, no crash (items 41, 47)" {
	start_server --starttls "$CERTS/server.pem" "$CERTS/server.key" --starttls-close
	drv $T --tls may
	assert_failure 1
	assert_line --regexp "^open code=0 enh=- stage=tls temp=1 member_fault=1 .*closed during TLS handshake"
}

@test "NOOP for health probes" {
	start_server
	drv $T --noop
	assert_success
	assert_line --partial "noop code=250 enh=2.0.0 stage=noop temp=0"
}
