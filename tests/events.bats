#!/usr/bin/env bats
# not tested: an OS crash between a write and its fsync (the documented window), a receiver on another host, the benchmark (bench/), 1 GB replies (the body is cut off after 64 KiB: tests/c), relay-smtpd and relay-health as writers.
load helper
load smtp_helper
load smtpd_helper
load httpd_helper

setup_file() { TESTS="$BATS_TEST_DIRNAME"; make_certs; }
setup() {
	relay_home
	relay_setting smtp_timeout 10s
	mkdir -p "$RELAY_HOME/state/events/consumers"
	printf 'the-secret\n' > "$RELAY_HOME/etc/hook.key"
	RCV_PIDS=""
	export RELAY_EVENTS_BACKOFF_MAX=1
}
teardown() {
	stop_servers
	httpd_stop
	for p in $RCV_PIDS ${EVD:-}; do kill "$p" 2>/dev/null || true; done
	true
}

# receiver NAME [options]: start tests/events-receiver; sets RPORT; its
# requests go to $BATS_TEST_TMPDIR/NAME/requests
receiver() {
	local name=$1; shift
	mkdir -p "$BATS_TEST_TMPDIR/$name"
	"$TESTS/events-receiver" --port-file "$BATS_TEST_TMPDIR/$name/port" --dir "$BATS_TEST_TMPDIR/$name" "$@" \
		>"$BATS_TEST_TMPDIR/$name/out" 2>&1 3>&- &
	RCV_PIDS="$RCV_PIDS $!"
	wait_for test -s "$BATS_TEST_TMPDIR/$name/port"
	RPORT=$(cat "$BATS_TEST_TMPDIR/$name/port")
}
crlf() { printf '%s\r\n' "$@"; }
hook() { echo "$*" >> "$RELAY_HOME/etc/webhooks"; relay-config -d "$RELAY_HOME" >/dev/null; }
start_events() {
	relay-events >> "$BATS_TEST_TMPDIR/events.log" 2>&1 3>&- &
	EVD=$!
}
inject() {   # inject N: N messages (each a "received" record)
	for i in $(seq "$1"); do
		printf 'Subject: m%s\nMessage-ID: <m%s@test>\n\nbody\n' "$i" "$i" | relay-inject -f s@example.org r@example.net
	done
}

# The documented snippet (doc/events.md), and the events of every answered
# request, signatures checked with it: one line "EVENT ID RECIPIENT
# MESSAGE-ID" per event. With --all: requests whatever their answer.
received() {
	sed -n '/^<!-- verify snippet -->/,/^```$/p' "$BATS_TEST_DIRNAME/../doc/events.md" | sed '1,2d;$d' > "$BATS_TEST_TMPDIR/verify.py"
	python3 - "$BATS_TEST_TMPDIR/$1/answered" "$RELAY_HOME/etc/hook.key" "$BATS_TEST_TMPDIR/verify.py" "${2:-}" <<'EOF'
import json, sys
exec(open(sys.argv[3]).read())
secret = open(sys.argv[2], "rb").read().rstrip(b"\n")
for line in open(sys.argv[1]):
    r = json.loads(line)
    if sys.argv[4] != "--all" and not 200 <= r["status"] < 300:
        continue
    body = r["body"].encode()
    if not verify(secret, r["headers"], body):
        print("BAD-SIGNATURE", r["n"])
        continue
    for e in json.loads(body):
        print(e["event"], e["id"], e.get("recipient", "-"), e.get("message_id", "-"))
EOF
}
spool_ids() { relay-events tail --json | python3 -c 'import json,sys; [print(json.loads(l)["id"]) for l in sys.stdin]'; }
all_arrived() {   # all_arrived NAME: every record of the spool was answered 2xx at NAME
	local want got
	want=$(spool_ids | sort -u)
	got=$(received "$1" | awk '{print $2}' | sort -u)
	[ -n "$want" ] && [ -z "$(comm -23 <(echo "$want") <(echo "$got"))" ]
}

@test "relay-config: etc/webhooks lines are checked, with file:line errors" {
	printf 'app https://h.example/in secret=hook.key events=delivered,bounced batch=10\n' > "$RELAY_HOME/etc/webhooks"
	run relay-config -d "$RELAY_HOME"
	assert_success
	[ -f "$RELAY_HOME/etc/webhooks.cdb" ]
	printf 'bad http://h.example/in\nx https://h/ events=delivred\napp https://h/\ny https://h/ colour=red\n' >> "$RELAY_HOME/etc/webhooks"
	run relay-config -d "$RELAY_HOME"
	assert_failure
	assert_output --partial "etc/webhooks:2:"
	assert_output --partial "etc/webhooks:3: unknown event"
	assert_output --partial "etc/webhooks:4: endpoint \"app\" defined twice"
	assert_output --partial "etc/webhooks:5: unknown option"
}

