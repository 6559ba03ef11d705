#!/usr/bin/env bats
# not tested: the relay-send wiring (who calls relay-bounce dsn and marks X lines), the real relay-queue, relay-config compiling etc/classify, non-ASCII addresses (written as '?'), disk-full while rewriting the suppression list.
load helper

PY=/usr/bin/python3

setup() {
	export RELAY_HOME="$BATS_TEST_TMPDIR/home"
	mkdir -p "$RELAY_HOME/etc"
	export FAKEQ_DIR="$BATS_TEST_TMPDIR/q"
	export RELAYQUEUE="$TESTS/fake-relay-queue"
	unset FAKEQ_EXIT
	settings 'hostname relay.test'
	QF="$BATS_TEST_TMPDIR/qf"
	REC="$BATS_TEST_TMPDIR/rec"
}

# settings "key value" ...: write etc/settings.cdb (with the test's own
# CDB writer, not tinycdb).
settings() {
	printf '%s\n' "$@" | "$TESTS/mkcdb" "$RELAY_HOME/etc/settings.cdb"
}

# queuefile SENDER [EXTRA-HEADER-LINES]: a queue file (lib/queue/queue.h format).
queuefile() {
	printf 'RQ1\nA1700000000\nCdefault\nF%s\nTbob@example.net\nTcarol@example.org\n\n' "$1" > "$QF"
	[ -n "${2:-}" ] && printf '%s' "$2" >> "$QF"
	printf 'From: Alice <alice@example.com>\r\nTo: bob@example.net\r\nSubject: quarterly report\r\nMessage-ID: <orig.1@example.com>\r\n\r\nHello Bob,\r\nthe numbers.\r\n' >> "$QF"
}

# record RCPT ACTION STATUS MTA DIAG [EPOCH]
record() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "${6:-1700000100}" >> "$REC"
}

bounce_dsn() {
	run bash -c 'relay-bounce dsn <"$1" 3<"$2"' _ "$QF" "$REC"
}

parse() {
	run "$PY" "$TESTS/dsn-parse" "$FAKEQ_DIR/${1:-1}/message"
	echo "$output"
	assert_success
	assert_line 'defects=0'
}

queued() {
	find "$FAKEQ_DIR" -name message 2>/dev/null | wc -l
}

@test "dsn: one failed recipient gives an RFC 3464 report to the envelope sender" {
	queuefile alice@example.com
	record bob@example.net failed 5.1.1 mx.example.net "550-5.1.1 The email account that you tried to reach does not exist."
	bounce_dsn
	assert_success
	[ "$(queued)" -eq 1 ]
	# Envelope: null sender, the original envelope sender only.
	run od -An -c "$FAKEQ_DIR/1/envelope"
	[ "$(cat "$FAKEQ_DIR/1/envelope" | tr '\0' '|')" = "F|Talice@example.com||" ]
	parse
	assert_line 'headers=From,To,Subject,Date,Message-ID,MIME-Version,Content-Type,Auto-Submitted'
	assert_line 'h:From=MAILER-DAEMON@relay.test (Mail Delivery System)'
	assert_line 'h:To=<alice@example.com>'
	assert_line 'h:Subject=Undelivered Mail Returned to Sender'
	assert_line 'h:Auto-Submitted=auto-replied'
	assert_line 'h:MIME-Version=1.0'
	assert_line --regexp '^h:Date=[A-Z][a-z][a-z], [0-9]+ [A-Z][a-z][a-z] 20[0-9][0-9] [0-9:]{8} \+0000$'
	assert_line --regexp '^h:Message-ID=<[^@]+@relay.test>$'
	assert_line 'type=multipart/report'
	assert_line 'report-type=delivery-status'
	assert_line 'parts=3'
	assert_line 'part1=text/plain'
	assert_line 'part2=message/delivery-status'
	assert_line 'ds0:Reporting-MTA=dns; relay.test'
	assert_line 'ds0:Arrival-Date=Tue, 14 Nov 2023 22:13:20 +0000'
	assert_line 'ds1:Final-Recipient=rfc822; bob@example.net'
	assert_line 'ds1:Action=failed'
	assert_line 'ds1:Status=5.1.1'
	assert_line 'ds1:Remote-MTA=dns; mx.example.net'
	assert_line 'ds1:Diagnostic-Code=smtp; 550-5.1.1 The email account that you tried to reach does not exist.'
	assert_line 'ds1:Last-Attempt-Date=Tue, 14 Nov 2023 22:15:00 +0000'
	# A small 7-bit message comes back whole.
	assert_line 'part3=message/rfc822'
	assert_line 'part3:h:Subject=quarterly report'
	assert_line 'part3:body=Hello Bob,|the numbers.|'
	# Nothing of the original is a header of the DSN.
	refute_line --regexp '^h:Subject=quarterly'
}

