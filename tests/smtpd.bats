#!/usr/bin/env bats
# not tested: DSN parameters stored with the message (accepted and checked only, see relay-smtpd.8).
load helper
load smtpd_helper

setup() { relay_home; }

crlf() { printf '%s\r\n' "$@"; }

@test "a relay client's message is queued: 250 with the queue id after the dot, Received, Date and Message-ID added" {
	relay_client 127.0.0.0/8
	run session <<< "$(crlf 'EHLO app.example' 'MAIL FROM:<a@example.org>' 'RCPT TO:<b@example.net>' DATA 'Subject: hi' '' 'body' . QUIT)"
	assert_success
	assert_line --regexp '^250 2\.0\.0 ok: queued as [0-9a-f]{13}\.[0-9a-f]{8}'
	assert_line --partial 'message client=127.0.0.1 tls=none user=- sender=<a@example.org> rcpts=1'
	assert_line --partial 'session client=127.0.0.1'
	[ "$(queue_count)" = 1 ]
	f=$(queue_last)
	grep -qx 'Fa@example.org' "$f"
	grep -qx 'Tb@example.net' "$f"
	grep -q $'^Received: from app.example (127.0.0.1)\r$' "$f"
	grep -q $'^\tby relay.test (relay-smtpd) with ESMTP;\r$' "$f"
	grep -q '^Date: ' "$f"
	grep -q '^Message-ID: <.*@relay.test>' "$f"
	grep -q $'^body\r$' "$f"
}

@test "EHLO offers PIPELINING, SIZE (maxsize), 8BITMIME, SMTPUTF8, DSN, ENHANCEDSTATUSCODES; no AUTH and no STARTTLS without TLS set up" {
	relay_setting maxsize 100000
	run session <<< "$(crlf 'EHLO x' QUIT)"
	assert_line '250-PIPELINING'
	assert_line '250-SIZE 100000'
	assert_line '250-8BITMIME'
	assert_line '250-SMTPUTF8'
	assert_line '250-DSN'
	assert_line '250 ENHANCEDSTATUSCODES'
	refute_line --partial 'AUTH'
	refute_line --partial 'STARTTLS'
}

@test "never an open relay: from an auth address (no etc/clients line) MAIL is refused 530 5.7.0 and nothing is queued" {
	run session <<< "$(crlf 'EHLO x' 'MAIL FROM:<a@example.org>' 'RCPT TO:<b@example.net>' DATA 'Subject: x' '' 'y' . QUIT)"
	assert_line '530 5.7.0 authentication required'
	assert_line '503 5.5.1 MAIL first'
	refute_line --partial 'queued'
	[ "$(queue_count)" = 0 ]
}

@test "etc/clients: the longest prefix wins, IPv4 and IPv6; deny is 554 at connect" {
	printf '127.0.0.0/8 relay\n127.0.0.2 deny\n::1/128 relay\n2001:db8::/32 deny\n10.0.0.0/8 relay\n10.9.0.0/16 auth\n' >> "$RELAY_HOME/etc/clients"
	relay-config -d "$RELAY_HOME"
	IP=127.0.0.2 run session <<< "$(crlf 'EHLO x' QUIT)"
	assert_line --partial '554 5.7.1'
	refute_line --partial '250-'
	IP=2001:db8::5 run session <<< "$(crlf 'EHLO x' QUIT)"
	assert_line --partial '554 5.7.1'
	for ip in 127.0.0.3 ::1 ::ffff:127.0.0.9 10.1.2.3; do
		IP=$ip run session <<< "$(crlf 'EHLO x' 'MAIL FROM:<a@example.org>' QUIT)"
		assert_line '250 2.1.0 ok'
	done
	IP=10.9.1.1 run session <<< "$(crlf 'EHLO x' 'MAIL FROM:<a@example.org>' QUIT)"
	assert_line '530 5.7.0 authentication required'
}