@test "delivered, deferred, failed and bounced events arrive, signed; the documented snippet verifies them" {
	start_server --rcpt-reply 'defer@example.net=450 4.2.0 mailbox busy' --rcpt-reply 'fail@example.net=550 5.1.1 no such user'
	printf 'main failover 127.0.0.1:%s\n' "$PORT" >> "$RELAY_HOME/etc/pools"
	echo "default main" >> "$RELAY_HOME/etc/routes"
	relay-config -d "$RELAY_HOME"
	receiver app
	hook app "http://127.0.0.1:$RPORT/in secret=hook.key"
	for r in ok defer fail; do
		printf 'Subject: %s\nMessage-ID: <%s@test>\n\nbody\n' "$r" "$r" | relay-inject -f s@example.org "$r@example.net"
	done
	run relay-send -1 -w 2
	assert_success
	start_events
	wait_for grep -q '^bounced ' <(received app)
	run received app
	echo "$output"
	refute_output --partial BAD-SIGNATURE
	assert_line --regexp '^received relay-queue:1:[0-9]+ - -$'
	assert_line --regexp '^delivered relay-send:[0-9:]+ ok@example.net <ok@test>$'
	assert_line --regexp '^deferred relay-send:[0-9:]+ defer@example.net <defer@test>$'
	assert_line --regexp '^failed relay-send:[0-9:]+ fail@example.net <fail@test>$'
	assert_line --regexp '^bounced relay-send:'
	# every delivered, deferred and failed record names its pool
	run python3 -c 'import json,sys
for l in sys.stdin:
    e = json.loads(l)
    if e["event"] in ("delivered", "deferred", "failed"):
        print(e["event"], e.get("pool", "NONE"))' < <(relay-events tail --json)
	assert_success
	[ "${#lines[@]}" -eq 3 ]
	refute_output --partial NONE
	assert_line 'delivered main'
	# a wrong secret does not verify
	printf 'other\n' > "$RELAY_HOME/etc/hook.key"
	run received app
	assert_output --partial BAD-SIGNATURE
}

@test "a 500 then 200 endpoint: retried with back-off, everything arrives in order" {
	receiver app --status 500,500,503
	hook app "http://127.0.0.1:$RPORT/in secret=hook.key batch=3"
	inject 7
	start_events
	wait_for all_arrived app
	grep -q 'event=webhook_retry endpoint=app .*status=500' "$BATS_TEST_TMPDIR/events.log"
	# in order: the ids the endpoint accepted are the spool's order
	[ "$(received app | awk '{print $2}' | uniq)" = "$(spool_ids)" ]
	[ "$(python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["status"] >= 500))' "$BATS_TEST_TMPDIR/app/requests")" -eq 3 ]
}

@test "kill -9 of relay-events mid-batch: every event arrives at least once" {
	touch "$BATS_TEST_TMPDIR/hold"
	receiver app --hold "$BATS_TEST_TMPDIR/hold"
	hook app "http://127.0.0.1:$RPORT/in secret=hook.key batch=4"
	inject 10
	start_events
	# the first batch is at the receiver, unanswered: kill the daemon now
	wait_for test -s "$BATS_TEST_TMPDIR/app/requests"
	# the endpoint's process, found before its parent dies (then it is
	# reparented and pgrep -P no longer finds it)
	child=$(pgrep -P "$EVD" || true)
	kill -9 "$EVD"
	wait_for gone "$EVD" $child
	rm "$BATS_TEST_TMPDIR/hold"
	start_events
	wait_for all_arrived app
	# the batch that was in flight came again (a repeat, not a loss)
	first=$(head -1 "$BATS_TEST_TMPDIR/app/requests" | python3 -c 'import json,sys; print(json.loads(json.loads(sys.stdin.read())["body"])[0]["id"])')
	[ "$(received app | grep -c " $first ")" -ge 1 ]
	[ "$(grep -c "$first" "$BATS_TEST_TMPDIR/app/requests")" -ge 2 ]
}

