#!/usr/bin/env bats
# not tested: power loss (only kill -9 and injected faults); see tests/crash.bats for those.
load helper

setup() { relay_home; printf 'Subject: q\n\nbody\n' > "$BATS_TEST_TMPDIR/msg"; }

# rq ENVELOPE-PRINTF-FORMAT: run relay-queue with the message on fd 0 and
# the envelope on fd 1, as qmail-queue is run.
rq() {
	printf "$1" > "$BATS_TEST_TMPDIR/env"
	run bash -c 'relay-queue <"$0" 1<"$1"' "$BATS_TEST_TMPDIR/msg" "$BATS_TEST_TMPDIR/env"
}

@test "the qmail-queue protocol: message on fd 0, envelope on fd 1, exit 0" {
	rq 'Fa@example.org\0Tb@example.net\0Tc@example.net\0\0'
	assert_success
	f=$(queue_last)
	run head -6 "$f"
	assert_line --index 0 "RQ1"
	assert_line --index 2 "Cdefault"
	assert_line --index 3 "Fa@example.org"
	assert_line --index 4 "Tb@example.net"
	assert_line --index 5 "Tc@example.net"
	# bare LF became CRLF
	grep -q $'^body\r$' "$f"
	[ -z "$(ls "$RELAY_HOME/queue/tmp")" ]
}

@test "the class record extension and the null sender" {
	rq 'Cbulk\0F\0Tb@example.net\0\0'
	assert_success
	grep -qx Cbulk "$(queue_last)"
	grep -qx F "$(queue_last)"
}

@test "bad envelopes exit 91 and leave nothing" {
	for env in '' 'Fa@b.c\0\0' 'Tb@c.d\0\0' 'Fa@b.c\0Tb@c.d\0' 'Fa@b.c\0Xjunk\0\0' 'Fa@b.c\0Tb@c.d\0\0extra' \
		   'Fa@b.c\0Fa@b.c\0Tb@c.d\0\0' 'Fa@b.c\0Tb@c.d\r\nRCPT TO:<x@y>\0\0' 'Fa@b.c\0Tno-domain\0\0' 'Cbad class\0Fa@b.c\0Tb@c.d\0\0'; do
		rq "$env"
		assert_failure 91
	done
	[ "$(queue_count)" -eq 0 ]
	[ -z "$(ls "$RELAY_HOME/queue/tmp")" ]
}

@test "addresses over the RFC 5321 limits exit 11" {
	l65=$(printf 'a%.0s' $(seq 65))
	rq "Fa@b.c\0T$l65@example.net\0\0"
	assert_failure 11
	lab=$(printf 'b%.0s' $(seq 63))
	rq "F$lab.$lab.$lab.$lab.$lab@x\0Tb@c.d\0\0"
	assert_failure 11
	[ "$(queue_count)" -eq 0 ]
}

@test "bare CR and NUL in the message are refused with 31; over the size limit too" {
	printf 'S: a\n\nx\ry\n' > "$BATS_TEST_TMPDIR/msg"
	rq 'Fa@b.c\0Tb@c.d\0\0'
	assert_failure 31
	printf 'S: a\n\nx\0y\n' > "$BATS_TEST_TMPDIR/msg"
	rq 'Fa@b.c\0Tb@c.d\0\0'
	assert_failure 31
	relay_setting maxsize 1024
	head -c 2000 /dev/zero | tr '\0' a > "$BATS_TEST_TMPDIR/msg"
	rq 'Fa@b.c\0Tb@c.d\0\0'
	assert_failure 31
	[ "$(queue_count)" -eq 0 ]
}

@test "an unreadable message exits 54, an unreadable envelope 55" {
	run bash -c 'relay-queue 0</ 1<"$0"' "$BATS_TEST_TMPDIR/msg"
	assert_failure 54
	run bash -c 'relay-queue <"$0" 1>/dev/null' "$BATS_TEST_TMPDIR/msg"
	assert_failure 55
}

@test "a missing queue directory is a write error (53), nothing left" {
	rm -rf "$RELAY_HOME/queue/msg/"*
	for i in 1 2 3; do
		rq 'Fa@b.c\0Tb@c.d\0\0'
		assert_failure 53
	done
	[ -z "$(ls "$RELAY_HOME/queue/tmp")" ]
}

@test "queue ids sort by time and spread over hashed directories" {
	for i in $(seq 40); do rq 'Fa@b.c\0Tb@c.d\0\0'; done
	ls "$RELAY_HOME"/queue/msg/*/ > /dev/null
	ids=$(find "$RELAY_HOME/queue/msg" -type f -printf '%T@ %f\n' | sort -n | awk '{print $2}')
	[ "$ids" = "$(printf '%s\n' $ids | sort)" ]
	dirs=$(find "$RELAY_HOME/queue/msg" -type f | xargs -n1 dirname | sort -u | wc -l)
	[ "$dirs" -gt 20 ]
	# each file sits in the bucket named by its id
	for f in $(find "$RELAY_HOME/queue/msg" -type f); do
		id=$(basename "$f"); [ "$(basename "$(dirname "$f")")" = "${id:14:2}" ]
	done
}

@test "2,000 messages from 16 parallel writers: all present, ids unique" {
	for w in $(seq 16); do
		( for i in $(seq 125); do
			printf 'Subject: w%s-%s\n\nx\n' "$w" "$i" | relay-inject -v b@example.net || echo FAIL
		  done > "$BATS_TEST_TMPDIR/ids.$w" ) &
	done
	wait
	! grep -h FAIL "$BATS_TEST_TMPDIR"/ids.*
	[ "$(cat "$BATS_TEST_TMPDIR"/ids.* | sort -u | wc -l)" -eq 2000 ]
	[ "$(queue_count)" -eq 2000 ]
	[ "$(grep -l '^Subject: w' -r "$RELAY_HOME/queue/msg" | wc -l)" -eq 2000 ]
	run relay-qctl stat
	assert_line "messages 2000"
}

@test "relay-qctl list shows id, age, size, sender, recipients and status; --json parses" {
	printf 'S: a\n\nx\n' | relay-inject -f s@example.org r1@example.net r2@example.net
	run relay-qctl list
	assert_success
	assert_line --partial "<s@example.org>"
	assert_line --regexp '^ +queued +<r1@example.net>$'
	id=$(basename "$(queue_last)")
	mkdir -p "$RELAY_HOME/queue/info/${id:14:2}"
	printf 'D0 1 relay:25\n' > "$RELAY_HOME/queue/info/${id:14:2}/$id"
	run relay-qctl list --json
	assert_success
	echo "$output" | /usr/bin/python3 -c '
import json,sys; q=json.load(sys.stdin); m=q[0]
assert m["sender"]=="s@example.org"
assert [r["status"] for r in m["recipients"]]==["delivered","queued"], m
assert m["size"]>0 and m["age"]>=0'
	run relay-qctl stat --json
	echo "$output" | /usr/bin/python3 -c 'import json,sys; s=json.load(sys.stdin); assert s["messages"]==1 and s["recipients_delivered"]==1'
}