@test "dsn: over bounce_size_limit, the header section comes back as text/rfc822-headers" {
	settings 'hostname relay.test' 'bounce_size_limit 0'
	queuefile alice@example.com
	record bob@example.net failed 5.1.1 "" "550 5.1.1 no such user"
	record carol@example.org failed 5.2.2 mx.example.org "552 5.2.2 mailbox full"
	bounce_dsn
	assert_success
	parse
	assert_line 'part3=text/rfc822-headers'
	assert_line 'part3:h:From=Alice <alice@example.com>'
	assert_line 'part3:h:Subject=quarterly report'
	assert_line 'part3:h:Message-ID=<orig.1@example.com>'
	refute_line --partial 'the numbers'
	# Two recipient blocks; no Remote-MTA when it is not known.
	assert_line 'ds1:headers=Final-Recipient,Action,Status,Diagnostic-Code,Last-Attempt-Date'
	assert_line 'ds2:Final-Recipient=rfc822; carol@example.org'
	assert_line 'ds2:Status=5.2.2'
	assert_line 'ds2:Remote-MTA=dns; mx.example.org'
}

@test "dsn: delayed recipients give a delay warning" {
	queuefile alice@example.com
	record bob@example.net delayed 4.4.1 mx.example.net "421 4.4.1 connection timed out"
	bounce_dsn
	assert_success
	parse
	assert_line 'h:Subject=Delayed Mail (still being retried)'
	assert_line 'ds1:Action=delayed'
	assert_line 'ds1:Status=4.4.1'
	assert_line --partial 'will keep trying'
	# A delay never suppresses.
	[ ! -s "$RELAY_HOME/state/suppress" ] || ! grep -q bob "$RELAY_HOME/state/suppress"
}

@test "dsn: a message with 8-bit headers comes back as 7-bit headers only" {
	queuefile alice@example.com $'X-Name: J\xc3\xbcrgen\r\n'
	record bob@example.net failed 5.1.1 "" "550 5.1.1 no such user"
	bounce_dsn
	assert_success
	run grep -c $'[\x80-\xff]' "$FAKEQ_DIR/1/message"
	[ "$output" = 0 ]
	parse
	assert_line 'part3=text/rfc822-headers'
	assert_line 'part3:h:X-Name=J??rgen'
}

@test "dsn: null sender and no postmaster: the DSN goes to postmaster@hostname" {
	queuefile ""
	record bob@example.net failed 5.1.1 "" "550 5.1.1 no such user"
	bounce_dsn
	assert_success
	[ "$(tr '\0' '|' < "$FAKEQ_DIR/1/envelope")" = "F|Tpostmaster@relay.test||" ]
	parse
	assert_line --partial 'null sender'
}

@test "dsn: null sender with a postmaster set: the DSN goes to the postmaster" {
	settings 'hostname relay.test' 'postmaster pm@relay.test'
	queuefile ""
	record bob@example.net failed 5.1.1 "" "550 5.1.1 no such user"
	bounce_dsn
	assert_success
	[ "$(tr '\0' '|' < "$FAKEQ_DIR/1/envelope")" = "F|Tpm@relay.test||" ]
	parse
	assert_line 'h:To=<pm@relay.test>'
	assert_line --partial 'null sender'
}

@test "dsn: more than hopcount_limit Received: lines is a loop: not bounced to the sender" {
	hdrs=""
	for i in $(seq 101); do hdrs="${hdrs}Received: from h$i by h$((i+1)); Mon, 1 Jan 2024 00:00:00 +0000"$'\r\n'; done
	queuefile alice@example.com "$hdrs"
	record bob@example.net failed 5.1.1 "" "550 5.1.1 no such user"
	bounce_dsn
	assert_success
	[ "$(tr '\0' '|' < "$FAKEQ_DIR/1/envelope")" = "F|Tpostmaster@relay.test||" ]
	grep -q '101 Received' "$FAKEQ_DIR/1/message"
	# With a postmaster set, it gets the report instead of the sender.
	settings 'hostname relay.test' 'postmaster pm@relay.test'
	bounce_dsn
	assert_success
	[ "$(tr '\0' '|' < "$FAKEQ_DIR/2/envelope")" = "F|Tpm@relay.test||" ]
}

