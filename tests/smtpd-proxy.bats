#!/usr/bin/env bats
# not tested: PROXY from a real HAProxy (the headers here are HAProxy's format, built by python); v2 TLVs beyond skipping them.
load helper
load smtpd_helper

setup() {
	relay_home
	printf '192.0.2.0/24 relay\n203.0.113.0/24 deny\n2001:db8::/32 relay\n' >> "$RELAY_HOME/etc/clients"
	relay-config -d "$RELAY_HOME" >/dev/null
}
teardown() { smtpd_stop; }

step() { "$TESTS/smtpd-step" "$SPORT" "$@"; }
# v2 headers: python builds them (a bytes literal for smtpd-step --head)
v2() {
	python3 - "$@" <<'PY'
import socket, struct, sys
sig = b"\r\n\r\n\x00\r\nQUIT\n"
kind = sys.argv[1]
if kind == "tcp4":
    blk = socket.inet_pton(socket.AF_INET, sys.argv[2]) + socket.inet_pton(socket.AF_INET, "127.0.0.1") + struct.pack(">HH", 4000, 25)
    h = sig + b"\x21\x11" + struct.pack(">H", len(blk) + 7) + blk + b"\x04\x00\x04abcd"  # a TLV, skipped
elif kind == "tcp6":
    blk = socket.inet_pton(socket.AF_INET6, sys.argv[2]) + socket.inet_pton(socket.AF_INET6, "::1") + struct.pack(">HH", 4000, 25)
    h = sig + b"\x21\x21" + struct.pack(">H", len(blk)) + blk
elif kind == "local":
    h = sig + b"\x20\x00" + struct.pack(">H", 0)
elif kind == "badver":
    h = sig + b"\x11\x11" + struct.pack(">H", 12) + bytes(12)
elif kind == "udp":
    h = sig + b"\x21\x12" + struct.pack(">H", 12) + bytes(12)
elif kind == "short":
    h = sig + b"\x21\x11" + struct.pack(">H", 8) + bytes(8)
elif kind == "huge":
    h = sig + b"\x21\x11" + struct.pack(">H", 4000) + bytes(4000)
print("".join("\\x%02x" % c for c in h), end="")
PY
}
relay_dialogue() { printf 'EHLO app.example\nMAIL FROM:<a@example.org>\nRCPT TO:<b@example.net>\nDATA\nSubject: p\n\nbody\n.\nQUIT\n'; }

@test "PROXY v1 TCP4: the proxied address decides etc/clients (relay), and is the client in the Received line and the logs" {
	smtpd_start -P
	run step --head 'PROXY TCP4 192.0.2.7 127.0.0.1 40000 25\r\n' < <(relay_dialogue)
	assert_line --regexp '^250 2\.0\.0 ok: queued as'
	[ "$(queue_count)" = 1 ]
	grep -q $'^Received: from app.example (192.0.2.7)\r$' "$(queue_last)"
	wait_for grep -q 'session client=192.0.2.7 proxy=127.0.0.1 ' "$SMTPD_LOG"
	grep -q 'message client=192.0.2.7 ' "$SMTPD_LOG"
}

@test "PROXY v1 TCP4 from a denied network: 554 at connect, although the balancer (loopback) is not denied" {
	smtpd_start -P
	run step --head 'PROXY TCP4 203.0.113.9 127.0.0.1 40000 25\r\n' <<< 'QUIT'
	assert_line --partial '554 5.7.1'
	assert_line --partial 'connections from 203.0.113.9 are refused'
	[ "$(queue_count)" = 0 ]
}

@test "PROXY v1 TCP6 relays by the IPv6 prefix; UNKNOWN keeps the socket's address (auth: 530)" {
	smtpd_start -P
	run step --head 'PROXY TCP6 2001:db8::5 ::1 40000 25\r\n' < <(relay_dialogue)
	assert_line --regexp '^250 2\.0\.0 ok: queued as'
	grep -q $'^Received: from app.example (2001:db8::5)\r$' "$(queue_last)"
	run step --head 'PROXY UNKNOWN\r\n' < <(relay_dialogue)
	assert_line '530 5.7.0 authentication required'
	wait_for grep -q 'session client=127.0.0.1 proxy=127.0.0.1 ' "$SMTPD_LOG"
	[ "$(queue_count)" = 1 ]
}

