#!/usr/bin/env bats
# not tested: the mailto: URI's mail (relay lists it, it reads no mail); multipart/form-data POST bodies from real mail clients (the form-urlencoded one is what Gmail and Yahoo send).
load helper
load smtp_helper
load httpd_helper

TOOLS="$BATS_TEST_DIRNAME/dkim"

setup() {
	httpd_home
	mkdir -p "$RELAY_HOME/etc/keys"
	relay-dkim keygen -a rsa -d example.com -s r1 -o "$RELAY_HOME/etc/keys/rsa.key" > "$HT/rsa.txt"
	printf 'example.com r1 keys/rsa.key rsa-sha256\n' >> "$RELAY_HOME/etc/dkim"
	printf '# RFC 8058\nclasses bulk,news\nurl https://unsub.test/\nmailto unsubscribe@unsub.test\n' > "$RELAY_HOME/etc/unsubscribe"
	run relay-httpd -K
	assert_success
	assert_output --partial 'unsubscribe.key made'
	[ "$(stat -c %s "$RELAY_HOME/etc/unsubscribe.key")" -eq 32 ]
	[ "$(stat -c %a "$RELAY_HOME/etc/unsubscribe.key")" = 640 ]
	run relay-httpd -K
	assert_output --partial 'exists: kept'
	chgrp 65534 "$RELAY_HOME/etc/unsubscribe.key"
}
teardown() { httpd_stop; stop_servers; }

record() { grep -o '"[^"]*"' "$1" | tr -d '"\n'; }
relay_to_server() {
	start_server
	echo "main failover 127.0.0.1:$PORT" >> "$RELAY_HOME/etc/pools"
	echo "default main" >> "$RELAY_HOME/etc/routes"
	relay-config -d "$RELAY_HOME"
}
# the https URI of List-Unsubscribe in a received message, made local
unsub_url() { python3 - "$1" "$URL" <<'PY'
import email, re, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read())
u = re.search(r"<https://unsub\.test(/u/[^>]+)>", m["List-Unsubscribe"]).group(1)
print(sys.argv[2] + u)
PY
}
suppressed() { relay-bounce suppress list | grep -c . || true; }