@test "a 400 endpoint is skipped after its tries and never holds up another; a silent one neither" {
	touch "$BATS_TEST_TMPDIR/hold"
	receiver bad --default 400
	bad=$RPORT
	receiver silent --hold "$BATS_TEST_TMPDIR/hold"
	silent=$RPORT
	receiver good
	hook bad "http://127.0.0.1:$bad/in secret=hook.key tries=2"
	hook silent "http://127.0.0.1:$silent/in secret=hook.key timeout=5m"
	hook good "http://127.0.0.1:$RPORT/in secret=hook.key events=received"
	inject 5
	start_events
	wait_for all_arrived good
	# the silent endpoint still holds its first request: it delayed nobody
	[ -s "$BATS_TEST_TMPDIR/silent/requests" ]
	[ -z "$(received silent)" ]
	wait_for grep -q 'event=webhook_skipped endpoint=bad .*status=400 tries=2' "$BATS_TEST_TMPDIR/events.log"
	rm "$BATS_TEST_TMPDIR/hold"
	wait_for all_arrived silent
}

@test "redirects are not followed" {
	receiver target
	target=$RPORT
	receiver app --redirect "http://127.0.0.1:$target/elsewhere"
	hook app "http://127.0.0.1:$RPORT/in secret=hook.key tries=1"
	inject 1
	start_events
	wait_for grep -q 'event=webhook_skipped endpoint=app .*status=302' "$BATS_TEST_TMPDIR/events.log"
	[ ! -s "$BATS_TEST_TMPDIR/target/requests" ]
}

@test "TLS: a certificate from the configured CA is accepted, any other refused" {
	cp "$CERTS/ca.pem" "$RELAY_HOME/etc/hook-ca.pem"
	receiver good --tls "$CERTS/server.pem" "$CERTS/server.key"
	hook good "https://127.0.0.1:$RPORT/in secret=hook.key ca=hook-ca.pem"
	receiver wrong --tls "$CERTS/wrong.pem" "$CERTS/wrong.key"
	hook wrong "https://127.0.0.1:$RPORT/in secret=hook.key ca=hook-ca.pem"
	receiver self --tls "$CERTS/self.pem" "$CERTS/self.key"
	hook self "https://127.0.0.1:$RPORT/in secret=hook.key ca=hook-ca.pem"
	inject 2
	start_events
	wait_for all_arrived good
	wait_for grep -q 'event=webhook_retry endpoint=wrong .*status=0' "$BATS_TEST_TMPDIR/events.log"
	wait_for grep -q 'event=webhook_retry endpoint=self .*status=0' "$BATS_TEST_TMPDIR/events.log"
	[ ! -s "$BATS_TEST_TMPDIR/wrong/requests" ]
	[ ! -s "$BATS_TEST_TMPDIR/self/requests" ]
}

@test "relay-events tail: key=value lines, --json, a torn last record skipped" {
	inject 3
	run relay-events tail
	assert_success
	[ "${#lines[@]}" -eq 3 ]
	assert_line --index 0 --regexp "^id=relay-queue:1:0 v=1 event=received time=[0-9.]+ writer=relay-queue queue_id=[0-9a-f.]+ sender=s@example.org recipients=1 size=[0-9]+ source=relay-inject uid=$(id -u)\$"
	run relay-events tail --json
	assert_success
	echo "$output" | python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin]'
	# a crash in the middle of a record leaves a line without its newline
	printf 'E1 00000000 {"v":1,"ev' >> "$RELAY_HOME/state/events/relay-queue/0000000000000001"
	run relay-events tail
	assert_success
	[ "$(echo "$output" | grep -c '^id=')" -eq 3 ]
	inject 1    # the next writer ends the torn line first
	run relay-events tail
	[ "$(echo "$output" | grep -c '^id=')" -eq 4 ]
	assert_output --partial "skipped 1 damaged or unfinished line"
}

