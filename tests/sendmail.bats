#!/usr/bin/env bats
# not tested: the installed names under /usr/sbin, /usr/bin and /usr/lib (scripts/install-tree, INSTALL_SENDMAIL=1); the SMTP dialogue of relay-smtpd itself (its own tests); mailq on a queue too large to list in memory.
load helper

setup() {
	relay_home
	# the names relay-inject answers to, as install-tree links them
	B="$BATS_TEST_TMPDIR/bin"
	mkdir -p "$B"
	for n in sendmail mailq newaliases; do ln -s "$RELAY_BUILD/bin/relay-inject" "$B/$n"; done
	export PATH="$B:$PATH"
}

msg() { printf 'Subject: s\n\nbody\n'; }
rcpts() { sed '/^$/q' "$1" | grep '^T' | sed 's/^T//' | tr '\n' ' '; }

# ---- etc/aliases

aliases() {
	printf '%s\n' "$@" > "$RELAY_HOME/etc/aliases"
	run newaliases
	assert_success
}

@test "sendmail root goes to the address etc/aliases names; without an alias, to root@hostname as before" {
	msg | sendmail root
	[ "$(rcpts "$(queue_last)")" = "root@relay.test " ]
	rm "$(queue_last)"
	aliases 'root: ops@example.com' 'postmaster: root' 'MAILER-DAEMON: postmaster' \
		'www-data  root, web@example.org'
	msg | sendmail root
	[ "$(rcpts "$(queue_last)")" = "ops@example.com " ]
	rm "$(queue_last)"
	# names in any case, @hostname, chains, and an address two names give kept once
	msg | sendmail Postmaster www-data@RELAY.TEST mailer-daemon@relay.test bob@example.net
	[ "$(rcpts "$(queue_last)")" = "ops@example.com web@example.org bob@example.net " ]
	rm "$(queue_last)"
	# a name with no alias, and a name at another domain, stay as they are
	msg | sendmail nobody root@other.example
	[ "$(rcpts "$(queue_last)")" = "nobody@relay.test root@other.example " ]
	rm "$(queue_last)"
	# -t: the header's local names too; the header itself is not rewritten
	printf 'To: root\nSubject: s\n\nbody\n' | sendmail -t
	f=$(queue_last)
	[ "$(rcpts "$f")" = "ops@example.com " ]
	grep -q '^To: root.$' "$f"
	rm "$f"
	# -n: no aliasing (sendmail's meaning)
	msg | sendmail -n root
	[ "$(rcpts "$(queue_last)")" = "root@relay.test " ]
}

@test "newaliases and sendmail -bi compile etc/aliases with every table and say what they did" {
	printf 'root: ops@example.com, second@example.com\npostmaster root\n' > "$RELAY_HOME/etc/aliases"
	run newaliases
	assert_success
	assert_output "$RELAY_HOME/etc/aliases: 2 aliases, longest 40 bytes, 56 bytes total (every table in etc/ compiled, as by relay-config)"
	[ -f "$RELAY_HOME/etc/aliases.cdb" ]
	printf 'root: ops@example.com\n' > "$RELAY_HOME/etc/aliases"
	run sendmail -bi
	assert_success
	assert_output --partial ": 1 alias, longest"
	run sendmail -I
	assert_success
	assert_output --partial ": 1 alias, longest"
	msg | sendmail postmaster
	[ "$(rcpts "$(queue_last)")" = "postmaster@relay.test " ]
}

@test "relay-config init writes a commented etc/aliases, which compiles to an empty table" {
	d="$BATS_TEST_TMPDIR/fresh"
	relay-config init "$d" >/dev/null
	grep -q '^#root: ' "$d/etc/aliases"
	grep -q 'newaliases' "$d/etc/aliases"
	[ -f "$d/etc/aliases.cdb" ]
}

@test "a bad etc/aliases is refused with file:line, exit 100, and nothing is written" {
	aliases 'root: ops@example.com'
	sum=$(sha256sum "$RELAY_HOME/etc/aliases.cdb")
	printf 'a: b\nb: c\nc: a\nd: |/usr/bin/procmail\ne: /var/mail/e\nf: :include:/etc/list\ng: x@bad..example\nh:\n' > "$RELAY_HOME/etc/aliases"
	run newaliases
	assert_failure 100
	assert_output --partial "newaliases: error: etc/aliases:1: alias loop: a -> b -> c -> a"
	assert_output --partial "etc/aliases:4: relay delivers no mail on this host"
	assert_output --partial "etc/aliases:5:"
	assert_output --partial "etc/aliases:6:"
	assert_output --partial "etc/aliases:7: bad domain"
	assert_output --partial 'etc/aliases:8: alias "h" names no address'
	[ "$(sha256sum "$RELAY_HOME/etc/aliases.cdb")" = "$sum" ]
	run relay-config -d "$RELAY_HOME" check
	assert_failure 100
	# a chain of 11 names is too deep; 10 are fine
	for i in $(seq 1 9); do echo "n$i: n$((i + 1))"; done > "$RELAY_HOME/etc/aliases"
	echo 'n10: end@example.com' >> "$RELAY_HOME/etc/aliases"
	run newaliases
	assert_success
	msg | sendmail n1
	[ "$(rcpts "$(queue_last)")" = "end@example.com " ]
	echo 'n0: n1' >> "$RELAY_HOME/etc/aliases"
	run newaliases
	assert_failure 100
	assert_output --partial "etc/aliases:11: aliases nest deeper than 10 names (from n0)"
}