@test "PROXY v2 binary: TCP4 (with a TLV) and TCP6 give the client; LOCAL keeps the socket's address" {
	smtpd_start -P
	run step --head "$(v2 tcp4 192.0.2.8)" < <(relay_dialogue)
	assert_line --regexp '^250 2\.0\.0 ok: queued as'
	grep -q $'^Received: from app.example (192.0.2.8)\r$' "$(queue_last)"
	run step --head "$(v2 tcp6 2001:db8::9)" < <(relay_dialogue)
	assert_line --regexp '^250 2\.0\.0 ok: queued as'
	grep -q $'^Received: from app.example (2001:db8::9)\r$' "$(queue_last)"
	run step --head "$(v2 local)" < <(relay_dialogue)
	assert_line '530 5.7.0 authentication required'
	[ "$(queue_count)" = 2 ]
}

@test "malformed, oversized or foreign PROXY headers: dropped before the greeting, with a log line" {
	smtpd_start -P
	local n=0 h
	for h in 'EHLO x\r\n' 'PROXY TCP4 192.0.2.7 127.0.0.1 40000 025\r\n' \
	         'PROXY TCP4 2001:db8::1 127.0.0.1 1 2\r\n' 'PROXY TCP4 192.0.2.7  127.0.0.1 1 2\r\n' \
	         'PROXY TCP4 192.0.2.7 127.0.0.1 1 2\n' 'PROXY TCP5 192.0.2.7 127.0.0.1 1 2\r\n' \
	         "PROXY UNKNOWN $(printf 'x%.0s' $(seq 120))\\r\\n" \
	         "$(v2 badver)" "$(v2 udp)" "$(v2 short)" "$(v2 huge)"; do
		run step --head "$h" < <(relay_dialogue)
		echo "header ${h:0:80}: $output"
		refute_output --partial '220 '
		refute_output --partial '250'
		n=$((n + 1))
		wait_for test "$(grep -c 'end="dropped: PROXY' "$SMTPD_LOG")" -ge "$n"
	done
	grep -q 'dropped: PROXY: header over the bound' "$SMTPD_LOG"
	grep -q 'dropped: PROXY: PROXY v1: a bad port' "$SMTPD_LOG"
	[ "$(queue_count)" = 0 ]
}

@test "an absent PROXY header (the client waits for a greeting) is dropped after the header's time, never greeted" {
	relay_setting smtpd_timeout 1s
	smtpd_start -P
	run step < /dev/null
	refute_output --partial '220 '
	wait_for grep -q 'dropped: PROXY: no PROXY header in time' "$SMTPD_LOG"
}

@test "a PROXY header from a peer outside RELAY_SMTPD_PROXY_FROM is refused: the connection is dropped unread" {
	RELAY_SMTPD_PROXY_FROM=10.0.0.0/8,2001:db8::/32 smtpd_start -P
	run step --head 'PROXY TCP4 192.0.2.7 127.0.0.1 40000 25\r\n' < <(relay_dialogue)
	refute_output --partial '220 '
	wait_for grep -q 'session client=127.0.0.1 end="dropped: PROXY: untrusted peer"' "$SMTPD_LOG"
	[ "$(queue_count)" = 0 ]
	smtpd_stop
	RELAY_SMTPD_PROXY_FROM='10.0.0.0/33' smtpd_start -P
	run step --head 'PROXY TCP4 192.0.2.7 127.0.0.1 40000 25\r\n' < <(relay_dialogue)
	refute_output --partial '220 '
	wait_for grep -q 'RELAY_SMTPD_PROXY_FROM is not a list of prefixes' "$SMTPD_LOG"
}

@test "without -P a PROXY line is just an unknown command (the listener never guesses)" {
	smtpd_start
	run step --head 'PROXY TCP4 192.0.2.7 127.0.0.1 40000 25\r\n' <<< 'QUIT'
	assert_line --partial '500 5.5.1'
	wait_for grep -q 'session client=127.0.0.1 ' "$SMTPD_LOG"
}

@test "-s -P: the PROXY header in the clear, then TLS from the next byte" {
	smtpd_certs
	smtpd_start -s -P
	run step --head 'PROXY TCP4 192.0.2.7 127.0.0.1 40000 465\r\n' --tls "$CERTS/ca.pem" < <(relay_dialogue)
	assert_line --regexp '^250 2\.0\.0 ok: queued as'
	grep -q $'^Received: from app.example (192.0.2.7)\r$' "$(queue_last)"
	grep -q 'TLSv1' "$(queue_last)"
}