@test "dsn: exactly hopcount_limit Received: lines still bounces to the sender" {
	hdrs=""
	for i in $(seq 100); do hdrs="${hdrs}Received: from h$i by x; Mon, 1 Jan 2024 00:00:00 +0000"$'\r\n'; done
	queuefile alice@example.com "$hdrs"
	record bob@example.net failed 5.1.1 "" "550 5.1.1 no such user"
	bounce_dsn
	assert_success
	[ "$(tr '\0' '|' < "$FAKEQ_DIR/1/envelope")" = "F|Talice@example.com||" ]
}

@test "dsn: diagnostic text that looks like headers after folding creates no header" {
	queuefile alice@example.com
	# Words of every length, so that some fold lands before each fake field.
	diag="550 5.1.1"
	for i in $(seq 40); do diag="$diag $(head -c $((i % 13 + 1)) /dev/zero | tr '\0' x) Bcc: evil$i@attacker.example Action: delivered X-Injected: yes"; done
	diag="$diag       Subject: pwned"
	queuefile alice@example.com
	record bob@example.net failed 5.1.1 "" "$diag"
	bounce_dsn
	assert_success
	# Some continuation lines begin with the fake field names...
	grep -q '^ Bcc: ' "$FAKEQ_DIR/1/message"
	# ...and no line is longer than 78 octets in the report, or starts a field.
	run grep -c -E '^(Bcc|X-Injected|Subject: pwned)' "$FAKEQ_DIR/1/message"
	[ "$output" = 0 ]
	run awk '{ sub(/\r$/, ""); if (length($0) > 78) n++ } END { print n + 0 }' "$FAKEQ_DIR/1/message"
	[ "$output" = 0 ]
	parse
	assert_line 'headers=From,To,Subject,Date,Message-ID,MIME-Version,Content-Type,Auto-Submitted'
	assert_line 'ds1:headers=Final-Recipient,Action,Status,Diagnostic-Code,Last-Attempt-Date'
	assert_line 'ds1:Action=failed'
	refute_line --regexp '^h:Bcc'
}

@test "dsn: a very long diagnostic word is cut to lines under 998 octets" {
	queuefile alice@example.com
	record bob@example.net failed 5.1.1 "" "550 5.1.1 $(head -c 5000 /dev/zero | tr '\0' y)"
	bounce_dsn
	assert_success
	run awk '{ if (length($0) > 999) n++ } END { print n + 0 }' "$FAKEQ_DIR/1/message"
	[ "$output" = 0 ]
	parse
}

@test "dsn: original headers cannot become DSN headers or break the MIME structure" {
	queuefile alice@example.com $'Bcc: evil@attacker.example\r\nX-Fake: a\r\n--=_relay_00\r\n'
	record bob@example.net failed 5.1.1 "" "550 5.1.1 no such user"
	bounce_dsn
	assert_success
	parse
	assert_line 'headers=From,To,Subject,Date,Message-ID,MIME-Version,Content-Type,Auto-Submitted'
	assert_line 'parts=3'
	refute_line --regexp '^h:Bcc'
}

@test "dsn: the queue program failing with 53 is exit 111, and nothing is lost" {
	queuefile alice@example.com
	record bob@example.net failed 5.1.1 "" "550 5.1.1 no such user"
	cp "$QF" "$BATS_TEST_TMPDIR/qf.before"
	export FAKEQ_EXIT=53
	bounce_dsn
	assert_failure 111
	assert_output --partial 'exited 53'
	[ "$(wc -l < "$FAKEQ_DIR/attempts")" -eq 1 ]
	[ "$(queued)" -eq 0 ]
	cmp "$QF" "$BATS_TEST_TMPDIR/qf.before"
	# relay-send retries later: the same input then gives the DSN.
	unset FAKEQ_EXIT
	bounce_dsn
	assert_success
	[ "$(queued)" -eq 1 ]
}

@test "dsn: the queue program refusing permanently (31) is exit 100" {
	queuefile alice@example.com
	record bob@example.net failed 5.1.1 "" "550 5.1.1 no such user"
	FAKEQ_EXIT=31 bounce_dsn
	assert_failure 100
}

@test "dsn: a missing queue program is temporary" {
	queuefile alice@example.com
	record bob@example.net failed 5.1.1 "" "550 5.1.1 no such user"
	RELAYQUEUE=/nonexistent/relay-queue bounce_dsn
	assert_failure 111
}

