#!/usr/bin/env bats
# not tested: power loss (the fsync order is checked with strace instead); a disk that fills half way through a file (EFBIG from ulimit -f and EIO from RELAY_FAIL_FSYNC stand in for ENOSPC, which needs a small file system and root to mount it).
load helper
load smtpd_helper

setup() {
	export TCPREMOTEIP=127.0.0.1
	relay_home
	relay_client 127.0.0.0/8
}

crlf() { printf '%s\r\n' "$@"; }

# one message with its own Date and Message-ID (so nothing is generated)
dialogue() {
	local n=${1:-1} i
	crlf 'EHLO app.example'
	for i in $(seq "$n"); do
		crlf 'MAIL FROM:<a@example.org>' 'RCPT TO:<b@example.net>' 'RCPT TO:<c@example.net>' DATA \
			'Date: Tue, 1 Dec 2026 10:00:00 +0000' "Message-ID: <m$i@example.org>" 'Subject: s' '' 'body' .
	done
	crlf QUIT
}

# a queue file with what differs between two commits of the same message
# blanked: the arrival time and the dates of the Received lines
normal() { sed -E 's/^A[0-9]+$/A/; s/[A-Z][a-z]{2}, [0-9]+ [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} [+-][0-9]{4}/DATE/' "$1"; }

# the queue file of the third message of a dialogue
third() { grep -l '^Message-ID: <m3@example.org>' $(find "$RELAY_HOME/queue/msg" -type f); }

# relay-queue runs (execve) in an strace log
queue_runs() { grep -c 'execve(".*/relay-queue"' "$1"; }

@test "a session commits through one relay-queue -S: the queue files are byte for byte those of one run per message (envelope, trace, L)" {
	run env ASAN_OPTIONS=detect_leaks=0 strace -s 256 -f -o "$BATS_TEST_TMPDIR/s.log" -e trace=execve relay-smtpd < <(dialogue 3)
	assert_success
	[ "$(grep -c '^250 2.0.0 ok: queued' <<< "$output")" = 3 ]
	[ "$(queue_runs "$BATS_TEST_TMPDIR/s.log")" = 1 ]
	grep -q 'relay-queue", \[".*relay-queue", "-S"\]' "$BATS_TEST_TMPDIR/s.log"
	f=$(third)
	normal "$f" > "$BATS_TEST_TMPDIR/session"
	len=$(( $(wc -c < "$f") - $(sed '/^$/q' "$f" | wc -c) ))
	rm -f $(find "$RELAY_HOME/queue/msg" -type f)

	# RELAYQUEUE set (here to relay-queue itself): one run per message
	RELAYQUEUE=$(command -v relay-queue) run env ASAN_OPTIONS=detect_leaks=0 strace -s 256 -f -o "$BATS_TEST_TMPDIR/e.log" -e trace=execve relay-smtpd < <(dialogue 3)
	assert_success
	[ "$(queue_runs "$BATS_TEST_TMPDIR/e.log")" = 3 ]
	normal "$(third)" > "$BATS_TEST_TMPDIR/exec"
	cmp "$BATS_TEST_TMPDIR/session" "$BATS_TEST_TMPDIR/exec"
	# what was compared: the envelope, relay-queue's trace, the L record
	grep -qx 'Tc@example.net' "$BATS_TEST_TMPDIR/session"
	grep -qx "L$len" "$BATS_TEST_TMPDIR/session"
	grep -q $'^Received: (relay-queue invoked by uid '"$(id -u)"$');\r$' "$BATS_TEST_TMPDIR/session"
}

