#!/usr/bin/env bats
# not tested: real remote MX hosts (local DNS data only), tarpit past the 10-minute default (short smtp_timeout instead), DKIM (tests/dkim-e2e.bats).
load helper
load smtp_helper

setup_file() { TESTS="$BATS_TEST_DIRNAME"; make_certs; }
setup() { relay_home; relay_setting smtp_timeout 10s; }
teardown() {
	stop_servers
	[ -n "${DAEMON:-}" ] && kill -9 "$DAEMON" 2>/dev/null || true
	true
}

# pool NAME STRATEGY MEMBER...: define the pool and route everything to it
pool() {
	local name=$1; shift
	echo "$name $*" >> "$RELAY_HOME/etc/pools"
	grep -q '^default' "$RELAY_HOME/etc/routes" || echo "default $name" >> "$RELAY_HOME/etc/routes"
	relay-config -d "$RELAY_HOME"
}

recorded() {    # recorded SRVDIR N: the server in SRVDIR recorded at least N messages
	[ "$(ls "$1/rec" | grep -c '\.eml$' || true)" -ge "$2" ]
}

send_msgs() {   # send_msgs N [relay-inject args]: N messages to r@example.net
	local n=$1; shift
	for i in $(seq "$n"); do
		printf 'Subject: m%s\n\nbody %s\n' "$i" "$i" | relay-inject -f s@example.org "$@" r@example.net
	done
}

@test "delivers through the pool and removes the message; the log has one line per event" {
	start_server
	pool main failover "127.0.0.1:$PORT"
	send_msgs 3
	run relay-send -1 -w 2
	assert_success
	[ "$(msgs)" -eq 3 ]
	[ "$(queue_count)" -eq 0 ]
	[ "$(echo "$output" | grep -c '^event=delivered id=.* rcpt=r@example.net relay=127.0.0.1:'"$PORT"' code=250 dsn=2.0.0 delay=[0-9.]* attempt=1')" -eq 3 ]
	[ -z "$(find "$RELAY_HOME/queue/info" -type f)" ]
}

@test "the message goes on the wire byte-exact (dot-stuffed), smuggling payloads stay in one message" {
	start_server
	pool main failover "127.0.0.1:$PORT"
	printf 'Subject: s\n\n.\n..\n.foo\nx\n.\nMAIL FROM:<spoof@x>\nRCPT TO:<evil@x>\nDATA\nlast line .' |
		relay-inject -i -f s@example.org r@example.net
	f=$(queue_last)
	sed '1,/^$/d' "$f" > "$BATS_TEST_TMPDIR/queued"
	run relay-send -1
	assert_success
	[ "$(msgs)" -eq 1 ]
	cmp "$BATS_TEST_TMPDIR/queued" "$SRV/rec/0001.eml"
	[ "$(grep -c ' MAIL FROM:' "$SRV/log")" -eq 1 ]
	[ "$(grep -c ' DATA-END ' "$SRV/log")" -eq 1 ]
	! grep -q 'evil@x' "$SRV/rec/0001.env"
}

@test "failover: refused connection, 421 and 554 greetings go to the next member, which cools" {
	start_server --refuse; P1=$PORT
	start_server --greet 421; P2=$PORT
	start_server --greet 554; P3=$PORT
	start_server; OK=$PORT
	pool main failover 127.0.0.1:$P1 127.0.0.1:$P2 127.0.0.1:$P3 127.0.0.1:$OK
	send_msgs 2
	run relay-send -1 -w 1
	assert_success
	[ "$(msgs)" -eq 2 ]
	[ "$(echo "$output" | grep -c '^event=failover .*relay=127.0.0.1:'"$P1")" -eq 1 ]
	[ "$(echo "$output" | grep -c '^event=failover .*relay=127.0.0.1:'"$P2"'.*code=421')" -eq 1 ]
	[ "$(echo "$output" | grep -c '^event=failover .*relay=127.0.0.1:'"$P3"'.*code=554')" -eq 1 ]
	# the second message skipped the cooling members: no second failover
	[ "$(echo "$output" | grep -c '^event=failover')" -eq 3 ]
	! echo "$output" | grep -q '^event=failed'
}