@test "dsn: without RELAYQUEUE, relay-queue next to the executable is run" {
	mkdir "$BATS_TEST_TMPDIR/bin"
	cp "$RELAY_BUILD/bin/relay-bounce" "$BATS_TEST_TMPDIR/bin/"
	ln -s "$TESTS/fake-relay-queue" "$BATS_TEST_TMPDIR/bin/relay-queue"
	queuefile alice@example.com
	record bob@example.net failed 5.1.1 "" "550 5.1.1 no such user"
	unset RELAYQUEUE
	run bash -c '"$3/relay-bounce" dsn <"$1" 3<"$2"' _ "$QF" "$REC" "$BATS_TEST_TMPDIR/bin"
	assert_success
	[ "$(queued)" -eq 1 ]
}

@test "dsn: bad failure records are permanent errors and queue nothing" {
	queuefile alice@example.com
	for bad in $'bob@example.net\tfailed\t5.1.1\t\tonly five fields\n' \
	           $'bob@example.net\tbounced\t5.1.1\t\tx\t1\n' \
	           $'bob@example.net\tfailed\t2.0.0\t\tx\t1\n' \
	           $'bob@example.net\tdelayed\t5.1.1\t\tx\t1\n' \
	           $'bob@example.net\tfailed\t5.1\t\tx\t1\n' \
	           $'bob@example.net\tfailed\t5.1.1\tbad host!\tx\t1\n' \
	           $'bob@example.net\tfailed\t5.1.1\t\tx\t-5\n' \
	           $'bob@example.net\tfailed\t5.1.1\t\tx\t1' \
	           $'\tfailed\t5.1.1\t\tx\t1\n' \
	           ''; do
		printf '%s' "$bad" > "$REC"
		bounce_dsn
		echo "record: $bad -> $status $output"
		assert_failure 100
	done
	[ ! -e "$FAKEQ_DIR/attempts" ]
}

@test "dsn: no records on fd 3, or a bad queue file, is a permanent error" {
	queuefile alice@example.com
	run bash -c 'relay-bounce dsn <"$1" 3<&-' _ "$QF"
	assert_failure 100
	record bob@example.net failed 5.1.1 "" "550 5.1.1 no such user"
	printf 'not a queue file\n' > "$QF"
	bounce_dsn
	assert_failure 100
	printf 'RQ1\nA1700000000\nFalice@example.com\n' > "$QF"
	bounce_dsn
	assert_failure 100
}

@test "dsn: failed 5.1.1 adds the recipient to the suppression list; policy blocks do not" {
	queuefile alice@example.com
	record Bob@EXAMPLE.net failed 5.1.1 mx.example.net "550 5.1.1 <Bob@example.net>: Recipient address rejected: User unknown"
	record carol@example.org failed 5.7.1 mx.example.org "550 5.7.1 Message rejected as spam"
	bounce_dsn
	assert_success
	run relay-bounce suppress check Bob@example.NET
	assert_output 'suppressed=yes'
	run relay-bounce suppress check carol@example.org
	assert_output 'suppressed=no'
	run relay-bounce suppress list
	assert_line --partial 'Bob@example.net first='
	assert_output --partial 'reason=bad-mailbox 5.1.1'
}

@test "classify: real-world replies from Gmail, Outlook and Yahoo" {
	while IFS='|' read -r reply want; do
		[ -n "$reply" ] || continue
		run relay-bounce classify "$reply"
		echo "$reply -> $output (want $want)"
		assert_success
		assert_output --partial "$want"
	done <<'EOF'
550-5.1.1 The email account that you tried to reach does not exist. Please try|category=bad-mailbox kind=hard action=fail
421-4.7.28 [192.0.2.1] Our system has detected an unusual rate of unsolicited mail originating from your IP address.|category=rate-limit kind=soft action=failover
550-5.7.1 [192.0.2.1] Our system has detected that this message is likely unsolicited mail.|category=policy kind=hard action=fail
550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302).|category=bad-mailbox kind=hard action=fail
421 4.7.650 The mail server [192.0.2.1] has been temporarily rate limited due to IP reputation.|category=rate-limit kind=soft action=failover
554 5.7.9 Message not accepted for policy reasons.  See https://postmaster.yahooinc.com/error-codes|category=policy kind=hard action=fail
421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1|category=rate-limit kind=soft action=failover
553 5.1.1 <nobody@yahoo.com>: Recipient address rejected: user doesn't have a yahoo.com account|category=bad-mailbox kind=hard action=fail
452 4.2.2 The email account that you tried to reach is over quota.|category=quota kind=soft action=retry
552 5.2.2 <x@example.com>: Recipient address rejected: Mailbox full|category=quota kind=soft action=retry
550 5.1.2 Host unknown|category=bad-domain kind=hard action=fail
556 5.1.10 Recipient address has null MX|category=bad-domain kind=hard action=fail
535 5.7.8 Authentication credentials invalid|category=auth kind=soft action=failover
530 5.7.0 Must issue a STARTTLS command first|category=tls kind=soft action=failover
554 5.7.1 <x@example.com>: Relay access denied|category=auth kind=soft action=failover
550 5.7.1 Service unavailable; client [192.0.2.1] blocked using zen.spamhaus.org|category=policy kind=hard action=fail
450 4.2.0 <x@example.com>: Recipient address rejected: Greylisted, see http://postgrey|category=other kind=soft action=retry
451 4.3.0 Temporary local problem|category=other kind=soft action=retry
554 5.3.4 Message too big for system|category=other kind=hard action=fail
EOF
}

