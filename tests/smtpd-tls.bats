#!/usr/bin/env bats
# not tested: TLS 1.0/1.1 refused (the installed OpenSSL offers none to try); client certificates (not asked for); the tarpit's delay itself (time: the failure count in the log stands for it).
load helper
load smtpd_helper

setup() {
	relay_home
	relay_setting smtpd_auth_delay 0s
	smtpd_certs
	add_user app1 'correct horse' from=@example.org class=transactional
	add_user app2 's3cret'
}
teardown() { smtpd_stop; }

sw() { swaks --server 127.0.0.1 --port "$SPORT" --from a@example.org --to b@example.net "$@" 2>&1 | tr -d '\r'; }

@test "STARTTLS (TLS >= 1.2, verified against the test CA), then AUTH PLAIN: queued, Received names TLS and the user" {
	smtpd_start
	run sw --tls --tls-verify --tls-ca-path "$CERTS/ca.pem" --auth PLAIN --auth-user app1 --auth-password 'correct horse'
	echo "$output"
	assert_line --partial '<-  250-STARTTLS'
	assert_line --partial '<~  235 2.7.0 authentication successful'
	assert_line --regexp '<~  250 2\.0\.0 ok: queued as'
	[ "$(queue_count)" = 1 ]
	f=$(queue_last)
	grep -qx 'Ctransactional' "$f"
	grep -q $'^\tby relay.test (relay-smtpd) with ESMTPSA\r$' "$f"
	grep -Eq $'^\t\\(TLSv1\\.[23] cipher [A-Z0-9_-]+\\)\r$' "$f"
	grep -q $'^\t(authenticated user app1);\r$' "$f"
	grep -Eq 'auth ok client=127.0.0.1 user=app1 mechanism=PLAIN' "$SMTPD_LOG"
	grep -Eq 'message client=127.0.0.1 tls=TLSv1.[23] user=app1 sender=<a@example.org> rcpts=1 size=[0-9]+ result=queued' "$SMTPD_LOG"
}

@test "AUTH LOGIN over STARTTLS, with pipelining" {
	smtpd_start
	run sw --tls --auth LOGIN --auth-user app2 --auth-password s3cret --pipeline
	assert_line --partial '235 2.7.0'
	assert_line --regexp '250 2\.0\.0 ok: queued as'
	[ "$(queue_count)" = 1 ]
}

@test "implicit TLS (-s, port 465 style): TLS from the first byte, AUTH offered at once" {
	smtpd_start -s
	run sw --tls-on-connect --tls-verify --tls-ca-path "$CERTS/ca.pem" --auth PLAIN --auth-user app2 --auth-password s3cret
	refute_line --partial 'STARTTLS'
	assert_line --partial '250-AUTH PLAIN LOGIN'
	assert_line --regexp '250 2\.0\.0 ok: queued as'
	[ "$(queue_count)" = 1 ]
}

@test "AUTH is not offered nor taken before STARTTLS (538 5.7.11); -p allows it on loopback" {
	smtpd_start
	run bash -c "printf 'AUTH PLAIN AGFwcDIAczNjcmV0\r\nQUIT\r\n' | RAW_EHLO_FIRST=1 '$TESTS/smtpd-raw' $SPORT | tr -d '\r'"
	refute_line --partial 'AUTH PLAIN LOGIN'
	assert_line '538 5.7.11 encryption required: STARTTLS first'
	smtpd_stop
	smtpd_start -p
	run bash -c "printf 'AUTH PLAIN AGFwcDIAczNjcmV0\r\nQUIT\r\n' | RAW_EHLO_FIRST=1 '$TESTS/smtpd-raw' $SPORT | tr -d '\r'"
	assert_line '250-AUTH PLAIN LOGIN'
	assert_line '235 2.7.0 authentication successful'
}