@test "every member down: the message stays deferred, no bounce, no spin" {
	start_server --refuse; P1=$PORT
	start_server --greet 421; P2=$PORT
	pool main failover 127.0.0.1:$P1 127.0.0.1:$P2
	send_msgs 1
	run relay-send -1
	assert_success
	[ "$(queue_count)" -eq 1 ]
	assert_line --partial "event=deferred"
	! echo "$output" | grep -q 'event=failed\|event=bounced'
	[ "$(echo "$output" | grep -c '^event=failover')" -eq 2 ]
	id=$(basename "$(queue_last)")
	grep -q '^R[0-9]* 1$' "$RELAY_HOME/queue/info/${id:14:2}/$id"
	# a second run respects the retry time: no new attempt
	run relay-send -1
	[ "$(echo "$output" | grep -c '^event=failover')" -eq 0 ]
}

@test "4xx for one recipient: the others are delivered once, the deferred one later, no duplicate" {
	start_server --rcpt-reply 'b@example.net=450 4.2.1 try later'
	pool main failover "127.0.0.1:$PORT"
	printf 'Subject: x\n\nhi\n' | relay-inject -f s@example.org a@example.net b@example.net c@example.net
	run relay-send -1
	assert_success
	[ "$(msgs)" -eq 1 ]
	[ "$(grep -c 'RCPT' "$SRV/rec/0001.env")" -eq 2 ]
	assert_line --partial "event=deferred"
	assert_line --partial "rcpt=b@example.net"
	[ "$(queue_count)" -eq 1 ]
	stop_servers
	start_server
	sed -i "s/^main .*/main failover 127.0.0.1:$PORT/" "$RELAY_HOME/etc/pools"
	relay-config -d "$RELAY_HOME"
	relay-qctl requeue "$(basename "$(queue_last)")"
	run relay-send -1
	assert_success
	[ "$(msgs)" -eq 1 ]
	grep -q 'b@example.net' "$SRV/rec/0001.env"
	! grep -q 'a@example.net\|c@example.net' "$SRV/rec/0001.env"
	[ "$(queue_count)" -eq 0 ]
}

@test "5xx for a recipient is a permanent failure recorded for the bounce; the rest delivered" {
	start_server --rcpt-reply 'bad@example.net=550 5.1.1 no such user'
	pool main failover "127.0.0.1:$PORT"
	export RELAYBOUNCE=$BATS_TEST_TMPDIR/fake-bounce
	printf '#!/bin/sh\ncat <&3 > "%s/bounced"\n' "$BATS_TEST_TMPDIR" > "$RELAYBOUNCE"; chmod +x "$RELAYBOUNCE"
	printf 'Subject: x\n\nhi\n' | relay-inject -f s@example.org good@example.net bad@example.net
	run relay-send -1
	assert_success
	assert_line --partial "event=failed"
	assert_line --partial "event=bounced"
	grep -q $'^bad@example.net\tfailed\t5.1.1\t' "$BATS_TEST_TMPDIR/bounced"
	grep -q 'no such user' "$BATS_TEST_TMPDIR/bounced"
	[ "$(queue_count)" -eq 0 ]
	[ "$(msgs)" -eq 1 ]
}

@test "a failing relay-bounce keeps the failure recorded and the message queued" {
	start_server --rcpt-reply 'bad@example.net=550 5.1.1 no such user'
	pool main failover "127.0.0.1:$PORT"
	export RELAYBOUNCE=/bin/false
	printf 'Subject: x\n\nhi\n' | relay-inject -f s@example.org bad@example.net
	run relay-send -1
	assert_line --partial "event=bounce_deferred"
	[ "$(queue_count)" -eq 1 ]
	id=$(basename "$(queue_last)")
	grep -q '^F0 .* 5.1.1 ' "$RELAY_HOME/queue/info/${id:14:2}/$id"
}

@test "connection dropped after the final dot: deferred as a possible duplicate, never lost" {
	start_server --drop-after-dot
	pool main failover "127.0.0.1:$PORT"
	send_msgs 1
	run relay-send -1
	assert_success
	assert_line --partial "possible duplicate"
	[ "$(queue_count)" -eq 1 ]
}