@test "classify: operator rules in etc/classify override the defaults" {
	cat > "$RELAY_HOME/etc/classify" <<'EOF'
# our smarthost says 550 for its own rate limit
550 5.7.1 "*sending limit*" -> rate-limit soft
4xx * user unknown -> bad-mailbox hard
EOF
	run relay-bounce classify '550 5.7.1 Daily sending limit exceeded'
	assert_output 'category=rate-limit kind=soft action=failover rule=etc/classify'
	run relay-bounce classify '450 4.1.1 <a@b>: User unknown'
	assert_output 'category=bad-mailbox kind=hard action=fail rule=etc/classify'
	run relay-bounce classify '550 5.7.1 spam'
	assert_output 'category=policy kind=hard action=fail rule=default'
}

@test "classify: a bad etc/classify line names the file and line" {
	printf '# ok\n550 5.1.1 * -> nonsense hard\n' > "$RELAY_HOME/etc/classify"
	run relay-bounce classify '550 5.1.1 no such user'
	assert_failure 111
	assert_output --partial 'etc/classify: line 2: bad category'
}

@test "suppress: add, check, list, list --json, remove" {
	run relay-bounce suppress add 'User@Example.COM' 'complaint from the help desk'
	assert_success
	run relay-bounce suppress check User@example.com
	assert_output 'suppressed=yes'
	run relay-bounce suppress check user@example.com
	assert_output 'suppressed=no'
	run relay-bounce suppress list
	assert_output --regexp '^User@example.com first=20[0-9-]+T[0-9:]+Z last=.* expires=20.* reason=complaint from the help desk$'
	run relay-bounce suppress list --json
	assert_success
	echo "$output" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); assert d[0]["address"]=="User@example.com", d; assert d[0]["expires"]-d[0]["first_seen"]==90*86400, d; assert d[0]["expired"] is False'
	run relay-bounce suppress remove User@example.com
	assert_success
	run relay-bounce suppress check User@example.com
	assert_output 'suppressed=no'
	run relay-bounce suppress remove User@example.com
	assert_success
	assert_output --partial 'not on the suppression list'
	run relay-bounce suppress add 'bad address'
	assert_failure 100
}

@test "suppress: expired entries are not suppressed, and are dropped on the next change" {
	settings 'hostname relay.test' 'suppression_expiry 2d'
	relay-bounce suppress add old@example.com
	relay-bounce suppress add new@example.com
	run relay-bounce suppress list --json
	echo "$output" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); assert d[0]["expires"]-d[0]["first_seen"]==2*86400, d'
	# An operator edit: old@ expired yesterday.
	sed -i "s/^\(old@example.com\t[0-9]*\t[0-9]*\t\)[0-9]*/\1$(( $(date +%s) - 86400 ))/" "$RELAY_HOME/state/suppress"
	relay-bounce suppress rebuild
	run relay-bounce suppress check old@example.com
	assert_output 'suppressed=no'
	run relay-bounce suppress list
	assert_line --partial 'old@example.com first='
	assert_output --partial '(expired)'
	relay-bounce suppress add other@example.com
	run relay-bounce suppress list
	refute_output --partial 'old@example.com'
	assert_output --partial 'new@example.com'
}