@test "a wrong password: 535 5.7.8, logged without the password, failures counted; nothing relays, nothing queued" {
	smtpd_start
	run sw --tls --auth PLAIN --auth-user app2 --auth-password 'wrong-pw-xyz'
	assert_line --partial '535 5.7.8 authentication credentials invalid'
	run sw --tls --auth LOGIN --auth-user nosuchuser --auth-password 'wrong-pw-xyz'
	assert_line --partial '535 5.7.8'
	[ "$(queue_count)" = 0 ]
	grep -q 'auth failed client=127.0.0.1 user=app2 mechanism=PLAIN failures=1' "$SMTPD_LOG"
	grep -q 'auth failed client=127.0.0.1 user=nosuchuser mechanism=LOGIN failures=1' "$SMTPD_LOG"
	! grep -q 'wrong-pw-xyz' "$SMTPD_LOG"
	# the delay doubles within a session: the count goes on
	# ($(...) drops the final newline: the QUIT line is added after it)
	AFTER=$(printf 'EHLO y\r\nAUTH PLAIN %s\r\nAUTH PLAIN %s\r\nMAIL FROM:<a@example.org>\r\n' \
		"$(printf '\0app2\0bad1' | base64)" "$(printf '\0app2\0bad2' | base64)")
	export AFTER="$AFTER"$'\nQUIT\r\n'
	run bash -c "printf 'STARTTLS\r\n' | RAW_EHLO_FIRST=1 '$TESTS/smtpd-raw' $SPORT --starttls '$CERTS/ca.pem' | tr -d '\r'"
	[ "$(echo "$output" | grep -c '^535 5.7.8')" = 2 ]
	assert_line '530 5.7.0 authentication required'
	grep -q 'user=app2 mechanism=PLAIN failures=2' "$SMTPD_LOG"
}

@test "from= restricts the envelope sender and the From: header; nothing queued when refused" {
	smtpd_start
	run sw --tls --auth PLAIN --auth-user app1 --auth-password 'correct horse' --from evil@example.com
	assert_line --partial '553 5.7.1 you may not send as <evil@example.com>'
	run sw --tls --auth PLAIN --auth-user app1 --auth-password 'correct horse' --from ok@example.org --header 'From: Boss <ceo@example.com>'
	assert_line --partial '550 5.7.1 From: '
	[ "$(queue_count)" = 0 ]
	run sw --tls --auth PLAIN --auth-user app1 --auth-password 'correct horse' --from ok@example.org --header 'From: Me <me@EXAMPLE.org>'
	assert_line --regexp '250 2\.0\.0 ok: queued as'
	[ "$(queue_count)" = 1 ]
}

@test "STARTTLS command injection: commands sent with STARTTLS in one packet are discarded, not run inside TLS" {
	smtpd_start
	export AFTER=$'EHLO y\r\nQUIT\r\n'
	run bash -c "printf 'STARTTLS\r\nRSET\r\nMAIL FROM:<inject@example.org>\r\n' | RAW_EHLO_FIRST=1 '$TESTS/smtpd-raw' $SPORT --starttls '$CERTS/ca.pem' | tr -d '\r'"
	after=$(echo "$output" | sed -n '/^--- TLS ---$/,$p')
	echo "$after"
	# inside TLS: the EHLO's reply comes first, no reply to RSET or MAIL
	[ "$(echo "$after" | sed -n 2p)" = "250-relay.test" ]
	! echo "$after" | grep -q '^250 2.0.0 ok'
	! echo "$after" | grep -q '^250 2.1.0'
	grep -q 'sent [0-9]* bytes after STARTTLS: discarded' "$SMTPD_LOG"
}

@test "after STARTTLS the session is back at the start: MAIL before a new EHLO is 503" {
	smtpd_start
	relay_client 127.0.0.1
	export AFTER=$'MAIL FROM:<a@example.org>\r\nEHLO y\r\nMAIL FROM:<a@example.org>\r\nQUIT\r\n'
	run bash -c "printf 'STARTTLS\r\n' | RAW_EHLO_FIRST=1 '$TESTS/smtpd-raw' $SPORT --starttls '$CERTS/ca.pem' | tr -d '\r'"
	assert_line '503 5.5.1 EHLO or HELO first'
	assert_line '250 2.1.0 ok'
}

@test "swaks with 8-bit and SMTPUTF8 over STARTTLS and AUTH" {
	smtpd_start
	run sw --tls --auth PLAIN --auth-user app2 --auth-password s3cret --from 'δ@example.org' --to 'ü@example.net' \
		--body 'grüße, käse' --header 'Subject: 8-bit'
	# swaks does not add SMTPUTF8 itself: the UTF-8 address is refused without it
	assert_line --partial '553 5.6.7'
	run sw --tls --auth PLAIN --auth-user app2 --auth-password s3cret --body 'grüße, käse' --header 'Subject: 8-bit'
	assert_line --regexp '250 2\.0\.0 ok: queued as'
	grep -q 'grüße, käse' "$(queue_last)"
}