@test "etc/clients and etc/users are strict: file:line errors, nothing written" {
	printf '10.0.0.1/8 relay\n300.1.1.1 relay\n::1 maybe\n' >> "$RELAY_HOME/etc/clients"
	printf 'bob notahash\nal!ce $argon2id$v=19$m=65536,t=2,p=1$x$y\ncarol $argon2id$v=19$m=65536,t=2,p=1$x$y frm=@x.org\n' >> "$RELAY_HOME/etc/users"
	run relay-config -d "$RELAY_HOME"
	assert_failure 100
	assert_output --partial 'etc/clients:10: "10.0.0.1/8" has host bits set (did you mean 10.0.0.0/8?)'
	assert_output --partial 'etc/clients:11: bad address'
	assert_output --partial 'etc/clients:12: unknown action "maybe"'
	assert_output --partial 'etc/users:6: missing or bad password hash'
	assert_output --partial 'etc/users:7: bad user name'
	assert_output --partial 'etc/users:8: unknown field "frm=@x.org"'
}

@test "relay-config passwd prints an Argon2id line, never the password" {
	run bash -c "printf 'hunter2 hunter2\n' | relay-config passwd Alice"
	assert_success
	assert_output --regexp '^alice \$argon2id\$v=19\$m=[0-9]+,t=[0-9]+,p=1\$[^ ]+$'
	refute_output --partial hunter2
	run bash -c "printf '\n' | relay-config passwd alice"
	assert_failure 100
	run bash -c "printf 'x\n' | relay-config passwd 'bad user'"
	assert_failure 100
}

@test "RSET, NOOP, VRFY 252, HELP; commands before EHLO and out of order are 503; unknown commands 500" {
	relay_client 127.0.0.1
	run session <<< "$(crlf 'MAIL FROM:<a@example.org>' 'EHLO x' NOOP 'VRFY root' HELP 'MAIL FROM:<a@example.org>' 'MAIL FROM:<a@example.org>' RSET 'RCPT TO:<b@example.net>' DATA 'XYZZY' QUIT)"
	assert_line '503 5.5.1 EHLO or HELO first'
	assert_line '250 2.0.0 ok'
	assert_line --partial '252 2.5.2'
	assert_line --partial '214 '
	assert_line '503 5.5.1 nested MAIL command'
	assert_line '503 5.5.1 MAIL first'
	assert_line '500 5.5.1 command unrecognized'
	assert_line --partial '221 2.0.0'
	[ "$(queue_count)" = 0 ]
}

@test "MAIL and RCPT: bad syntax, unknown parameters, SIZE over the limit, UTF-8 without SMTPUTF8, no domain" {
	relay_client 127.0.0.1
	relay_setting maxsize 10000
	run session <<< "$(crlf 'EHLO x' 'MAIL FROM:a@example.org' 'MAIL FROM:<a@example.org> FOO=1' 'MAIL FROM:<a@example.org> SIZE=20000' 'MAIL FROM:<δ@example.org>' 'MAIL FROM:<a@example.org> SIZE=100 BODY=8BITMIME RET=HDRS ENVID=x+2By' 'RCPT TO:<nodomain>' 'RCPT TO:<b@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@example.net' 'RCPT TO:<c@example.net> NOTIFY=NEVER,DELAY' 'RCPT TO:<postmaster>' QUIT)"
	assert_line '553 5.1.7 bad address syntax or too long'
	assert_line '555 5.5.4 unknown parameter'
	assert_line '552 5.3.4 message size exceeds the fixed limit'
	assert_line '553 5.6.7 a UTF-8 address needs the SMTPUTF8 parameter'
	assert_line '250 2.1.0 ok'
	assert_line '553 5.1.3 a recipient needs a domain'
	assert_line '555 5.5.4 bad parameter value'
	[ "$(echo "$output" | grep -c '^250 2.1.5 ok')" = 2 ]
}

@test "SMTPUTF8 and 8-bit bodies are taken as sent" {
	relay_client 127.0.0.1
	run session <<< "$(crlf 'EHLO x' 'MAIL FROM:<δοκιμή@example.org> SMTPUTF8 BODY=8BITMIME' 'RCPT TO:<ü@example.net>' DATA 'Subject: grüße' '' 'käse' . QUIT)"
	assert_line --partial '250 2.0.0 ok: queued'
	f=$(queue_last)
	grep -qx 'Fδοκιμή@example.org' "$f"
	grep -q $'^käse\r$' "$f"
}