@test "suppress: a damaged list is an error, never 'not suppressed'" {
	relay-bounce suppress add a@example.com
	printf 'garbage' > "$RELAY_HOME/state/suppress.cdb"
	run relay-bounce suppress check a@example.com
	assert_failure 111
	printf 'a@example.com\tnot-a-number\n' > "$RELAY_HOME/state/suppress"
	run relay-bounce suppress add b@example.com
	assert_failure 100
	assert_output --partial 'a line does not parse'
}

@test "suppress: concurrent writers lose no entry" {
	for i in $(seq 20); do relay-bounce suppress add "u$i@example.com" & done
	wait
	run relay-bounce suppress list
	[ "$(echo "$output" | grep -c '^u[0-9]*@example.com ')" -eq 20 ]
	for i in $(seq 20); do
		run relay-bounce suppress check "u$i@example.com"
		assert_output 'suppressed=yes'
	done
	# Nothing but the list, its CDB and the lock is left in state/.
	run ls "$RELAY_HOME/state"
	assert_output $'suppress\nsuppress.cdb\nsuppress.lock'
}

@test "counters: add and read a window" {
	relay-bounce counters add relay mx.example:25 deferred 3
	relay-bounce counters add relay mx.example:25 delivered 10
	relay-bounce counters add relay mx.example:25 bounced 1
	run relay-bounce counters relay mx.example:25 300
	assert_output 'delivered=10 deferred=3 bounced=1'
	run relay-bounce counters domain example.com
	assert_output 'delivered=0 deferred=0 bounced=0'
	run head -1 "$RELAY_HOME/state/counters/relay/mx.example:25"
	assert_output 'RC1'
	run relay-bounce counters add relay ../evil deferred 1
	assert_failure 100
}

@test "suppress: a crash between the text list and the CDB is repaired by the next change" {
	relay-bounce suppress add a@example.com
	run env RELAY_CRASH_AT=suppress-text-written relay-bounce suppress add b@example.com
	[ "$status" -eq 137 ]
	grep -q '^b@example.com' "$RELAY_HOME/state/suppress"
	run relay-bounce suppress check b@example.com
	assert_output 'suppressed=no'
	relay-bounce suppress add c@example.com
	for a in a b c; do
		run relay-bounce suppress check $a@example.com
		assert_output 'suppressed=yes'
	done
}

@test "suppress: the CDB is committed by write, fsync, close, rename, directory fsync" {
	command -v strace >/dev/null || skip "strace not installed"
	relay-bounce suppress add a@example.com
	# LeakSanitizer cannot run under ptrace (the asan build).
	ASAN_OPTIONS=detect_leaks=0 strace -f -o "$BATS_TEST_TMPDIR/trace" -e trace=openat,write,fsync,close,rename \
		relay-bounce suppress add b@example.com
	# fd of the temporary CDB, then the order of the steps for it.
	run awk -v dir="$RELAY_HOME/state" '
		/openat\(.*suppress\.cdb\.tmp\./ { match($0, /= [0-9]+$/); fd = substr($0, RSTART + 2); step = "open"; seq = "open"; next }
		fd != "" && $0 ~ "write\\(" fd "," && step == "open" { seq = seq " write"; step = "write"; next }
		fd != "" && $0 ~ "fsync\\(" fd "\\)" && step == "write" { seq = seq " fsync"; step = "fsync"; next }
		fd != "" && $0 ~ "close\\(" fd "\\)" && step == "fsync" { seq = seq " close"; step = "close"; next }
		/rename\(.*suppress\.cdb\.tmp\..*suppress\.cdb"/ && step == "close" { seq = seq " rename"; step = "rename"; next }
		$0 ~ "openat\\(.*\"" dir "\".*O_DIRECTORY" && step == "rename" { match($0, /= [0-9]+$/); dfd = substr($0, RSTART + 2); step = "diropen"; next }
		dfd != "" && $0 ~ "fsync\\(" dfd "\\)" && step == "diropen" { seq = seq " dirfsync"; step = "done" }
		END { print seq }' "$BATS_TEST_TMPDIR/trace"
	assert_output 'open write fsync close rename dirfsync'
}

@test "dsn: a message far over the size limit is read only in part and returned as headers" {
	queuefile alice@example.com
	head -c 40000000 /dev/zero | tr '\0' 'x' | fold -w 900 | sed 's/$/\r/' >> "$QF"
	record bob@example.net failed 5.1.1 "" "550 5.1.1 no such user"
	bounce_dsn
	assert_success
	[ "$(wc -c < "$FAKEQ_DIR/1/message")" -lt 10000 ]
	parse
	assert_line 'part3=text/rfc822-headers'
	assert_line 'part3:h:Subject=quarterly report'
}