@test "a writer stopped while it holds its lock on an old segment delays a reader by seconds, never stalls it" {
	export RELAY_EVENTS_SEGMENT_SIZE=4096
	inject 40
	seg=$(ls "$RELAY_HOME"/state/events/relay-queue/* | head -1)
	[ "$(ls "$RELAY_HOME"/state/events/relay-queue/ | grep -c '^[0-9]')" -gt 1 ]
	# a relay-queue SIGSTOPped in the middle of its append holds LOCK_SH
	flock -s "$seg" sleep 600 3>&- &
	local holder=$!
	wait_for sh -c "! flock -n -x '$seg' true"
	run timeout 30 relay-events tail
	kill "$holder" 2>/dev/null || true
	assert_success
	[ "$(echo "$output" | grep -c '^id=')" -eq 40 ]
	assert_output --partial "while a writer held its lock"
}

@test "relay-queue writes the received record under its own name, whatever it is run as; the source is its caller's name" {
	ln -s "$RELAY_BUILD/bin/relay-queue" "$BATS_TEST_TMPDIR/relay-send"
	RELAYQUEUE="$BATS_TEST_TMPDIR/relay-send" RELAYQUEUE_SOURCE=forged inject 1
	[ ! -e "$RELAY_HOME/state/events/relay-send" ]
	[ ! -e "$RELAY_HOME/state/events/relay-inject" ]
	run relay-events tail
	[ "${#lines[@]}" -eq 1 ]
	assert_line --regexp "^id=relay-queue:1:0 .* writer=relay-queue .* source=relay-inject uid=$(id -u)\$"
	# relay-queue run directly: a source that is not a program's name is "unknown"
	printf 'Subject: x\n\nbody\n' | RELAYQUEUE_SOURCE='a b' relay-queue 1< <(printf 'Fs@example.org\0Tr@example.net\0\0')
	run relay-events tail
	assert_line --index 1 --regexp 'sender=s@example.org recipients=1 size=[0-9]+ source=unknown uid='
}

@test "suppressed: relay-inject and relay-smtpd write a record for a recipient refused at intake" {
	relay-bounce suppress add gone@example.net 'hard bounce 5.1.1'
	run relay-inject -f s@example.org gone@example.net <<<'Subject: x'
	assert_failure 100
	relay_client 127.0.0.0/8
	run session <<< "$(crlf 'EHLO app.example' 'MAIL FROM:<a@example.org>' 'RCPT TO:<gone@example.net>' QUIT)"
	assert_output --partial '550 5.1.1 <gone@example.net> is suppressed'
	refute_output --partial 'event='
	run relay-events tail
	[ "$(echo "$output" | grep -c 'event=suppressed')" -eq 2 ]
	assert_line --regexp '^id=relay-inject:1:0 v=1 event=suppressed time=[0-9.]+ writer=relay-inject recipient=gone@example.net sender=s@example.org reason="hard bounce 5.1.1"$'
	assert_line --regexp '^id=relay-smtpd:1:0 v=1 event=suppressed .* writer=relay-smtpd recipient=gone@example.net sender=a@example.org reason="hard bounce 5.1.1"$'
	[ "$(echo "$output" | grep -c 'event=received')" -eq 0 ]
}

@test "relay-httpd: one received record per message (relay-queue's), and a suppressed one for a refused recipient" {
	httpd_home
	mkdir -p "$RELAY_HOME/state/events/consumers"
	chown -R 65534:65534 "$RELAY_HOME/state"
	relay-bounce suppress add gone@example.net 'hard bounce 5.1.1'
	newkey app1
	httpd_start
	post '{"from": "a@example.com", "to": ["r@example.net", "q@example.net"], "text": "hi"}'
	[ "$CODE" = 202 ] || [ "$CODE" = 200 ]
	post '{"from": "a@example.com", "to": ["gone@example.net"], "text": "hi"}'
	[ "$CODE" = 422 ]
	run relay-events tail
	echo "$output"
	[ "$(echo "$output" | grep -c 'event=received')" -eq 1 ]
	assert_line --regexp '^id=relay-queue:1:0 v=1 event=received .* sender=a@example.com recipients=2 size=[0-9]+ source=relay-httpd uid=65534$'
	assert_line --regexp '^id=relay-httpd:1:0 v=1 event=suppressed .* writer=relay-httpd recipient=gone@example.net sender=a@example.com reason="hard bounce 5.1.1"$'
	# the metrics: relay-events counts the records and gathers its endpoints' figures; /metrics has them
	printf 'the-secret\n' > "$RELAY_HOME/etc/hook.key"
	receiver app
	hook app "http://127.0.0.1:$RPORT/in secret=hook.key"
	start_events
	wait_for grep -q '^relay_events_posted_total{endpoint="app"} 2$' "$RELAY_HOME/state/events/consumers/.metrics"
	run curl -s "$URL/metrics"
	assert_line 'relay_events_written_total{writer="relay-queue",event="received"} 1'
	assert_line 'relay_events_written_total{writer="relay-httpd",event="suppressed"} 1'
	assert_line 'relay_events_posted_total{endpoint="app"} 2'
	assert_line 'relay_events_lag_bytes{endpoint="app"} 0'
	assert_line --regexp '^relay_events_retried_total\{endpoint="app"\} 0$'
	# the text parses as Prometheus exposition (each family once, grouped)
	echo "$output" | python3 -c '
import sys, re
seen, cur = set(), None
for l in sys.stdin:
    if l.startswith("# TYPE "):
        n = l.split()[2]
        assert n not in seen, n
        seen.add(n); cur = n
    elif l.strip() and not l.startswith("#"):
        m = re.match(r"([a-z_]+)(\{[^}]*\})? [0-9.e+-]+$", l.strip())
        assert m, l
        assert m.group(1) == cur or m.group(1).startswith(cur), (l, cur)
'
}

@test "member_down and member_up: relay-health records each verdict change once; relay-send only logs it" {
	start_server; OK=$PORT
	P1=$(free_port)
	printf 'main failover 127.0.0.1:%s 127.0.0.1:%s\n' "$OK" "$P1" >> "$RELAY_HOME/etc/pools"
	relay-config -d "$RELAY_HOME"
	run relay-health -t 5
	refute_output --partial 'event='
	run relay-health -t 5      # the same verdict: no record
	run relay-send -1 -w 1     # reads the verdict: its line, not a record
	assert_output --partial "event=member_down pool=main relay=127.0.0.1:$P1"
	start_server --port "$P1"
	run relay-health -t 5
	run relay-health -t 5
	run relay-events tail
	echo "$output"
	run grep event=member_ <<< "$output"
	[ "${#lines[@]}" -eq 2 ]
	assert_line --index 0 --regexp "^id=relay-health:1:0 v=1 event=member_down .* writer=relay-health pool=main relay=127.0.0.1:$P1 reason=connect state=down since=[0-9]+\$"
	assert_line --index 1 --regexp "^id=relay-health:1:[0-9]+ v=1 event=member_up .* pool=main relay=127.0.0.1:$P1 reason=ok state=up since=[0-9]+\$"
}

@test "without state/events/ nothing is written and relay-inject works as before" {
	rm -r "$RELAY_HOME/state/events"
	inject 1
	run relay-inject -v -f s@example.org r@example.net <<<'Subject: x'
	assert_success
	[ ! -e "$RELAY_HOME/state/events" ]
}

@test "supervised by runsv (scripts/service/relay-events): killed, started again, nothing lost" {
	command -v runsv >/dev/null || skip "runsv (runit) is not installed"
	receiver app
	hook app "http://127.0.0.1:$RPORT/in secret=hook.key batch=2"
	SVC="$BATS_TEST_TMPDIR/svc"
	mkdir -p "$SVC/log" "$SVC/env"
	cp "$BATS_TEST_DIRNAME/../scripts/service/relay-events/run" "$SVC/run"
	cp "$BATS_TEST_DIRNAME/../scripts/service/relay-events/log/run" "$SVC/log/run"
	echo "$RELAY_HOME" > "$SVC/env/RELAY_HOME"
	echo "$RELAY_BUILD/bin" > "$SVC/env/RELAY_BIN"
	echo 1 > "$SVC/env/RELAY_EVENTS_BACKOFF_MAX"
	runsv "$SVC" 3>&- &
	RCV_PIDS="$RCV_PIDS $!"
	inject 3
	wait_for all_arrived app
	pid=$(sv status "$SVC" 2>/dev/null | sed -n 's/^run: [^(]*(pid \([0-9]*\)).*/\1/p')
	[ -n "$pid" ]
	kill -9 "$pid"
	inject 3
	wait_for all_arrived app
	sv down "$SVC"
	sv exit "$SVC"
	wait_for grep -q 'event=webhook_posted' "$SVC/log/main/current"
}

@test "hostile endpoints: one that never answers times out and is retried, a 1 GiB answer is cut off" {
	touch "$BATS_TEST_TMPDIR/hold"
	receiver silent --hold "$BATS_TEST_TMPDIR/hold"
	hook silent "http://127.0.0.1:$RPORT/in secret=hook.key timeout=1s"
	receiver huge --huge 1024
	hook huge "http://127.0.0.1:$RPORT/in secret=hook.key"
	inject 2
	start_events
	wait_for grep -q 'event=webhook_retry endpoint=silent .*status=0 .*timed out' "$BATS_TEST_TMPDIR/events.log"
	# the 200 came first; the body after 64 KiB is not read
	wait_for grep -q 'event=webhook_posted endpoint=huge .*status=200' "$BATS_TEST_TMPDIR/events.log"
	rm "$BATS_TEST_TMPDIR/hold"
	wait_for all_arrived silent
}

@test "relay-smtpd writes a received record, and nothing of it on the SMTP connection" {
	relay_client 127.0.0.0/8
	run session <<< "$(crlf 'EHLO app.example' 'MAIL FROM:<a@example.org>' 'RCPT TO:<b@example.net>' 'RCPT TO:<c@example.net>' DATA 'Subject: hi' '' 'body' . QUIT)"
	assert_success
	refute_output --partial 'event='
	id=$(echo "$output" | sed -n 's/^250 2\.0\.0 ok: queued as \([0-9a-f.]*\).*/\1/p')
	[ -n "$id" ]
	run relay-events tail
	# one record, relay-queue's (relay-smtpd's session commit writes none)
	[ "$(echo "$output" | grep -c 'event=received')" -eq 1 ]
	assert_line --regexp "^id=relay-queue:1:0 v=1 event=received .* queue_id=$id sender=a@example.org recipients=2 size=[0-9]+ source=relay-smtpd uid=[0-9]+\$"
}

@test "100 messages and one bounce, read while written, small segments: every event arrives once verified, passed segments go" {
	export RELAY_EVENTS_SEGMENT_SIZE=4096
	start_server --rcpt-reply 'fail@example.net=550 5.1.1 no such user'
	printf 'main failover 127.0.0.1:%s\n' "$PORT" >> "$RELAY_HOME/etc/pools"
	echo "default main" >> "$RELAY_HOME/etc/routes"
	relay-config -d "$RELAY_HOME"
	receiver app
	hook app "http://127.0.0.1:$RPORT/in secret=hook.key batch=7 events=delivered,failed,bounced"
	start_events
	wait_for test -f "$RELAY_HOME/state/events/consumers/app"   # registered before anything is written
	for i in $(seq 100); do
		printf 'Subject: m%s\nMessage-ID: <m%s@test>\n\nbody\n' "$i" "$i" | relay-inject -f s@example.org "r$i@example.net"
	done
	printf 'Subject: f\nMessage-ID: <f@test>\n\nbody\n' | relay-inject -f s@example.org fail@example.net
	relay-send -w 2 > "$BATS_TEST_TMPDIR/send.log" 2>&1 3>&- &
	DAEMON=$!
	RCV_PIDS="$RCV_PIDS $DAEMON"
	has() { [ "$(received app | grep -c "^$1 ")" -ge "$2" ]; }
	wait_for has delivered 101     # the 100 and the DSN to s@example.org
	wait_for has bounced 1
	run received app
	refute_output --partial BAD-SIGNATURE
	for i in $(seq 100); do
		echo "$output" | grep -q "^delivered [^ ]* r$i@example.net <m$i@test>$" || { echo "no delivered for r$i"; return 1; }
	done
	echo "$output" | grep -q '^failed [^ ]* fail@example.net <f@test>$'
	# once each: no duplicates without a crash
	[ "$(echo "$output" | awk '{print $2}' | sort | uniq -d | wc -l)" -eq 0 ]
	# the segments relay-events passed were removed by their writers
	[ ! -e "$RELAY_HOME/state/events/relay-queue/0000000000000001" ]
}

@test "HUP reads etc/webhooks again: a new endpoint starts from the beginning of the spool" {
	receiver one
	hook one "http://127.0.0.1:$RPORT/in secret=hook.key"
	inject 2
	start_events
	wait_for all_arrived one
	receiver two
	hook two "http://127.0.0.1:$RPORT/in secret=hook.key"
	kill -HUP "$EVD"
	wait_for all_arrived two
	# one's checkpoint was kept across the reload: nothing sent twice
	[ "$(received one | awk '{print $2}' | sort | uniq -d | wc -l)" -eq 0 ]
	# an endpoint taken out loses its checkpoint (it would keep the spool forever)
	sed -i '/^one /d' "$RELAY_HOME/etc/webhooks"
	relay-config -d "$RELAY_HOME"
	kill -HUP "$EVD"
	wait_for grep -q 'event=webhook_forgotten file=one$' "$BATS_TEST_TMPDIR/events.log"
	[ ! -e "$RELAY_HOME/state/events/consumers/one" ]
}