@test "-u USER: the local dialogue (sendmail -bs) is authenticated as USER, client local" {
	run local_session www-data <<< "$(crlf 'EHLO localhost' 'MAIL FROM:<www-data@example.org>' 'RCPT TO:<b@example.net>' DATA 'Subject: x' '' 'y' . QUIT)"
	assert_line --partial '250 2.0.0 ok: queued'
	f=$(queue_last)
	grep -q $'^Received: from localhost (local)\r$' "$f"
	grep -q $'^\tby relay.test (relay-smtpd) with ESMTPA\r$' "$f"
	grep -q $'^\t(authenticated user www-data);\r$' "$f"
}

@test "a queue failure: temporary is 451, permanent is 554; nothing said 250" {
	relay_client 127.0.0.1
	printf '#!/bin/sh\ncat >/dev/null; exit 53\n' > "$BATS_TEST_TMPDIR/q53"
	printf '#!/bin/sh\ncat >/dev/null; exit 31\n' > "$BATS_TEST_TMPDIR/q31"
	chmod +x "$BATS_TEST_TMPDIR/q53" "$BATS_TEST_TMPDIR/q31"
	RELAYQUEUE=$BATS_TEST_TMPDIR/q53 run session <<< "$(crlf 'EHLO x' 'MAIL FROM:<a@example.org>' 'RCPT TO:<b@example.net>' DATA 'S: x' '' 'y' . QUIT)"
	assert_line '451 4.3.0 temporary queue failure, try again later'
	assert_line --partial 'result=deferred'
	RELAYQUEUE=$BATS_TEST_TMPDIR/q31 run session <<< "$(crlf 'EHLO x' 'MAIL FROM:<a@example.org>' 'RCPT TO:<b@example.net>' DATA 'S: x' '' 'y' . QUIT)"
	assert_line '554 5.3.0 the queue refused the message'
	refute_line --partial '250 2.0.0'
}

@test "python smtplib: a scripted dialogue through tcpserver, two messages in one session" {
	relay_client 127.0.0.1
	smtpd_start
	run python3 - "$SPORT" <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]))
code, _ = s.ehlo("py.example")
assert code == 250 and s.has_extn("pipelining") and s.has_extn("size")
for i in range(2):
    r = s.sendmail("a@example.org", ["b@example.net", "c@example.net"], "Subject: %d\r\n\r\nhello\r\n" % i)
    assert r == {}, r
print(s.noop())
s.quit()
PY
	smtpd_stop
	assert_success
	[ "$(queue_count)" = 2 ]
	grep -q 'messages=2' "$SMTPD_LOG"
}

@test "the service directory runs relay-smtpd under runsv (tcpserver, its log/run)" {
	command -v runsv >/dev/null || skip "runit's runsv is missing"
	relay_client 127.0.0.1
	sp=$(free_port)
	svc="$BATS_TEST_TMPDIR/svc"
	cp -r "$TESTS/../scripts/service/relay-smtpd" "$svc"
	mkdir -p "$svc/env"
	echo "$RELAY_HOME" > "$svc/env/RELAY_HOME"
	echo "$RELAY_BUILD/bin" > "$svc/env/RELAY_BIN"
	echo 127.0.0.1 > "$svc/env/RELAY_SMTPD_ADDR"
	echo "$sp" > "$svc/env/RELAY_SMTPD_PORT"
	id -un > "$svc/env/RELAY_SMTPD_USER"
	runsv "$svc" 3>&- &
	rp=$!
	wait_for port_open "$sp"
	run swaks --server 127.0.0.1 --port "$sp" --from a@example.org --to b@example.net
	sv -w 10 exit "$svc" >/dev/null 2>&1 || kill "$rp"
	assert_output --regexp '250 2\.0\.0 ok: queued as'
	[ "$(queue_count)" = 1 ]
	wait_for grep -q 'message client=127.0.0.1' "$svc/log/main/current"
}