@test "an unreadable etc/aliases.cdb is a temporary failure, never no alias" {
	aliases 'root: ops@example.com'
	printf 'xx' > "$RELAY_HOME/etc/aliases.cdb"
	run bash -c "printf 'Subject: s\n\nx\n' | sendmail root"
	assert_failure 111
	assert_output --partial "etc/aliases.cdb"
	[ "$(queue_count)" -eq 0 ]
	# the table is opened for every message: a damaged one holds all mail back
	run bash -c "printf 'Subject: s\n\nx\n' | sendmail b@example.net"
	assert_failure 111
	[ "$(queue_count)" -eq 0 ]
	# -n does not look at it
	run bash -c "printf 'Subject: s\n\nx\n' | sendmail -n root"
	assert_success
	# relay-config mends it
	run newaliases
	assert_success
	run bash -c "printf 'Subject: s\n\nx\n' | sendmail root"
	assert_success
	[ "$(rcpts "$(queue_last)")" = "ops@example.com " ]
}

# ---- -t -i grouped, and the options applications pass

@test "-ti and -it are -t -i; the harmless options still work" {
	for o in -ti -it "-t -i" -tif; do
		rm -f $(find "$RELAY_HOME/queue/msg" -type f)
		if [ "$o" = -tif ]; then
			printf 'To: b@example.net\nSubject: s\n\nline\n.\nafter\n' | sendmail -tif a@example.org
			grep -qx 'Fa@example.org' "$(queue_last)"
		else
			printf 'To: b@example.net\nSubject: s\n\nline\n.\nafter\n' | sendmail $o
		fi
		f=$(queue_last)
		grep -qx 'Tb@example.net' "$f"
		grep -q '^after' "$f"
	done
	run bash -c "printf 'Subject: s\n\nx\n' | sendmail -odi -oem -oi -B8BITMIME -N never -R hdrs -V envid.1 -m -U -G -v b@example.net"
	assert_success
	[[ "$output" =~ ^[0-9a-f]{13}\.[0-9a-f]{8}$ ]]
	run bash -c "printf 'Subject: s\n\nx\n' | sendmail -tix"
	assert_failure 100
	assert_output --partial "unknown option -x"
	run bash -c "printf 'Subject: s\n\nx\n' | sendmail -bt"
	assert_failure 100
	assert_output --partial "option -bt is not supported"
}

# ---- mailq, sendmail -bp

@test "mailq and sendmail -bp: 'Mail queue is empty' on an empty queue" {
	run mailq
	assert_success
	assert_output "Mail queue is empty"
	run sendmail -bp
	assert_success
	assert_output "Mail queue is empty"
	run relay-inject -bp
	assert_output "Mail queue is empty"
}

@test "mailq lists id, size, arrival, sender and the recipients still to go, then the total" {
	id1=$(msg | sendmail -v -f a@example.org b@example.net c@example.net)
	id2=$(printf 'Subject: bounce\n\n%0500d\n%0500d\n%0500d\n' 0 0 0 | sendmail -v -f '<>' d@example.net)
	relay-qctl hold "$id2" >/dev/null
	# recipient 0 of the first message is delivered: no longer listed
	mkdir -p "$RELAY_HOME/queue/info/${id1:14:2}"
	echo "D0 $(date +%s) relay.example:25" > "$RELAY_HOME/queue/info/${id1:14:2}/$id1"
	run mailq
	assert_success
	echo "$output"
	# the exact text: sizes are relay-qctl's, times the A records', the
	# total the sum in Kbytes rounded up; a held message is marked "!"
	size() { relay-qctl list | awk -v id="$1" '$1 == id {print $3}'; }
	when() { date -d "@$(sed -n 's/^A//p' "$(find "$RELAY_HOME/queue" -name "$1" -path '*[mh][so][gl]*')")" '+%a %b %e %H:%M:%S'; }
	pad=$(printf '%54s' '')
	want=$(printf '%s\n' \
		"-Queue ID-              --Size-- ----Arrival Time---- -Sender/Recipient-------" \
		"$(printf '%-22s  %8s %-20s %s' "$id1" "$(size "$id1")" "$(when "$id1")" a@example.org)" \
		"${pad}c@example.net" "" \
		"$(printf '%-22s! %8s %-20s %s' "$id2" "$(size "$id2")" "$(when "$id2")" MAILER-DAEMON)" \
		"${pad}d@example.net" "" \
		"-- $(( ($(size "$id1") + $(size "$id2") + 1023) / 1024 )) Kbytes in 2 Requests.")
	assert_output "$want"
	[ "$(size "$id2")" -gt 1500 ]
	run sendmail -bp
	assert_output "$want"
}

