#!/usr/bin/env bats
# not tested: the privileged (setuid) path, which tests/install.bats covers; suppression (tests/bounce.bats).
load helper

setup() { relay_home; }

msg() { printf 'Subject: test\n\nhello\n'; }

@test "a plain message is queued with its envelope and CRLF lines" {
	run bash -c "printf 'Subject: hi\n\nbody line\n' | relay-inject -f a@example.org b@example.net"
	assert_success
	assert_output ""
	f=$(queue_last)
	head -5 "$f" | grep -qx 'Fa@example.org'
	grep -qx 'Tb@example.net' "$f"
	grep -qx 'Cdefault' "$f"
	# every line of the message part ends in CRLF: no bare LF
	sed '1,/^$/d' "$f" > "$BATS_TEST_TMPDIR/m"
	run grep -c $'[^\r]$' "$BATS_TEST_TMPDIR/m"
	assert_output "0"
	grep -q $'^body line\r$' "$BATS_TEST_TMPDIR/m"
}

@test "-v prints the queue id, which names the file" {
	run bash -c "printf 'Subject: hi\n\nx\n' | relay-inject -v b@example.net"
	assert_success
	[[ "$output" =~ ^[0-9a-f]{13}\.[0-9a-f]{8}$ ]]
	[ -f "$RELAY_HOME/queue/msg/${output:14:2}/$output" ]
}

@test "missing Date, Message-ID and From are added; Received is prepended" {
	msg | relay-inject -F 'Joe "Q" Public' -f joe@example.org b@example.net
	f=$(queue_last)
	sed '1,/^$/d' "$f" > "$BATS_TEST_TMPDIR/m"
	head -1 "$BATS_TEST_TMPDIR/m" | grep -q '^Received: (relay-queue invoked by uid'
	sed -n 3p "$BATS_TEST_TMPDIR/m" | grep -q '^Received: (relay-inject invoked by uid'
	grep -q '^Date: ' "$BATS_TEST_TMPDIR/m"
	grep -q '^Message-ID: <.*@relay.test>' "$BATS_TEST_TMPDIR/m"
	grep -q '^From: "Joe \\"Q\\" Public" <joe@example.org>' "$BATS_TEST_TMPDIR/m"
}

@test "existing Date and Message-ID are kept, not doubled" {
	printf 'Date: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <x@y>\nFrom: a@b.c\n\nz\n' | relay-inject b@example.net
	f=$(queue_last)
	[ "$(grep -c '^Date:' "$f")" -eq 1 ]
	[ "$(grep -c '^Message-ID:' "$f")" -eq 1 ]
	[ "$(grep -c '^From:' "$f")" -eq 1 ]
}

@test "-t takes To, Cc and Bcc (groups, names, comments) and removes Bcc" {
	printf 'To: "Doe, J" <j@example.net>, k@example.net (K)\nCc: team: l@example.net, m@example.net;\nBcc: hidden@example.net\nSubject: s\n\nbody\n' | relay-inject -t
	f=$(queue_last)
	for r in j@example.net k@example.net l@example.net m@example.net hidden@example.net; do
		grep -qx "T$r" "$f"
	done
	! grep -qi '^Bcc:' "$f"
	! grep -q 'hidden' <(sed '1,/^$/d' "$f")
}

@test "called as sendmail, with the options applications use" {
	run bash -c "printf 'Subject: s\n\nx\n' | sendmail -oi -oem -odi -f a@example.org -- b@example.net"
	assert_success
	run bash -c "printf 'Subject: s\n\nx\n' | sendmail -B 8BITMIME -N never -i b@example.net"
	assert_success
	[ "$(queue_count)" -eq 2 ]
}

@test "unknown options and unsupported modes are refused with 100" {
	run bash -c "msg() { printf 'S: s\n\nx\n'; }; msg | relay-inject -Z b@example.net"
	assert_failure 100
	assert_output --partial "unknown option -Z"
	run bash -c "printf 'x\n' | relay-inject -bd"
	assert_failure 100
	assert_output --partial "not supported"
	[ "$(queue_count)" -eq 0 ]
}