@test "5xx after the final dot fails all recipients; 4xx after the dot defers them" {
	start_server --data-reply '554 5.7.1 rejected as spam'
	pool main failover "127.0.0.1:$PORT"
	export RELAYBOUNCE=/bin/true
	send_msgs 1
	run relay-send -1
	assert_line --partial "event=failed"
	assert_line --partial "rejected as spam"
	[ "$(queue_count)" -eq 0 ]
	stop_servers
	start_server --data-reply '451 4.3.0 try again'
	sed -i "s/^main .*/main failover 127.0.0.1:$PORT/" "$RELAY_HOME/etc/pools"
	relay-config -d "$RELAY_HOME"
	send_msgs 1
	run relay-send -1
	assert_line --partial "event=deferred"
	[ "$(queue_count)" -eq 1 ]
}

@test "round-robin spreads evenly; weighted 3:1 splits 3:1" {
	start_server; A=$PORT; SA=$SRV
	start_server; B=$PORT; SB=$SRV
	pool main roundrobin 127.0.0.1:$A 127.0.0.1:$B
	send_msgs 40
	run relay-send -1 -w 1
	assert_success
	[ "$(ls "$SA/rec" | grep -c eml)" -eq 20 ]
	[ "$(ls "$SB/rec" | grep -c eml)" -eq 20 ]
	sed -i "s/^main .*/main weighted 127.0.0.1:$A*3 127.0.0.1:$B*1/" "$RELAY_HOME/etc/pools"
	relay-config -d "$RELAY_HOME"
	rm -f "$SA"/rec/* "$SB"/rec/*
	send_msgs 80
	run relay-send -1 -w 1
	a=$(ls "$SA/rec" | grep -c eml); b=$(ls "$SB/rec" | grep -c eml)
	echo "a=$a b=$b"
	[ "$a" -eq 60 ] && [ "$b" -eq 20 ]
}

@test "TLS verify with the test CA delivers over TLS; a wrong host name fails over, never plaintext" {
	start_server --starttls "$CERTS/server.pem" "$CERTS/server.key"; GOOD=$PORT; SG=$SRV
	start_server --starttls "$CERTS/wrong.pem" "$CERTS/wrong.key"; BAD=$PORT; SBAD=$SRV
	pool main failover localhost:$BAD localhost:$GOOD
	printf 'localhost:%s verify ca=%s\nlocalhost:%s verify ca=%s\n' $BAD "$CERTS/ca.pem" $GOOD "$CERTS/ca.pem" >> "$RELAY_HOME/etc/tls"
	relay-config -d "$RELAY_HOME"
	send_msgs 1
	run relay-send -1
	assert_success
	assert_line --partial "event=failover"
	assert_line --regexp "event=delivered .*relay=localhost:$GOOD .*tls=TLSv1\.[23]"
	[ "$(ls "$SBAD/rec" | grep -c eml || true)" -eq 0 ]
	! grep -q ' MAIL ' "$SBAD/log"
}

@test "encrypt: a relay without STARTTLS is failed over, no MAIL in plaintext" {
	start_server; PLAIN=$PORT; SP=$SRV
	start_server --starttls "$CERTS/server.pem" "$CERTS/server.key"; TLS=$PORT
	pool main failover 127.0.0.1:$PLAIN 127.0.0.1:$TLS
	printf '127.0.0.1:%s encrypt\n127.0.0.1:%s encrypt\n' $PLAIN $TLS >> "$RELAY_HOME/etc/tls"
	relay-config -d "$RELAY_HOME"
	send_msgs 1
	run relay-send -1
	assert_success
	assert_line --regexp "event=delivered .*relay=127.0.0.1:$TLS "
	! grep -q ' MAIL ' "$SP/log"
}

@test "AUTH over TLS; a 535 is a failover and an alert, never a bounce; secrets are not logged" {
	start_server --starttls "$CERTS/server.pem" "$CERTS/server.key" --auth user:s3cret-pass --auth-reply 535; BADAUTH=$PORT
	start_server --starttls "$CERTS/server.pem" "$CERTS/server.key" --auth user:s3cret-pass; OK=$PORT; SOK=$SRV
	pool main failover 127.0.0.1:$BADAUTH 127.0.0.1:$OK
	printf '127.0.0.1:%s user s3cret-pass\n127.0.0.1:%s user s3cret-pass\n' $BADAUTH $OK >> "$RELAY_HOME/etc/auth"
	chmod 600 "$RELAY_HOME/etc/auth"
	relay-config -d "$RELAY_HOME"
	send_msgs 1
	run relay-send -1
	assert_success
	assert_line --regexp "event=failover .*stage=auth code=535"
	assert_line --partial "event=delivered"
	grep -q 'user' "$SOK/rec/0001.env"
	! echo "$output" | grep -q 's3cret'
}

@test "hostile replies from a relay are a failover, not a crash" {
	for kind in long many code2500 nondigit nosep nul mixed unsolicited; do
		start_server --hostile-reply $kind --hostile-at mail; H=$PORT
	done
	start_server; OK=$PORT
	members=""
	for p in $(echo "$SRV_PIDS" | wc -w); do :; done
	pool main failover $(for f in "$BATS_TEST_TMPDIR"/srv*/port; do [ "$(cat $f)" = "$OK" ] || echo 127.0.0.1:$(cat $f); done) 127.0.0.1:$OK
	send_msgs 1
	run relay-send -1 -w 1
	assert_success
	assert_line --regexp "event=delivered .*relay=127.0.0.1:$OK "
	[ "$(queue_count)" -eq 0 ]
}