@test "mailq, newaliases and -bp refuse recipients; modes do not mix" {
	run mailq root
	assert_failure 100
	run sendmail -bp root
	assert_failure 100
	run sendmail -bp -bi
	assert_failure 100
	assert_output --partial "at a time"
	[ "$(queue_count)" -eq 0 ]
}

# ---- sendmail -q

@test "sendmail -q wakes relay-send (SIGALRM, as relay-qctl flush); 111 when it is not running" {
	run sendmail -q
	assert_failure 111
	assert_output --partial "relay-send is not running"
	got="$BATS_TEST_TMPDIR/alarm"
	# a stand-in for relay-send: writes its pid file once it can take SIGALRM
	python3 -c '
import os, signal, sys
signal.signal(signal.SIGALRM, lambda *a: (open(sys.argv[1], "w").close(), os._exit(0)))
with open(sys.argv[2] + ".tmp", "w") as f: f.write("%d\n" % os.getpid())
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
while True: signal.pause()' "$got" "$RELAY_HOME/queue/relay-send.pid" &
	pid=$!
	wait_for test -f "$RELAY_HOME/queue/relay-send.pid"
	run sendmail -q
	assert_success
	assert_output ""
	wait_for test -f "$got"
	wait_for gone "$pid"
	# -qRsite flushes too (relay flushes everything); -q30m, a daemon's interval, does nothing
	rm -f "$got" "$RELAY_HOME/queue/relay-send.pid"
	run sendmail -q30m
	assert_success
	run sendmail -qRexample.com
	assert_failure 111
}

# ---- sendmail -bs

@test "sendmail -bs runs relay-smtpd -u USER on the same stdin and stdout" {
	cat > "$BATS_TEST_TMPDIR/smtpd" <<'SH'
#!/bin/sh
echo "args: $*"
echo "home: $RELAY_HOME"
exec cat
SH
	chmod +x "$BATS_TEST_TMPDIR/smtpd"
	run bash -c "printf 'EHLO x\r\nQUIT\r\n' | RELAYSMTPD='$BATS_TEST_TMPDIR/smtpd' sendmail -bs"
	assert_success
	assert_line --index 0 "args: -u $(id -un)"
	assert_line --index 1 "home: $RELAY_HOME"
	assert_line --index 2 $'EHLO x\r'
	run bash -c "RELAYSMTPD='$BATS_TEST_TMPDIR/smtpd' sendmail -bs root </dev/null"
	assert_failure 100
	run bash -c "RELAYSMTPD='$BATS_TEST_TMPDIR/no-such' sendmail -bs </dev/null"
	assert_failure 100
	assert_output --partial "option -bs is not supported here: no relay-smtpd at $BATS_TEST_TMPDIR/no-such"
}

@test "sendmail -bs: an SMTP dialogue with the real relay-smtpd queues the message" {
	[ -x "$RELAY_BUILD/bin/relay-smtpd" ] || skip "relay-smtpd is not built"
	run python3 - <<'PY'
import subprocess, sys
p = subprocess.Popen(["sendmail", "-bs"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
def reply():
    lines = []
    while True:
        l = p.stdout.readline().decode()
        lines.append(l)
        if len(l) < 4 or l[3] != "-":
            return lines
def say(cmd, want):
    if cmd is not None:
        p.stdin.write(cmd.encode() + b"\r\n"); p.stdin.flush()
    r = reply()
    print(cmd, r[-1].strip())
    if not r[-1].startswith(want):
        sys.exit(1)
say(None, "220")
say("EHLO client.test", "250")
say("MAIL FROM:<a@example.org>", "250")
say("RCPT TO:<b@example.net>", "250")
say("DATA", "354")
say("Subject: bs\r\n\r\nbody\r\n.", "250")
say("QUIT", "221")
sys.exit(p.wait())
PY
	echo "$output"
	assert_success
	[ "$(queue_count)" -eq 1 ]
	grep -qx 'Tb@example.net' "$(queue_last)"
}

@test "sendmail -q by a user who may not signal relay-send says so (111)" {
	[ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null || skip "needs root and setpriv"
	h=$(mktemp -d /tmp/sendmail-q.XXXXXX)
	chmod 755 "$h"
	mkdir -m 755 "$h/queue"
	sleep 1000 &
	pid=$!
	echo "$pid" > "$h/queue/relay-send.pid"
	chmod 644 "$h/queue/relay-send.pid"
	run setpriv --reuid=65534 --regid=65534 --clear-groups env RELAY_HOME="$h" "$RELAY_BUILD/bin/relay-inject" -q
	kill "$pid"
	rm -rf "$h"
	assert_failure 111
	assert_output --partial "unable to wake relay-send (run sendmail -q as root): Operation not permitted"
}
