#!/usr/bin/env bats
# not tested: the latency in seconds and 20,000 queued (bench/shaping measures it), 500,000 queued (tests/c/t_lanes.c simulates the queue and counts the steps), a startup scan classified before relay-send attaches the lanes (the loop's call, see doc/architecture.md).
load helper
load smtp_helper

setup_file() { TESTS="$BATS_TEST_DIRNAME"; }
setup() { relay_home; relay_setting smtp_timeout 300s; }
teardown() {
	[ -n "${DAEMON:-}" ] && kill -9 "$DAEMON" 2>/dev/null || true
	stop_servers
	true
}

bulk() {        # bulk N: N messages of class bulk to r@example.net
	local i
	for i in $(seq "$1"); do
		printf 'Subject: bulk %s\n\nbulk %s\n' "$i" "$i" | relay-inject -C bulk -f s@example.org r@example.net
	done
}

recorded() {    # recorded SRVDIR: how many messages the server in SRVDIR recorded
	ls "$1/rec" | grep -c '\.eml$' || true
}

at_least() {    # at_least SRVDIR N
	[ "$(recorded "$1")" -ge "$2" ]
}

sessions() {    # sessions SRVDIR N: the server saw N MAIL commands or more
	[ "$(grep -c ' MAIL FROM:' "$1/log")" -ge "$2" ]
}

has_otp() {     # has_otp SRVDIR: the transactional message is recorded
	grep -l '^Subject: otp' "$1"/rec/*.eml >/dev/null 2>&1
}

@test "2,000 bulk queued to a slow relay: a transactional message injected after them is delivered before the backlog drains" {
	start_server --stall 0.2 --stall-at dot
	echo "main failover 127.0.0.1:$PORT" >> "$RELAY_HOME/etc/pools"
	echo "default main" >> "$RELAY_HOME/etc/routes"
	relay-config -d "$RELAY_HOME"
	bulk 2000
	relay-send -w 4 >"$BATS_TEST_TMPDIR/send.log" 2>&1 &
	DAEMON=$!
	wait_for at_least "$SRV" 5          # the backlog is flowing
	printf 'Subject: otp\n\ncode 1234\n' | relay-inject -C transactional -f s@example.org t@example.net
	wait_for has_otp "$SRV"
	left=$(queue_count)
	otp=$(basename "$(grep -l '^Subject: otp' "$SRV"/rec/*.eml)" .eml)
	echo "otp was message $otp of the server; $left still queued"
	# in order: the bulk ahead of it had not drained, far from it
	[ "$left" -ge 1000 ]
	[ "$((10#$otp))" -lt 1000 ]
	wait_for grep -q "^event=delivered .*rcpt=t@example.net" "$BATS_TEST_TMPDIR/send.log"
}

@test "every bulk transaction stalls: the worker kept for transactional mail takes it at once" {
	start_server --stall 200 --stall-at dot; SLOW=$PORT; SS=$SRV
	start_server; FAST=$PORT; SF=$SRV
	printf 'slow failover 127.0.0.1:%s\nfast failover 127.0.0.1:%s\n' "$SLOW" "$FAST" >> "$RELAY_HOME/etc/pools"
	printf 'class:bulk slow\ndefault fast\n' >> "$RELAY_HOME/etc/routes"
	relay-config -d "$RELAY_HOME"
	bulk 40
	relay-send -w 4 >"$BATS_TEST_TMPDIR/send.log" 2>&1 &
	DAEMON=$!
	# 40 bulk attempts would fill the 32 attempt slots (4 a worker and 16):
	# 8 are kept; three workers (4 less the 10% kept, rounded up to one)
	# hang in bulk sessions
	wait_for sessions "$SS" 3
	printf 'Subject: otp\n\ncode 1234\n' | relay-inject -C transactional -f s@example.org t@example.net
	WAIT_FOR_CAP=100 wait_for has_otp "$SF"
	# no bulk session ended meanwhile, and bulk never took the fourth worker
	[ "$(queue_count)" -eq 40 ]
	[ "$(grep -c ' MAIL FROM:' "$SS/log")" -eq 3 ]
}

@test "etc/retry priority= and reserve=: strict, with file:line errors" {
	printf 'otp priority=9 reserve=2\nnewsletter priority=1 reserve=5%%\n' >> "$RELAY_HOME/etc/retry"
	run relay-config -d "$RELAY_HOME"
	assert_success
	n=$(wc -l < "$RELAY_HOME/etc/retry")
	printf 'bad priority=10\nworse reserve=101%%\ntwice priority=1 priority=2\n' >> "$RELAY_HOME/etc/retry"
	run relay-config -d "$RELAY_HOME" check
	assert_failure
	assert_line "relay-config: error: etc/retry:$((n + 1)): priority \"10\" is not a number from 0 to 9"
	assert_line --partial "etc/retry:$((n + 2)): reserve \"101%\" is not a number of workers"
	assert_line "relay-config: error: etc/retry:$((n + 3)): priority= given twice"
}
