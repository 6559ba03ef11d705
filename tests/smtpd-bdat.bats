#!/usr/bin/env bats
# not tested: BINARYMIME (not offered); swaks (it sends no BDAT): the dialogues are python bytes.
load helper
load smtpd_helper

setup() {
	relay_home
	relay_client 127.0.0.0/8
}
teardown() { smtpd_stop; }

# bdat SPEC...: the bytes of a dialogue; SPEC is a python bytes literal
# sent as is, or "+LITERAL" / "+LITERAL LAST": a BDAT command with the
# exact size of LITERAL, then LITERAL
bdat() {
	python3 - "$@" <<'PY'
import ast, sys
out = b""
for a in sys.argv[1:]:
    last = a.endswith(" LAST")
    if last:
        a = a[:-5]
    b = ast.literal_eval("b'" + a.lstrip("+") + "'")
    if a.startswith("+"):
        out += b"BDAT %d%s\r\n" % (len(b), b" LAST" if last else b"") + b
    else:
        out += b
sys.stdout.buffer.write(out)
PY
}
hello='EHLO x\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n'

@test "EHLO offers CHUNKING, not BINARYMIME; BODY=BINARYMIME is refused at MAIL" {
	run session < <(bdat 'EHLO x\r\nMAIL FROM:<a@example.org> BODY=BINARYMIME\r\nQUIT\r\n')
	assert_line '250-CHUNKING'
	refute_line --partial 'BINARYMIME'$'\r'
	refute_line --regexp '^250-BINARYMIME'
	assert_line --regexp '^555 5\.5\.4 BODY must be 7BIT or 8BITMIME'
}

@test "BDAT in chunks: 250 per chunk with its size, the message queued byte-exact after LAST" {
	run session < <(bdat "$hello" '+Subject: b\r\n\r\nhel' '+lo\r\n.\r\nworld\r\n LAST' 'QUIT\r\n')
	assert_line '250 2.0.0 17 octets received'
	assert_line --regexp '^250 2\.0\.0 ok: queued as'
	[ "$(queue_count)" = 1 ]
	f=$(queue_last)
	# the lone dot is data in BDAT, kept as it is (relay-send dot-stuffs it)
	python3 - "$f" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
assert d.endswith(b"\r\n\r\nhello\r\n.\r\nworld\r\n"), d[-80:]
assert b"\nSubject: b\r\n" in d
PY
}

@test "commands inside a chunk are data: one message queued, the smuggled MAIL never runs" {
	run session < <(bdat "$hello" '+Subject: s\r\n\r\nx\r\n.\r\nMAIL FROM:<spoof@example.com>\r\nRCPT TO:<victim@example.net>\r\nDATA\r\nSubject: smuggled\r\n\r\ny\r\n.\r\n LAST' 'QUIT\r\n')
	assert_line --regexp '^250 2\.0\.0 ok: queued as'
	refute_line --partial 'sender=<spoof@example.com>'
	refute_line '354 end data with <CR><LF>.<CR><LF>'
	[ "$(queue_count)" = 1 ]
	grep -qx 'Fa@example.org' "$(queue_last)"
	! grep -q 'Tvictim@example.net' "$(queue_last)"
}

@test "the smuggling list inside BDAT: a bare LF or CR or a NUL in any chunk is 550 5.6.0 at LAST, nothing queued" {
	for bad in '\n.\n' '\r.\r' '\r\n.\n' '\n.\r\n' 'a\rb' 'a\x00b'; do
		run session < <(bdat "$hello" '+Subject: x\r\n\r\nfirst' "+$bad" '+end\r\n LAST' 'QUIT\r\n')
		echo "payload $bad: $output"
		assert_line --regexp '^550 5\.6\.0 (bare CR or LF|NUL byte)'
		refute_line --partial 'queued as'
	done
	# a CR that ends one chunk and its LF that starts the next is a CRLF
	run session < <(bdat "$hello" '+Subject: x\r\n\r\nfirst\r' '+\nend LAST' 'QUIT\r\n')
	assert_line --regexp '^250 2\.0\.0 ok: queued as'
	# a CR at the very end is a bare CR
	run session < <(bdat "$hello" '+Subject: x\r\n\r\nfirst\r LAST' 'QUIT\r\n')
	assert_line --regexp '^550 5\.6\.0 bare CR or LF'
	[ "$(queue_count)" = 1 ]
}