@test "a relay that stalls past the timeout is failed over" {
	start_server --stall 30 --stall-at greet; S=$PORT; SS=$SRV
	start_server; OK=$PORT
	pool main failover 127.0.0.1:$S 127.0.0.1:$OK
	send_msgs 1
	run relay-send -1
	assert_success
	assert_line --regexp "event=delivered .*relay=127.0.0.1:$OK "
	# relay-send left the stalled relay (smtp_timeout 10s) before its 30 s were up
	wait_for grep -q ' STALL-CLIENT-GONE' "$SS/log"
}

@test "the daemon: new mail is noticed at once, SIGHUP re-reads pools, SIGTERM exits 0" {
	start_server; A=$PORT; SA=$SRV
	start_server; B=$PORT; SB=$SRV
	pool main failover 127.0.0.1:$A
	relay-send > "$BATS_TEST_TMPDIR/log" 2>&1 &
	DAEMON=$!
	wait_for grep -q '^event=start' "$BATS_TEST_TMPDIR/log"   # watching the queue
	send_msgs 1
	wait_for recorded "$SA" 1
	[ "$(ls "$SA/rec" | grep -c eml)" -eq 1 ]
	sed -i "s/^main .*/main failover 127.0.0.1:$B/" "$RELAY_HOME/etc/pools"
	relay-config -d "$RELAY_HOME"
	kill -HUP $DAEMON
	wait_for grep -q '^event=reload' "$BATS_TEST_TMPDIR/log"
	send_msgs 1
	wait_for recorded "$SB" 1
	[ "$(ls "$SB/rec" | grep -c eml)" -eq 1 ]
	kill -TERM $DAEMON
	wait $DAEMON
	DAEMON=
	grep -q '^event=reload' "$BATS_TEST_TMPDIR/log"
	grep -q '^event=stopped' "$BATS_TEST_TMPDIR/log"
}

@test "kill -9 of relay-send mid-delivery loses nothing" {
	start_server --stall 1 --stall-at dot; SLOW=$PORT; SS=$SRV
	pool main failover 127.0.0.1:$SLOW
	send_msgs 30
	relay-send -w 4 > "$BATS_TEST_TMPDIR/log1" 2>&1 &
	DAEMON=$!
	# mid-delivery: a message is on the server, its dot reply not yet sent
	wait_for recorded "$SS" 1
	kids=$(pgrep -P "$DAEMON" || true)   # its workers: only what this test started
	kill -9 $DAEMON $kids 2>/dev/null || true
	wait $DAEMON 2>/dev/null || true; DAEMON=
	wait_for gone $kids
	stop_servers
	start_server; OK=$PORT
	sed -i "s/^main .*/main failover 127.0.0.1:$OK/" "$RELAY_HOME/etc/pools"
	relay-config -d "$RELAY_HOME"
	run relay-send -1
	assert_success
	# every message reached one of the two servers (duplicates allowed), none is left
	subjects=$(cat "$SS"/rec/*.eml "$SRV"/rec/*.eml 2>/dev/null | grep -a '^Subject: m' | sort -u | wc -l)
	[ "$subjects" -eq 30 ]
	[ "$(queue_count)" -eq 0 ]
}

@test "relay-qctl hold, release, delete and flush" {
	start_server --refuse; DOWN=$PORT
	pool main failover 127.0.0.1:$DOWN
	send_msgs 2
	id1=$(basename "$(ls "$RELAY_HOME"/queue/msg/*/* | head -1)")
	relay-qctl hold "$id1"
	[ -f "$RELAY_HOME/queue/hold/$id1" ]
	run relay-qctl list
	assert_output --partial "HELD"
	run relay-send -1
	[ "$(echo "$output" | grep -c '^event=failover')" -eq 1 ]
	relay-qctl release "$id1"
	[ ! -f "$RELAY_HOME/queue/hold/$id1" ]
	id2=$(basename "$(ls "$RELAY_HOME"/queue/msg/*/* | grep -v "$id1")")
	relay-qctl delete "$id2"
	[ "$(queue_count)" -eq 1 ]
	run relay-qctl flush
	assert_failure 111
	assert_output --partial "not running"
}