@test "the 250 comes after the fsync of the queue file, its rename and the fsync of the directory" {
	run env ASAN_OPTIONS=detect_leaks=0 strace -s 4096 -f -o "$BATS_TEST_TMPDIR/t.log" -e trace=fsync,renameat2,write relay-smtpd < <(dialogue 2)
	assert_success
	# per message: the fsync of tmp/ID, its rename to msg/XX/ID, the next
	# fsync (the directory), all done before relay-smtpd's write of the 250
	ids=$(grep -oE 'queued as [0-9a-f.]+' <<< "$output" | cut -d' ' -f3 | sort -u)
	[ "$(wc -w <<< "$ids")" = 2 ]
	for id in $ids; do
		awk -v id="$id" '
			/fsync\(.*= 0$/ { last_fsync = NR; if (renamed && !dir) dir = NR }
			/renameat2\(.*= 0$/ && index($0, "/msg/") && index($0, id) { renamed = NR; file = last_fsync }
			/write\(1, / && index($0, "queued as " id) { if (!w) w = NR }
			END { exit !(file && file < renamed && renamed < dir && dir < w) }' "$BATS_TEST_TMPDIR/t.log" ||
			{ grep -E "fsync|rename|write\(1" "$BATS_TEST_TMPDIR/t.log"; false; }
	done
}

@test "an fsync that fails (EIO) is 451 and queues nothing, in a session as in one run per message" {
	RELAY_FAIL_FSYNC=1 run relay-smtpd < <(dialogue 2)
	assert_success
	[ "$(grep -c '^451 4.3.0 temporary queue failure' <<< "$output")" = 2 ]
	[ "$(queue_count)" = 0 ]
	[ -z "$(ls "$RELAY_HOME/queue/tmp")" ]
	RELAYQUEUE=$(command -v relay-queue) RELAY_FAIL_FSYNC=1 run relay-smtpd < <(dialogue 1)
	assert_line --partial '451 4.3.0 temporary queue failure'
	[ "$(queue_count)" = 0 ]
}

@test "a write that fails (EFBIG: the file size limit, as a full disk) is 451 and queues nothing" {
	run bash -c 'ulimit -f 0; relay-smtpd' < <(dialogue 2)
	[ "$(grep -c '^451 4.3.0 temporary queue failure' <<< "$output")" = 2 ]
	assert_line --partial 'unable to write to queue/tmp: File too large'
	[ "$(queue_count)" = 0 ]
	[ -z "$(ls "$RELAY_HOME/queue/tmp")" ]
}

@test "a RELAYQUEUE filter is run once per message, without -S" {
	cat > "$BATS_TEST_TMPDIR/filter" <<-EOF2
	#!/bin/sh
	echo "run \$#" >> "$BATS_TEST_TMPDIR/runs"
	exec relay-queue "\$@"
	EOF2
	chmod +x "$BATS_TEST_TMPDIR/filter"
	RELAYQUEUE=$BATS_TEST_TMPDIR/filter run relay-smtpd < <(dialogue 2)
	assert_success
	[ "$(grep -c '^250 2.0.0 ok: queued' <<< "$output")" = 2 ]
	[ "$(cat "$BATS_TEST_TMPDIR/runs")" = "run 0
run 0" ]
	[ "$(queue_count)" = 2 ]
}

@test "relay-queue -S refuses what one run refuses, answers before it exits, and removes its tmp file" {
	# a bare CR in the message: 31, permanent
	run bash -c 'printf "8:a\rb\r\n\r\nx,11:Fa@b\0Tc@d\0\0,"  | relay-queue -S'
	[ "$status" = 31 ]
	assert_output --partial '2:31,'
	# a bad envelope after a good message: 91
	run bash -c 'printf "3:x\r\n,4:Fa@b,"  | relay-queue -S'
	[ "$status" = 91 ]
	assert_output --partial '2:91,'
	# two good ones, then the end of input: exit 0
	run bash -c 'printf "3:x\r\n,11:Fa@b\0Tc@d\0\0,3:y\r\n,11:Fa@b\0Tc@d\0\0," | relay-queue -S'
	assert_success
	[ "$(grep -oE '24:0 [0-9a-f]{13}\.[0-9a-f]{8},' <<< "$output" | wc -l)" = 2 ]
	[ "$(queue_count)" = 2 ]
	[ -z "$(ls "$RELAY_HOME/queue/tmp")" ]
}

@test "a relay-queue -S that died between two messages is replaced: the next message is queued, not refused" {
	coproc SMTPD { exec relay-smtpd 2>"$BATS_TEST_TMPDIR/log"; }
	reply() { # reply PATTERN: read replies until one matches
		local l
		while IFS= read -r -t 60 l <&"${SMTPD[0]}"; do
			l=${l%$'\r'}
			echo "$l" >> "$BATS_TEST_TMPDIR/replies"
			[[ $l =~ $1 ]] && return 0
		done
		return 1
	}
	msg() { crlf 'MAIL FROM:<a@example.org>' 'RCPT TO:<b@example.net>' DATA "Subject: $1" '' x . >&"${SMTPD[1]}"; }
	reply '^220 '
	crlf 'EHLO x' >&"${SMTPD[1]}"
	reply '^250 '
	msg 1
	reply '^250 2\.0\.0 ok: queued'
	q=$(pgrep -P "$SMTPD_PID")
	[ -n "$q" ]
	grep -q -- '-S' "/proc/$q/cmdline"
	kill -9 "$q"
	# dead (a zombie until relay-smtpd reaps it): its pipe is closed
	wait_for sh -c "! [ -e /proc/$q/stat ] || [ \"\$(cut -d' ' -f3 /proc/$q/stat)\" = Z ]"
	msg 2
	reply '^[245][0-9][0-9] [0-9]\.[0-9]\.[0-9] (ok: queued|temporary)'
	crlf QUIT >&"${SMTPD[1]}"
	wait "$SMTPD_PID" || true
	grep -q 'queued as' <<< "$(tail -1 "$BATS_TEST_TMPDIR/replies")"
	[ "$(queue_count)" = 2 ]
}