@test "a line over 998 octets or a message over maxsize in chunks: 552, nothing queued; a chunk past maxsize closes the session" {
	relay_setting maxsize 2000
	long=$(printf 'x%.0s' $(seq 1000))
	run session < <(bdat "$hello" "+Subject: x\\r\\n\\r\\n$long\\r\\n LAST" 'QUIT\r\n')
	assert_line --regexp '^552 5\.3\.4 message line longer than 998 octets'
	run session < <(bdat "$hello" "+Subject: x\\r\\n\\r\\n${long:0:900}\\r\\n" "+${long:0:900}\\r\\n" "+${long:0:900}\\r\\n LAST" 'QUIT\r\n')
	assert_line '552 5.3.4 message larger than the size limit; closing'
	assert_line --partial 'end="dropped: BDAT over the size limit"'
	refute_line --partial '221 '
	[ "$(queue_count)" = 0 ]
}

@test "BDAT outside a transaction: 503, and its octets are skipped, never read as commands" {
	run session < <(bdat 'EHLO x\r\n' '+MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n' 'QUIT\r\n')
	assert_line '503 5.5.1 MAIL first'
	refute_line '250 2.1.0 ok'
	assert_line --regexp '^221 '
	run session < <(bdat 'EHLO x\r\nMAIL FROM:<a@example.org>\r\n' '+RSET\r\n LAST' 'QUIT\r\n')
	assert_line '554 5.5.1 no valid recipients'
	[ "$(echo "$output" | grep -c '^250 2.0.0 ok$')" = 0 ]
	[ "$(queue_count)" = 0 ]
}

@test "no mixing: DATA after BDAT is 503; RSET drops the chunks; a BDAT line without a valid size ends the session" {
	run session < <(bdat "$hello" '+Subject: one\r\n\r\n' 'DATA\r\n' 'RSET\r\n' "$hello" 'DATA\r\nSubject: two\r\n\r\nbody\r\n.\r\n' 'QUIT\r\n')
	assert_line '503 5.5.1 DATA after BDAT in one transaction'
	assert_line --regexp '^250 2\.0\.0 ok: queued as'
	[ "$(queue_count)" = 1 ]
	! grep -q 'Subject: one' "$(queue_last)"
	grep -q 'Subject: two' "$(queue_last)"
	for line in 'BDAT x' 'BDAT' 'BDAT 5 LASTX' 'BDAT -1' 'BDAT 99999999999999999999'; do
		run session < <(bdat "$hello" "$line"'\r\nQUIT\r\n')
		assert_line '501 5.5.4 syntax: BDAT size [LAST]'
		assert_line --partial 'end="dropped: BDAT without a valid size"'
		refute_line --regexp '^221 '
	done
}

@test "BDAT over a real socket under tcpserver, the chunk arriving in pieces: queued byte-exact" {
	smtpd_start
	run python3 - "$SPORT" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
f = s.makefile("rb")
def reply():
    while True:
        l = f.readline()
        print(l.decode().rstrip())
        if l[3:4] != b"-":
            return l
reply()
for c in (b"EHLO x\r\n", b"MAIL FROM:<a@example.org>\r\n", b"RCPT TO:<b@example.net>\r\n"):
    s.sendall(c); reply()
body = b"Subject: sock\r\n\r\n" + (b"0123456789" * 50 + b"\r\n") * 60
s.sendall(b"BDAT %d LAST\r\n" % len(body))
for i in range(0, len(body), 7000):
    s.sendall(body[i:i + 7000])
reply()
s.sendall(b"QUIT\r\n"); reply()
PY
	assert_line --regexp '^250 2\.0\.0 ok: queued as'
	grep -q '^Subject: sock' "$(queue_last)"
	[ "$(grep -c '^\(0123456789\)\{50\}'$'\r''$' "$(queue_last)")" = 60 ]
}
