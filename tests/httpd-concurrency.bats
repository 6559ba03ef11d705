#!/usr/bin/env bats
# not tested: throughput against relay-smtpd (bench/httpd: a timed run is a benchmark, not a test); more than API_SESSIONS_IDLE sessions at once.
# issue 13: relay-httpd's thread per connection and its shared relay-queue -S sessions (lib/http/server.h, api.h)
load helper
load httpd_helper

setup() {
	httpd_home
	newkey app1
}
teardown() {
	[ -n "${HT:-}" ] && touch "$HT/gate/go" 2>/dev/null
	httpd_stop
}

# a queue program that says it has a message (gate/in.PID), waits for
# gate/go, then is relay-queue: commits that are all in it at once
gate_queue() {
	mkdir -m 1777 "$HT/gate"
	cat > "$HT/gateq" <<-EOF
	#!/bin/sh
	: > "$HT/gate/in.\$\$"
	i=0
	while [ ! -e "$HT/gate/go" ] && [ \$i -lt 1200 ]; do sleep 0.05; i=\$((i + 1)); done
	exec "$RELAY_BUILD/bin/relay-queue"
	EOF
	chmod 755 "$HT/gateq"
}
inside() { [ "$(find "$HT/gate" -name 'in.*' | wc -l)" -ge "$1" ]; }
# the relay-queue -S sessions relay-httpd runs now: their pids
sessions() { ps -o pid=,args= --ppid "$HTTPD_PID" | awk '$NF == "-S" { print $1 }'; }

@test "9 POSTs on 9 connections are all in the queue program at once (no connection waits behind another's commit), and each gets its 202" {
	gate_queue
	HTTPD_ENV="RELAYQUEUE=$HT/gateq" httpd_start
	printf '%s' '{"from": "a@example.com", "to": ["r@example.net"], "text": "hi"}' > "$HT/req.json"
	pids=""
	for i in 1 2 3 4 5 6 7 8 9; do
		curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $TOK" \
			-H 'Content-Type: application/json' --data-binary @"$HT/req.json" \
			"$URL/v1/messages" > "$HT/code.$i" &
		pids="$pids $!"
	done
	# a pool of 8 threads had at least two of the 9 on one thread: one
	# waited for the other's commit and never reached the queue program
	WAIT_FOR_CAP=20 wait_for inside 9
	touch "$HT/gate/go"
	wait $pids
	run cat "$HT"/code.*
	assert_output "$(printf '202\n%.0s' 1 2 3 4 5 6 7 8 9)"
	[ "$(queue_count)" = 9 ]
}

@test "-c N: N connections at once are all served (one count for the server, not a share per thread)" {
	httpd_start -c 12
	PORT=$HPORT python3 -c "
import os, socket
PORT = int(os.environ['PORT'])
def sock():
    s = socket.create_connection(('127.0.0.1', PORT)); s.settimeout(30); return s
held = [sock() for i in range(12)]
for h in held:     # half a request each: all 12 are open at once
    h.sendall(b'GET /healthz HTTP/1.1\r\nHost: x\r\n')
got = []
for h in held:
    try:
        h.sendall(b'\r\n')
        got.append(h.recv(100).split(b'\r\n')[0].decode())
    except OSError as e:
        got.append(type(e).__name__)
print(sorted(set(got)), len([g for g in got if ' 200 ' in g]))
for h in held:
    h.close()" > "$HT/out"
	run cat "$HT/out"
	assert_output "['HTTP/1.1 200 OK'] 12"
}

@test "the relay-queue -S session outlives the connection: POSTs on new connections, one after another, go through one session, ended when relay-httpd stops" {
	httpd_start
	for i in 1 2 3 4; do
		post '{"from": "a@example.com", "to": ["r@example.net"], "text": "hi"}'
		[ "$CODE" = 202 ]
		sessions > "$HT/s.$i"
		[ "$(wc -l < "$HT/s.$i")" = 1 ]
	done
	run cat "$HT/s.1" "$HT/s.2" "$HT/s.3" "$HT/s.4"
	assert_output "$(cat "$HT/s.1" "$HT/s.1" "$HT/s.1" "$HT/s.1")"
	[ "$(queue_count)" = 4 ]
	s=$(cat "$HT/s.1")
	kill "$HTTPD_PID"
	wait_for gone "$HTTPD_PID"
	# relay-httpd closed its input and waited for it before it exited
	gone "$s"
	grep -q '^relay-httpd: stopped' "$HT/httpd.log"
}
