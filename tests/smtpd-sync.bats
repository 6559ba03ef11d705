#!/usr/bin/env bats
# not tested: a pipelining client whose bytes happen to arrive split across reads (then it is not seen: the check looks at the input already read, as Postfix's does).
load helper
load smtpd_helper

setup() {
	relay_home
	relay_client 127.0.0.0/8
	smtpd_start
}
teardown() { smtpd_stop; }

# dialogue STEP...: each STEP is a python bytes literal sent in one
# write, after which one whole reply is read (and printed)
dialogue() {
	python3 - "$SPORT" "$@" <<'PY'
import ast, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(60)
f = s.makefile("rb")
def reply():
    while True:
        l = f.readline()
        if not l:
            print("(closed)")
            return False
        print(l.decode().rstrip())
        if l[3:4] != b"-":
            return True
reply()
for a in sys.argv[2:]:
    try:
        s.sendall(ast.literal_eval("b'" + a + "'"))
    except OSError:
        pass
    if not reply():
        break
PY
}

@test "commands pipelined with EHLO (before its reply): 554 5.5.0, dropped, logged, nothing queued" {
	run dialogue 'EHLO x\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n'
	assert_line '554 5.5.0 SMTP protocol synchronization error: commands sent before the reply'
	refute_line --regexp '^250'
	wait_for grep -q 'end="dropped: unauthorized pipelining"' "$SMTPD_LOG"
	grep -q 'warning: client=127.0.0.1 sent [0-9]* bytes before the reply to EHLO: unauthorized pipelining' "$SMTPD_LOG"
}

@test "after HELO (no PIPELINING offered) pipelined commands are dropped; one at a time they work" {
	run dialogue 'HELO x\r\n' 'MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n'
	assert_line '250 relay.test'
	assert_line --regexp '^554 5\.5\.0 SMTP protocol synchronization'
	run dialogue 'HELO x\r\n' 'MAIL FROM:<a@example.org>\r\n' 'RCPT TO:<b@example.net>\r\n' 'QUIT\r\n'
	assert_line '250 2.1.5 ok'
	assert_line --regexp '^221 '
}

@test "message text sent with DATA, before the 354: dropped, nothing queued (reject_unauth_pipelining)" {
	run dialogue 'EHLO x\r\n' 'MAIL FROM:<a@example.org>\r\n' 'RCPT TO:<b@example.net>\r\n' 'DATA\r\nSubject: x\r\n\r\nearly\r\n.\r\n'
	assert_line --regexp '^554 5\.5\.0 SMTP protocol synchronization'
	refute_line --regexp '^354'
	[ "$(queue_count)" = 0 ]
}

@test "PIPELINING as RFC 2920 allows it: MAIL, RCPT, RCPT, DATA in one write after the EHLO reply; queued" {
	run dialogue 'EHLO x\r\n' 'MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nRCPT TO:<c@example.net>\r\nDATA\r\n' '' '' '' 'Subject: ok\r\n\r\nbody\r\n.\r\n' 'QUIT\r\n'
	assert_line '354 end data with <CR><LF>.<CR><LF>'
	assert_line --regexp '^250 2\.0\.0 ok: queued as'
	[ "$(queue_count)" = 1 ]
}

@test "a local pipe (sendmail -bs) may send its whole dialogue at once" {
	run session <<< $'EHLO x\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\nSubject: p\r\n\r\nbody\r\n.\r\nQUIT\r'
	assert_line --regexp '^250 2\.0\.0 ok: queued as'
}

# drip MODE: a client that keeps the connection busy without ending a
# command (bytes) or with NOOPs that end (noop), until the server closes
drip() {
	python3 - "$SPORT" "$1" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(0.3)
got = b""
if sys.argv[2] == "noop":   # a well-behaved ESMTP client: EHLO, then NOOPs
    s.settimeout(10)
    f = s.makefile("rb")
    got += f.readline()
    s.sendall(b"EHLO x\r\n")
    while True:
        l = f.readline()
        got += l
        if not l or l[3:4] == b" ":
            break
    s.settimeout(0.3)
end = time.monotonic() + 60   # a hung server fails the test, never hangs it
i = 0
while time.monotonic() < end:
    i += 1
    time.sleep(0.1)
    try:
        s.sendall(b"N" if sys.argv[2] == "bytes" else b"NOOP\r\n")
    except OSError:
        break
    try:
        b = s.recv(4096)
        if not b:
            break
        got += b
    except socket.timeout:
        pass
    except OSError:
        break
print(got.decode().replace("\r", ""))
print("sent", i)
PY
}

@test "smtpd_session_timeout bounds a whole session: a byte drip and a NOOP stream are closed with 421 4.4.2" {
	relay_setting smtpd_session_timeout 2s
	run drip bytes
	assert_line --partial '421 4.4.2 relay.test timeout, closing'
	wait_for grep -q 'end="timeout"' "$SMTPD_LOG"
	run drip noop
	assert_line '250 2.0.0 ok'
	assert_line --partial '421 4.4.2 relay.test timeout, closing'
}