@test "a corrupt queue file is quarantined and the others keep flowing" {
	start_server
	pool main failover "127.0.0.1:$PORT"
	send_msgs 2
	printf 'RQ1\nAjunk\n' > "$RELAY_HOME/queue/msg/00/0000000000000.00000000"
	run relay-send -1
	assert_success
	assert_line --partial "event=corrupt"
	[ -f "$RELAY_HOME/queue/corrupt/0000000000000.00000000" ]
	[ "$(msgs)" -eq 2 ]
}

@test "expired recipients fail permanently with 5.4.7 and the last error" {
	start_server --refuse; DOWN=$PORT
	pool main failover 127.0.0.1:$DOWN
	echo 'default schedule=1s lifetime=1s' >> "$RELAY_HOME/etc/retry"
	relay-config -d "$RELAY_HOME"
	export RELAYBOUNCE=$BATS_TEST_TMPDIR/fake-bounce
	printf '#!/bin/sh\ncat <&3 > "%s/bounced"\n' "$BATS_TEST_TMPDIR" > "$RELAYBOUNCE"; chmod +x "$RELAYBOUNCE"
	send_msgs 1
	sleep 1.2
	run relay-send -1
	assert_line --partial "event=expired"
	grep -q $'\t5.4.7\t' "$BATS_TEST_TMPDIR/bounced"
	grep -q 'delivery time expired' "$BATS_TEST_TMPDIR/bounced"
	[ "$(queue_count)" -eq 0 ]
}

@test "direct MX delivery from local DNS data; null MX and NXDOMAIN fail permanently" {
	[ "$(id -u)" -eq 0 ] || skip "MX delivery uses port 25: needs root"
	addr=127.0.0.$((RANDOM % 200 + 20))
	start_server --listen $addr --port 25 || skip "port 25 on $addr is taken"
	[ "$PORT" = 25 ] || skip "port 25 on $addr is taken"
	cat > "$RELAY_HOME/etc/unbound.conf" <<-EOF
	server:
	  local-zone: "test." static
	  local-data: "mx.test. MX 10 mx1.mx.test."
	  local-data: "mx1.mx.test. A $addr"
	  local-data: "nullmx.test. MX 0 ."
	EOF
	relay_setting dns_config unbound.conf
	export RELAYBOUNCE=$BATS_TEST_TMPDIR/fake-bounce
	printf '#!/bin/sh\ncat <&3 >> "%s/bounced"\n' "$BATS_TEST_TMPDIR" > "$RELAYBOUNCE"; chmod +x "$RELAYBOUNCE"
	printf 'Subject: mx\n\nhi\n' | relay-inject -f s@example.org u@mx.test n@nullmx.test x@nxdomain.test
	run relay-send -1
	echo "$output"
	assert_line --regexp "event=delivered .*rcpt=u@mx.test relay=mx:mx.test"
	grep -q $'^n@nullmx.test\tfailed\t5.1.10' "$BATS_TEST_TMPDIR/bounced"
	grep -q $'^x@nxdomain.test\tfailed\t5.1.2' "$BATS_TEST_TMPDIR/bounced"
	[ "$(msgs)" -eq 1 ]
	[ "$(queue_count)" -eq 0 ]
}