@test "a lone dot ends the message unless -i or -oi" {
	printf 'Subject: s\n\nline\n.\nafter\n' | relay-inject b@example.net
	! grep -q after "$(queue_last)"
	rm -f "$(queue_last)"
	printf 'Subject: s\n\nline\n.\nafter\n' | relay-inject -i b@example.net
	grep -q after "$(queue_last)"
}

@test "-C class and X-Relay-Class set the class; the header is removed" {
	msg | relay-inject -C bulk b@example.net
	grep -qx Cbulk "$(queue_last)"
	rm -f "$(queue_last)"
	printf 'X-Relay-Class: transactional\nSubject: s\n\nx\n' | relay-inject b@example.net
	f=$(queue_last)
	grep -qx Ctransactional "$f"
	! grep -qi '^X-Relay-Class' "$f"
	run bash -c "printf 'Subject: s\n\nx\n' | relay-inject -C 'bad class' b@example.net"
	assert_failure 100
}

@test "null sender -f '<>' is accepted" {
	msg | relay-inject -f '<>' b@example.net
	grep -qx F "$(queue_last)"
}

@test "source routes are stripped; quoted local parts and literals kept" {
	msg | relay-inject '<@a.example,@b.example:u@d.example>' '"a..b"@example.net' 'x@[192.0.2.1]' 'y@[IPv6:2001:db8::1]'
	f=$(queue_last)
	grep -qx 'Tu@d.example' "$f"
	grep -qx 'T"a..b"@example.net' "$f"
	grep -qx 'Tx@\[192.0.2.1\]' "$f"
	grep -qx 'Ty@\[IPv6:2001:db8::1\]' "$f"
}

@test "a recipient without a domain gets the host name" {
	msg | relay-inject root
	grep -qx 'Troot@relay.test' "$(queue_last)"
}

refuse() {
	# refuse INPUT-PRINTF-FORMAT EXPECTED-TEXT RCPT...
	local in="$1" want="$2" before; shift 2
	before=$(queue_count)
	run bash -c 'printf "$0" | relay-inject "$@"' "$in" "$@"
	assert_failure 100
	assert_output --partial "$want"
	[ "${#lines[@]}" -eq 1 ]
	[ "$(queue_count)" -eq "$before" ]
	[ -z "$(ls "$RELAY_HOME/queue/tmp")" ]
}

@test "hostile message bytes are refused with 100, nothing queued" {
	refuse 'Subject: a\n\nx\0y\n' "NUL" b@example.net
	refuse 'Subject: a\n\ncr\rlf\n' "bare CR" b@example.net
	refuse "Subject: a\n\n$(head -c 999 /dev/zero | tr '\0' a)\n" "longer than 998" b@example.net
	refuse 'Subject: a\nno colon here\n\nx\n' "malformed header line 2" b@example.net
	refuse ' starts with space: x\n\nx\n' "white space" b@example.net
	refuse 'From: a@b.c\nFrom: d@e.f\n\nx\n' "more than one From" b@example.net
	refuse 'Subject: a\n\nx\n' "no recipients"
}

@test "a line of exactly 998 octets is accepted" {
	run bash -c "printf 'Subject: a\n\n%s\n' $(head -c 998 /dev/zero | tr '\0' a) | relay-inject b@example.net"
	assert_success
}

@test "hostile envelope addresses are refused with 100" {
	refuse 'Subject: a\n\nx\n' "bad recipient" $'a@b>\r\nRCPT TO:<evil@x'
	refuse 'Subject: a\n\nx\n' "bad recipient" 'a@b.c>'
	refuse 'Subject: a\n\nx\n' "bad recipient" 'a b@c.d'
	refuse 'Subject: a\n\nx\n' "bad recipient" $'a\n@c.d'
	refuse 'Subject: a\n\nx\n' "bad recipient" 'a..b@c.d'
	refuse 'Subject: a\n\nx\n' "bad recipient" 'a@b@c.d'
	refuse 'Subject: a\n\nx\n' "bad recipient" '@c.d'
	refuse 'Subject: a\n\nx\n' "bad recipient" 'a@c.d.'
	refuse 'Subject: a\n\nx\n' "malformed UTF-8" $'a\xff@c.d'
	refuse 'Subject: a\n\nx\n' "bad sender" -f $'a@b\r\nc' b@example.net
}

