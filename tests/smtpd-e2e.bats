#!/usr/bin/env bats
# not tested: the installed tree (uid relays; tests/install-smtpd.bats, root only); a DSN parameter reaching the upstream (not stored yet).
load helper
load smtp_helper
load smtpd_helper

TOOLS="$BATS_TEST_DIRNAME/dkim"

setup() {
	relay_home
	relay_setting smtp_timeout 5s
	relay_setting smtpd_auth_delay 0s
	smtpd_certs
	add_user app1 'pw one two' from=@example.org
	mkdir -p "$RELAY_HOME/etc/keys"
	relay-dkim keygen -a ed25519 -d example.org -s e1 -o "$RELAY_HOME/etc/keys/ed.key" > "$BATS_TEST_TMPDIR/ed.txt"
	echo 'example.org e1 keys/ed.key ed25519-sha256' >> "$RELAY_HOME/etc/dkim"
}
teardown() { smtpd_stop; stop_servers; }

record() { grep -o '"[^"]*"' "$1" | tr -d '"\n'; }

@test "end to end: swaks (STARTTLS, AUTH) -> relay-smtpd under tcpserver -> queue -> relay-send -> the test relay: body byte-exact, DKIM verifies" {
	start_server
	echo "main failover 127.0.0.1:$PORT" >> "$RELAY_HOME/etc/pools"
	echo "default main" >> "$RELAY_HOME/etc/routes"
	relay-config -d "$RELAY_HOME"
	smtpd_start
	# a body with the awkward lines: leading dots, a lone dot, trailing white space, 8-bit
	printf 'line one\r\n.leading dot\r\n..two dots\r\n.\r\n  trailing   \r\nkäse\r\n\r\nlast' > "$BATS_TEST_TMPDIR/body"
	run swaks --server 127.0.0.1 --port "$SPORT" --tls --tls-verify --tls-ca-path "$CERTS/ca.pem" \
		--auth PLAIN --auth-user app1 --auth-password 'pw one two' \
		--from app@example.org --to r@example.net --header 'From: App <app@example.org>' \
		--header 'Subject: end to end' --body "$BATS_TEST_TMPDIR/body"
	assert_success
	assert_output --regexp '250 2\.0\.0 ok: queued as'
	run relay-send -1
	assert_success
	assert_line --partial 'event=delivered'
	f="$SRV/rec/0001.eml"
	[ -f "$f" ]
	# the body as the client sent it; swaks ends it with CRLF and one empty line
	python3 - "$f" "$BATS_TEST_TMPDIR/body" <<'PY'
import sys
got = open(sys.argv[1], "rb").read()
want = open(sys.argv[2], "rb").read() + b"\r\n\r\n"
body = got.split(b"\r\n\r\n", 1)[1]
assert body == want, (body, want)
PY
	grep -q '^Received: from .* (127.0.0.1)' "$f"
	grep -q 'authenticated user app1' "$f"
	/usr/bin/python3 "$TOOLS/dkimpy-verify.py" "e1=$(record "$BATS_TEST_TMPDIR/ed.txt")" < "$f"
	[ "$(queue_count)" = 0 ]
}