@test "RFC 8058: a bulk message to two recipients goes as two transactions, each with its own List-Unsubscribe and List-Unsubscribe-Post, covered by the DKIM signature (dkimpy)" {
	newkey app1 from=@example.com class=bulk
	relay_to_server
	httpd_start
	post '{"from": "a@example.com", "to": ["r1@example.net", "r2@example.net"], "subject": "news", "text": "hello\n"}'
	[ "$CODE" = 202 ]
	run relay-send -1
	assert_success
	[ "$(msgs)" -eq 2 ]
	for n in 0001 0002; do
		f="$SRV/rec/$n.eml"
		[ "$(grep -c '@example.net' "$SRV/rec/$n.env")" -eq 1 ]
		/usr/bin/python3 "$TOOLS/dkimpy-verify.py" "r1=$(record "$HT/rsa.txt")" < "$f"
		python3 - "$f" "$(sed -n 2p "$SRV/rec/$n.env")" <<'PY'
import email, re, sys
raw = open(sys.argv[1], "rb").read()
m = email.message_from_bytes(raw)
assert len(m.get_all("List-Unsubscribe")) == 1 and len(m.get_all("List-Unsubscribe-Post")) == 1
assert m["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
lu = re.sub(r"\s+", " ", m["List-Unsubscribe"])
assert re.fullmatch(r"<https://unsub\.test/u/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}>, <mailto:unsubscribe@unsub\.test\?subject=unsubscribe>", lu), lu
h = re.search(r"\bh=([^;]+)", re.sub(r"\s+", "", m["DKIM-Signature"])).group(1).lower().split(":")
assert "list-unsubscribe" in h and "list-unsubscribe-post" in h, h
# the token names the sender's domain and this transaction's recipient
import base64
tok = re.search(r"/u/([^.>]+)\.", lu).group(1)
payload = base64.urlsafe_b64decode(tok + "=" * (-len(tok) % 4)).decode()
assert payload == "example.com " + re.search(r"<([^>]+)>", sys.argv[2]).group(1), (payload, sys.argv[2])
PY
	done
	! cmp -s <(grep -A1 '^List-Unsubscribe:' "$SRV/rec/0001.eml") <(grep -A1 '^List-Unsubscribe:' "$SRV/rec/0002.eml")
	# the queued message itself is unchanged, and no signature was stored
	! grep -rqi 'List-Unsubscribe' "$RELAY_HOME/queue/msg"
}

@test "RFC 8058: GET shows a button and suppresses nothing; POST One-Click suppresses the recipient for that sender's domain only (refused at intake from it, not from another)" {
	newkey app1 from=@example.com class=bulk
	mine=$TOK
	newkey other from=@example.org class=bulk
	theirs=$TOK
	relay_to_server
	httpd_start
	TOK=$mine post '{"from": "a@example.com", "to": ["r1@example.net"], "subject": "news", "text": "hello\n"}'
	[ "$CODE" = 202 ]
	run relay-send -1
	assert_success
	u=$(unsub_url "$SRV/rec/0001.eml")
	run curl -s -w '\n%{http_code}' "$u"
	assert_line --index -1 200
	assert_output --partial '<form method="post" action="/u/'
	assert_output --partial 'r1@example.net'
	run curl -s -o /dev/null -w '%{http_code}' -I "$u"
	[ "$output" = 200 ]
	[ -z "$(ls -A "$RELAY_HOME/state/unsub" 2>/dev/null)" ]
	[ "$(suppressed)" -eq 0 ]
	run curl -s -w '\n%{http_code}' -d 'List-Unsubscribe=One-Click' "$u"
	assert_line --index -1 200
	assert_output --partial 'Unsubscribed'
	[ "$(ls "$RELAY_HOME/state/unsub" | wc -l)" -eq 1 ]
	# relay-bounce's uid applies the request to its list
	run relay-bounce unsubscribe
	assert_success
	assert_output 'applied=1 bad=0'
	[ -z "$(ls -A "$RELAY_HOME/state/unsub")" ]
	run relay-bounce suppress list
	assert_output --regexp '^r1@example.net/example.com first=.* expires=never reason=one-click unsubscribe \(RFC 8058\) from mail of example.com$'
	chown -R 65534:65534 "$RELAY_HOME/state" "$RELAY_HOME/queue"
	TOK=$mine post '{"from": "a@example.com", "to": ["r1@example.net"], "subject": "again", "text": "x\n"}'
	[ "$CODE" = 422 ] || { echo "$CODE $BODY"; return 1; }
	[[ "$BODY" == *'r1@example.net'*'one-click unsubscribe'* ]]
	TOK=$mine post '{"from": "a@example.com", "to": ["r2@example.net"], "subject": "again", "text": "x\n"}'
	[ "$CODE" = 202 ]
	TOK=$theirs post '{"from": "b@example.org", "to": ["r1@example.net"], "subject": "theirs", "text": "x\n"}'
	[ "$CODE" = 202 ]
	# the same check at relay-inject and relay-smtpd
	run relay-inject -f c@example.com r1@example.net <<<'Subject: x'
	assert_failure 100
	assert_output --partial 'one-click unsubscribe'
	run relay-inject -f c@example.org r1@example.net <<<'Subject: x'
	assert_success
	printf '%s\r\n' 'EHLO app.example' 'MAIL FROM:<c@example.com>' 'RCPT TO:<r1@example.net>' 'RSET' \
		'MAIL FROM:<c@example.org>' 'RCPT TO:<r1@example.net>' QUIT > "$BATS_TEST_TMPDIR/smtp.in"
	run sh -c "relay-smtpd -u $(id -un) < '$BATS_TEST_TMPDIR/smtp.in' | tr -d '\r'"
	assert_output --partial '550 5.1.1 <r1@example.net> is suppressed (one-click unsubscribe'
	[ "$(echo "$output" | grep -c '^250 2.1.5')" -eq 1 ]
	# a second click is harmless
	run curl -s -o /dev/null -w '%{http_code}' -d 'List-Unsubscribe=One-Click' "$u"
	[ "$output" = 200 ]
	run relay-bounce unsubscribe
	assert_output 'applied=1 bad=0'
	[ "$(relay-bounce suppress list | grep -c '^r1@example.net/example.com ')" -eq 1 ]
}

@test "RFC 8058: a forged or tampered token is 403, a damaged one 400, a POST without One-Click 400; nothing is suppressed" {
	newkey app1 from=@example.com class=bulk
	relay_to_server
	httpd_start
	post '{"from": "a@example.com", "to": ["r1@example.net"], "subject": "news", "text": "hello\n"}'
	run relay-send -1
	u=$(unsub_url "$SRV/rec/0001.eml")
	tok=${u##*/u/}
	# another recipient in the payload, the same MAC
	forged=$(python3 -c 'import base64,sys; print(base64.urlsafe_b64encode(b"example.com victim@example.net").decode().rstrip("=") + "." + sys.argv[1].split(".")[1])' "$tok")
	# one bit of the MAC changed
	tampered=$(python3 -c 'import sys; t=sys.argv[1]; i=len(t)-5; print(t[:i] + ("A" if t[i] != "A" else "B") + t[i+1:])' "$tok")
	for t in "$forged" "$tampered"; do
		[ "$(curl -s -o /dev/null -w '%{http_code}' -d 'List-Unsubscribe=One-Click' "$URL/u/$t")" = 403 ]
		[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/u/$t")" = 403 ]
	done
	for t in nodot "${tok%%.*}.short" '%00.x' "$(printf 'A%.0s' $(seq 1 2000)).x"; do
		[ "$(curl -s -o /dev/null -w '%{http_code}' -d 'List-Unsubscribe=One-Click' "$URL/u/$t")" = 400 ]
	done
	[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/u/$tok")" = 400 ]
	[ "$(curl -s -o /dev/null -w '%{http_code}' -d 'List-Unsubscribe=Maybe' "$URL/u/$tok")" = 400 ]
	[ "$(curl -s -o /dev/null -w '%{http_code}' -d "$(head -c 10000 /dev/zero | tr '\0' x)" "$URL/u/$tok")" = 413 ]
	[ -z "$(ls -A "$RELAY_HOME/state/unsub" 2>/dev/null)" ]
	run relay-bounce unsubscribe
	assert_output 'applied=0 bad=0'
	[ "$(suppressed)" -eq 0 ]
}

@test "RFC 8058: a message with its own List-Unsubscribe, and a class not marked, are sent as they are, signed once for all recipients" {
	newkey app1 from=@example.com class=bulk
	bulk=$TOK
	newkey app2 from=@example.com
	plain=$TOK
	relay_to_server
	httpd_start
	TOK=$bulk post '{"from": "a@example.com", "to": ["r1@example.net", "r2@example.net"], "subject": "own", "text": "x\n", "headers": {"List-Unsubscribe": "<mailto:own@example.com>"}}'
	[ "$CODE" = 202 ]
	TOK=$plain post '{"from": "a@example.com", "to": ["r1@example.net", "r2@example.net"], "subject": "plain", "text": "x\n"}'
	[ "$CODE" = 202 ]
	run relay-send -1
	assert_success
	[ "$(msgs)" -eq 2 ]
	for f in "$SRV"/rec/*.eml; do
		/usr/bin/python3 "$TOOLS/dkimpy-verify.py" "r1=$(record "$HT/rsa.txt")" < "$f"
		! grep -q '^List-Unsubscribe-Post:' "$f"
		[ "$(grep -c '@example.net' "${f%.eml}.env")" -eq 2 ]
	done
	grep -h '^List-Unsubscribe:' "$SRV"/rec/*.eml | tr -d '\r' | grep -qx 'List-Unsubscribe: <mailto:own@example.com>'
	[ "$(grep -h '^List-Unsubscribe:' "$SRV"/rec/*.eml | wc -l)" -eq 1 ]
}

@test "RFC 8058: a marked class whose key cannot be read is deferred, never sent without the fields" {
	newkey app1 from=@example.com class=bulk
	relay_to_server
	httpd_start
	post '{"from": "a@example.com", "to": ["r1@example.net"], "subject": "news", "text": "hello\n"}'
	[ "$CODE" = 202 ]
	rm "$RELAY_HOME/etc/unsubscribe.key"
	run relay-send -1
	assert_line --partial 'event=deferred'
	assert_line --partial 'unsubscribe.key'
	[ "$(msgs)" -eq 0 ]
}

@test "RFC 8058: the relay-send daemon applies waiting unsubscribe requests by itself, within seconds, and logs it" {
	newkey app1 from=@example.com class=bulk
	relay_to_server
	httpd_start
	TOK=$TOK post '{"from": "a@example.com", "to": ["r9@example.net"], "subject": "news", "text": "hello\n"}'
	[ "$CODE" = 202 ]
	run relay-send -1
	assert_success
	u=$(unsub_url "$SRV/rec/0001.eml")
	run curl -s -o /dev/null -w '%{http_code}' -d 'List-Unsubscribe=One-Click' "$u"
	[ "$output" = 200 ]
	[ "$(ls "$RELAY_HOME/state/unsub" | wc -l)" -eq 1 ]
	relay-send > "$BATS_TEST_TMPDIR/send.log" 2>&1 3>&- &
	local sp=$!
	wait_for sh -c "relay-bounce suppress list | grep -q '^r9@example.net/example.com '"
	wait_for grep -q 'event=unsubscribed applied=1 bad=0' "$BATS_TEST_TMPDIR/send.log"
	kill "$sp"
	[ -z "$(ls -A "$RELAY_HOME/state/unsub")" ]
}