@test "address length limits: local part 64/65, domain 255/256, path 254/255" {
	l64=$(printf 'a%.0s' $(seq 64)); l65=${l64}a
	run bash -c "printf 'S: s\n\nx\n' | relay-inject $l64@example.net"
	assert_success
	refuse 'Subject: a\n\nx\n' "local part longer than 64" "$l65@example.net"
	lab=$(printf 'b%.0s' $(seq 63))
	d251="$lab.$lab.$lab.$lab" ; d255="${d251:0:251}.com"   # 255 octets
	[ "${#d255}" -eq 255 ]
	run bash -c "printf 'S: s\n\nx\n' | relay-inject -f '' x@$d255"
	assert_failure 100    # path 257 > 256 even though the domain fits
	assert_output --partial "longer than 254"
	run bash -c "printf 'S: s\n\nx\n' | relay-inject xy@${d251:0:248}.co"
	assert_success
	refuse 'Subject: a\n\nx\n' "longer than 254" "x@${d255}x"
}

@test "a message over the size limit is refused with 100; a 5 GiB stream too, quickly" {
	relay_setting maxsize 10000
	refuse "Subject: a\n\n$(head -c 12000 /dev/zero | tr '\0' 'a' | fold -w 100)\n" "larger than the limit" b@example.net
	run bash -c "head -c 5G /dev/zero | relay-inject b@example.net"
	assert_failure 100
	assert_output --partial "larger than the limit"
	[ "$(queue_count)" -eq 0 ]
}

@test "RELAYQUEUE names the queue program; its exit codes map to 0/100/111" {
	printf '#!/bin/sh\ncat >/dev/null; exit 53\n' > "$BATS_TEST_TMPDIR/q53"
	printf '#!/bin/sh\ncat >/dev/null; exit 11\n' > "$BATS_TEST_TMPDIR/q11"
	printf '#!/bin/sh\ncat > "%s/got"; exit 0\n' "$BATS_TEST_TMPDIR" > "$BATS_TEST_TMPDIR/q0"
	chmod +x "$BATS_TEST_TMPDIR"/q*
	RELAYQUEUE=$BATS_TEST_TMPDIR/q53 run bash -c "printf 'S: s\n\nx\n' | relay-inject b@example.net"
	assert_failure 111
	assert_output --partial "exit 53"
	RELAYQUEUE=$BATS_TEST_TMPDIR/q11 run bash -c "printf 'S: s\n\nx\n' | relay-inject b@example.net"
	assert_failure 100
	RELAYQUEUE=$BATS_TEST_TMPDIR/q0 run bash -c "printf 'S: s\n\nx\n' | relay-inject b@example.net"
	assert_success
	grep -q '^S: s' "$BATS_TEST_TMPDIR/got"
	RELAYQUEUE=/nonexistent run bash -c "printf 'S: s\n\nx\n' | relay-inject b@example.net"
	assert_failure 111
}

@test "SMTP smuggling payloads are refused (bare CR) or kept inside the body" {
	refuse 'Subject: a\n\nx\r.\r\nMAIL FROM:<spoof@x>\n' "bare CR" b@example.net
	# \n.\n with -i: stays a body line "." (dot-stuffed later on the wire)
	printf 'Subject: a\n\nx\n.\nMAIL FROM:<spoof@x>\n' | relay-inject -i b@example.net
	grep -q '^MAIL FROM:<spoof@x>' "$(queue_last)"
	[ "$(queue_count)" -eq 1 ]
}

@test "a header folded over thousands of continuation lines is refused past the header limit, quickly" {
	python3 -c '
import sys
sys.stdout.write("Subject: x\n" + " y\n" * 80000 + "\nbody\n")' > "$BATS_TEST_TMPDIR/big"
	run bash -c 'relay-inject b@example.net < "$0"' "$BATS_TEST_TMPDIR/big"
	assert_failure 100
	assert_output --partial "header section larger than"
	[ "$(queue_count)" -eq 0 ]
}

@test "an empty message and one without a final newline are completed, not refused" {
	run bash -c ": | relay-inject b@example.net"
	assert_success
	f=$(queue_last)
	grep -q '^Message-ID:' "$f"
	rm -f "$f"
	printf 'Subject: s\n\nno newline at the end' | relay-inject b@example.net
	tail -c 2 "$(queue_last)" | od -c | grep -q '\\r  \\n'
}
