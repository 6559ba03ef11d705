#!/usr/bin/env bats
# not tested: DNS publication of the keys (records are given to the verifiers locally); key rotation while messages are queued.
load helper
load smtp_helper

TOOLS="$BATS_TEST_DIRNAME/dkim"

setup() {
	relay_home
	relay_setting smtp_timeout 5s
	mkdir -p "$RELAY_HOME/etc/keys"
	relay-dkim keygen -a rsa -d example.org -s r1 -o "$RELAY_HOME/etc/keys/rsa.key" > "$BATS_TEST_TMPDIR/rsa.txt"
	relay-dkim keygen -a ed25519 -d example.org -s e1 -o "$RELAY_HOME/etc/keys/ed.key" > "$BATS_TEST_TMPDIR/ed.txt"
	printf 'example.org r1 keys/rsa.key rsa-sha256\nexample.org e1 keys/ed.key ed25519-sha256\n' >> "$RELAY_HOME/etc/dkim"
}
teardown() { stop_servers; }

record() { grep -o '"[^"]*"' "$1" | tr -d '"\n'; }

@test "end to end: injected, signed once by relay-dkim serve, delivered; dkimpy and Mail::DKIM verify what the relay received" {
	start_server
	echo "main failover 127.0.0.1:$PORT" >> "$RELAY_HOME/etc/pools"
	echo "default main" >> "$RELAY_HOME/etc/routes"
	relay-config -d "$RELAY_HOME"
	printf 'From: App <app@example.org>\nTo: r@example.net\nSubject: signed\n\nHello,\n.leading dot\n  trailing spaces   \n\n\n' |
		relay-inject -f app@example.org r@example.net
	run relay-send -1
	assert_success
	assert_line --partial "event=dkim"
	assert_line --partial "event=delivered"
	f="$SRV/rec/0001.eml"
	[ "$(grep -c '^DKIM-Signature:' "$f")" -eq 2 ]
	/usr/bin/python3 "$TOOLS/dkimpy-verify.py" "r1=$(record "$BATS_TEST_TMPDIR/rsa.txt")" "e1=$(record "$BATS_TEST_TMPDIR/ed.txt")" < "$f"
	perl "$TOOLS/maildkim-verify.pl" "r1=$(record "$BATS_TEST_TMPDIR/rsa.txt")" < "$f"
	# the queued message itself was not changed
	! grep -rq DKIM-Signature "$RELAY_HOME/queue/msg"
}

@test "a deferred message keeps its signature: the retry sends the same bytes" {
	start_server --rcpt-reply 'b@example.net=450 4.2.1 later'
	echo "main failover 127.0.0.1:$PORT" >> "$RELAY_HOME/etc/pools"
	echo "default main" >> "$RELAY_HOME/etc/routes"
	relay-config -d "$RELAY_HOME"
	printf 'From: app@example.org\nSubject: twice\n\nbody\n' | relay-inject -f app@example.org a@example.net b@example.net
	run relay-send -1
	assert_success
	id=$(basename "$(queue_last)")
	grep -q '^S' "$RELAY_HOME/queue/info/${id:14:2}/$id"
	stop_servers
	start_server
	sed -i "s/^main .*/main failover 127.0.0.1:$PORT/" "$RELAY_HOME/etc/pools"
	relay-config -d "$RELAY_HOME"
	relay-qctl requeue "$id"
	run relay-send -1
	assert_success
	/usr/bin/python3 "$TOOLS/dkimpy-verify.py" "r1=$(record "$BATS_TEST_TMPDIR/rsa.txt")" "e1=$(record "$BATS_TEST_TMPDIR/ed.txt")" < "$SRV/rec/0001.eml"
	[ "$(queue_count)" -eq 0 ]
}

@test "a configured key that cannot be read defers the message; never an unsigned send" {
	start_server
	echo "main failover 127.0.0.1:$PORT" >> "$RELAY_HOME/etc/pools"
	echo "default main" >> "$RELAY_HOME/etc/routes"
	relay-config -d "$RELAY_HOME"
	chmod 644 "$RELAY_HOME/etc/keys/rsa.key"     # refused: group/other readable
	printf 'From: app@example.org\nSubject: s\n\nbody\n' | relay-inject -f app@example.org r@example.net
	run relay-send -1
	assert_line --partial "event=deferred"
	assert_line --partial "DKIM"
	[ "$(msgs)" -eq 0 ]
	[ "$(queue_count)" -eq 1 ]
}

@test "no key for the From domain: sent unsigned, and said so" {
	start_server
	echo "main failover 127.0.0.1:$PORT" >> "$RELAY_HOME/etc/pools"
	echo "default main" >> "$RELAY_HOME/etc/routes"
	relay-config -d "$RELAY_HOME"
	printf 'From: other@example.com\nSubject: s\n\nbody\n' | relay-inject -f other@example.com r@example.net
	run relay-send -1
	assert_success
	assert_output --partial "no key for domain example.com"
	[ "$(msgs)" -eq 1 ]
	! grep -q '^DKIM-Signature' "$SRV/rec/0001.eml"
}