@test "250 recipients go out in transactions of at most 100, each recipient once" {
	start_server
	pool main failover "127.0.0.1:$PORT"
	rcpts=$(for i in $(seq 250); do printf 'u%s@example.net ' "$i"; done)
	printf 'Subject: many\n\nhi\n' | relay-inject -f s@example.org $rcpts
	run relay-send -1 -w 3
	assert_success
	[ "$(msgs)" -eq 3 ]
	[ "$(cat "$SRV"/rec/*.env | grep -c 'RCPT TO:')" -eq 250 ]
	[ "$(cat "$SRV"/rec/*.env | grep 'RCPT TO:' | sort -u | wc -l)" -eq 250 ]
	[ "$(queue_count)" -eq 0 ]
}

@test "relay-send routes around a member relay-health marked down, and back when it recovers" {
	start_server --greet 421; A=$PORT; SA=$SRV; APID=${SRV_PIDS##* }
	start_server; B=$PORT; SB=$SRV
	pool main failover 127.0.0.1:$A 127.0.0.1:$B
	run relay-health
	echo "$output"
	[ "$status" -eq 1 ]
	grep -q "^main 127.0.0.1:$A down" "$RELAY_HOME/state/health/status"
	send_msgs 1
	run relay-send -1
	assert_line --regexp "event=member_down pool=main relay=127.0.0.1:$A"
	assert_line --regexp "event=delivered .*relay=127.0.0.1:$B "
	refute_line --partial "event=failover"      # A was skipped, not tried
	kill "$APID"; wait "$APID" 2>/dev/null || true   # its port is free again
	start_server --port "$A"; SA=$SRV
	[ "$PORT" = "$A" ]
	run relay-health
	[ "$status" -eq 0 ]
	send_msgs 1
	run relay-send -1
	assert_line --regexp "event=delivered .*relay=127.0.0.1:$A "
}

@test "the daemon: a verdict written just after the loop last came by applies to the very next message" {
	start_server; A=$PORT; SA=$SRV
	start_server; B=$PORT; SB=$SRV
	pool main failover 127.0.0.1:$A 127.0.0.1:$B
	relay-send > "$BATS_TEST_TMPDIR/log" 2>&1 &
	DAEMON=$!
	wait_for grep -q '^event=start' "$BATS_TEST_TMPDIR/log"
	mkdir -p "$RELAY_HOME/state/health"
	# early in a second: the first message wakes the loop (it looks at
	# state/health then), the verdict and the second message follow within
	# the same second (the old once-a-second look missed such a verdict)
	while [ "$(date +%N)" -gt 200000000 ]; do sleep 0.01; done
	printf 'Subject: first\n\nx\n' | relay-inject -f s@example.org r@example.net
	now=$(date +%s)
	printf 'RH1 %s 60\nmain 127.0.0.1:%s down %s connect\nmain 127.0.0.1:%s up %s ok\n' \
		"$now" "$A" "$now" "$B" "$now" > "$RELAY_HOME/state/health/status.new"
	mv "$RELAY_HOME/state/health/status.new" "$RELAY_HOME/state/health/status"
	printf 'Subject: second\n\nx\n' | relay-inject -f s@example.org r@example.net
	wait_for grep -q "event=member_down pool=main relay=127.0.0.1:$A" "$BATS_TEST_TMPDIR/log"
	wait_for sh -c "grep -lqs '^Subject: second' '$SB'/rec/*.eml"
	run grep -lqs '^Subject: second' "$SA"/rec/*.eml
	assert_failure
}

@test "etc/limits rate= spaces deliveries to a member; concurrency= caps its sessions" {
	start_server
	pool main failover "127.0.0.1:$PORT"
	echo "127.0.0.1:$PORT concurrency=1 rate=2/s" >> "$RELAY_HOME/etc/limits"
	relay-config -d "$RELAY_HOME"
	send_msgs 6
	SECONDS=0
	run relay-send -1 -w 4
	assert_success
	[ "$(msgs)" -eq 6 ]
	# 2 at once, then 2 a second: at least 2 seconds for 6
	[ "$SECONDS" -ge 2 ]
	# one session at a time: a single connection carried them all
	[ "$(grep -o '^c[0-9]*' "$SRV/log" | sort -u | wc -l)" -eq 1 ]
}
