#!/usr/bin/env bats
# not tested: a dead cached session over TLS (the quiet check is the same; tests/smtp.bats covers it in net/), MX sessions (the same path with an mx: key).
load helper
load smtp_helper

load send_helper

# A network worker keeps its connection for the next message to the same
# relay. When the relay has closed it meanwhile (restarted, or its own
# idle limit), the next message goes out on a new connection in the same
# job: no deferral, no failover, no attempt counted.

setup() { send_setup; }
teardown() { send_teardown; }
send_id() { printf 'Subject: %s\n\nbody\n' "$1" | relay-inject -v -f s@example.org r@example.net; }   # prints the queue id
# one worker (so the second message reuses its session), the first message delivered
one_worker_sends() {
	relay-send -w 1 > "$BATS_TEST_TMPDIR/log" 2>&1 &
	DAEMON=$!
	wait_for grep -q '^event=start' "$BATS_TEST_TMPDIR/log"
	send_one "$1"
	wait_for recorded "$SRV" 1
}
concluded() { grep -Eq "^event=(delivered|deferred|failover) id=$1 " "$BATS_TEST_TMPDIR/log"; }

@test "the relay closes the connection after each message (421 to the next MAIL): the next message is sent on a new connection, not deferred" {
	start_server --max-messages 1
	pool main failover 127.0.0.1:$PORT
	one_worker_sends m1
	id=$(send_id m2)
	wait_for concluded "$id"
	logged "^event=delivered id=$id "
	refute_logged "event=deferred"
	refute_logged "event=failover"
	recorded "$SRV" 2
	# the second message went on a second connection (two EHLOs seen)
	[ "$(grep -c 'EHLO' "$SRV/log")" -eq 2 ]
}

@test "the relay restarts between two messages: the dead cached session is noticed, the message goes on a new connection" {
	P=$(free_port)
	start_server --port "$P"
	pool main failover 127.0.0.1:$P
	one_worker_sends m1
	first=$SRV
	pid=$(echo $SRV_PIDS | awk '{print $NF}')
	kill "$pid"
	wait_for gone "$pid"
	start_server --port "$P"
	id=$(send_id m2)
	wait_for concluded "$id"
	logged "^event=delivered id=$id "
	refute_logged "event=deferred"
	recorded "$SRV" 1
	recorded "$first" 1
}
