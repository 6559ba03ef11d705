#!/usr/bin/env bats
# not tested: the rate's window sliding over real hours (tests/c/t_smtpd_state.c moves the clock instead); tarpit expiry and its bound (the same C test).
load helper
load smtpd_helper

setup() {
	relay_home
}

crlf() { printf '%s\r\n' "$@"; }
plain() { printf '\0%s\0%s' "$1" "$2" | base64 -w0; }
# one authenticated message from USER PASSWORD (AUTH without TLS: -p on loopback)
one() {
	crlf 'EHLO app.example' "AUTH PLAIN $(plain "$1" "$2")" 'MAIL FROM:<a@example.org>' \
		'RCPT TO:<b@example.net>' DATA 'Subject: r' '' 'body' . QUIT | session -p
}

@test "rate=2/h is shared by every session of the user: the third message is 451 4.7.0 at MAIL, logged; another user is not held" {
	add_user app1 pw1 rate=2/h
	add_user app2 pw2 rate=2/h
	run one app1 pw1
	assert_line --regexp '^250 2\.0\.0 ok: queued as'
	run one app1 pw1
	assert_line --regexp '^250 2\.0\.0 ok: queued as'
	run one app1 pw1
	assert_line '451 4.7.0 sending rate exceeded (etc/users rate=), try later'
	assert_line --partial 'rate exceeded client=127.0.0.1 user=app1 rate=2/h'
	refute_line --partial 'queued as'
	run one app2 pw2
	assert_line --regexp '^250 2\.0\.0 ok: queued as'
	[ "$(queue_count)" = 3 ]
}

@test "rate=3/h under 8 concurrent sessions: exactly 3 queued (the state is updated under flock)" {
	add_user app1 pw1 rate=3/h
	local i
	for i in 1 2 3 4 5 6 7 8; do
		one app1 pw1 > "$BATS_TEST_TMPDIR/out.$i" &
	done
	wait
	[ "$(cat "$BATS_TEST_TMPDIR"/out.* | grep -c '^250 2.0.0 ok: queued as')" = 3 ]
	[ "$(cat "$BATS_TEST_TMPDIR"/out.* | grep -c '^451 4.7.0 sending rate exceeded')" = 5 ]
	[ "$(queue_count)" = 3 ]
}

@test "a transaction that queues nothing (refused at the dot, RSET) gives its message of the rate back" {
	add_user app1 pw1 rate=1/h
	run session -p <<< "$(crlf 'EHLO x' "AUTH PLAIN $(plain app1 pw1)" 'MAIL FROM:<a@example.org>' RSET \
		'MAIL FROM:<a@example.org>' 'RCPT TO:<nodomain>' 'RCPT TO:<b@example.net>' DATA 'Subject: x' '' 'bare'$'\n''LF' . \
		'MAIL FROM:<a@example.org>' 'RCPT TO:<b@example.net>' DATA 'Subject: y' '' 'ok' . \
		'MAIL FROM:<a@example.org>' QUIT)"
	assert_line --regexp '^550 5\.6\.0 bare CR or LF'
	assert_line --regexp '^250 2\.0\.0 ok: queued as'
	assert_line '451 4.7.0 sending rate exceeded (etc/users rate=), try later'
	[ "$(queue_count)" = 1 ]
	grep -q '^Subject: y' "$(queue_last)"
}

@test "rate state that cannot be read or written fails closed: 451 4.3.0, logged, nothing queued" {
	add_user app1 pw1 rate=5/h
	mkdir -p "$RELAY_HOME/state/smtpd"
	echo garbage > "$RELAY_HOME/state/smtpd/rate-app1"
	run one app1 pw1
	assert_line '451 4.3.0 unable to check the sending rate, try later'
	assert_line --partial "unable to check user app1's rate"
	refute_line --partial 'queued as'
	rm -r "$RELAY_HOME/state/smtpd"
	echo 'not a directory' > "$RELAY_HOME/state/smtpd"
	run one app1 pw1
	assert_line '451 4.3.0 unable to check the sending rate, try later'
	[ "$(queue_count)" = 0 ]
	# a user without rate= is not held by the broken state
	add_user app2 pw2
	run one app2 pw2
	assert_line --regexp '^250 2\.0\.0 ok: queued as'
}

@test "the AUTH tarpit grows across sessions from one address (state/smtpd/tarpit); another address starts at 1" {
	relay_setting smtpd_auth_delay 1s
	add_user app1 pw1
	run one app1 wrong
	assert_line --partial 'failures=1 tarpit=1 delay=1s'
	run one app1 wrong
	assert_line --partial 'failures=1 tarpit=2 delay=2s'
	assert_line '535 5.7.8 authentication credentials invalid'
	IP=127.0.0.9 run one app1 wrong
	assert_line --partial 'client=127.0.0.9 user=app1 mechanism=PLAIN failures=1 tarpit=1 delay=1s'
	grep -q '^127.0.0.1 2 ' "$RELAY_HOME/state/smtpd/tarpit"
	! grep -q wrong "$RELAY_HOME/state/smtpd/tarpit"
	[ "$(queue_count)" = 0 ]
}

@test "tarpit state that cannot be written: the delay counts the session's failures, logged; the password check is unchanged" {
	relay_setting smtpd_auth_delay 1s
	add_user app1 pw1
	echo 'not a directory' > "$RELAY_HOME/state/smtpd"
	run one app1 wrong
	assert_line --partial 'unable to update'
	assert_line --partial 'failures=1 tarpit=-1 delay=1s'
	assert_line '535 5.7.8 authentication credentials invalid'
	[ "$(queue_count)" = 0 ]
}

@test "RELAY_SMTPD_HIDE_USER=1 keeps the authenticated user out of Received (still ESMTPA); the log still names it" {
	add_user app1 pw1
	run one app1 pw1
	grep -q $'^\t(authenticated user app1);\r$' "$(queue_last)"
	RELAY_SMTPD_HIDE_USER=1 run one app1 pw1
	assert_line --partial 'message client=127.0.0.1 tls=none user=app1 '
	f=$(queue_last)
	grep -q $'by relay.test (relay-smtpd) with ESMTPA' "$f"
	! grep -q 'authenticated user' "$f"
	! grep -q 'app1' "$f"
}
