#!/usr/bin/env bats
# not tested: real providers (the test server plays Gmail's 421 4.7.28), hourly quotas and ramps across real days (C: tests/c/t_shape.c with a simulated clock), priority lanes (tests/lanes.bats, tests/c/t_lanes.c).
load helper
load smtp_helper

setup_file() { TESTS="$BATS_TEST_DIRNAME"; }
setup() { relay_home; relay_setting smtp_timeout 10s; }
teardown() {
	stop_servers
	[ -n "${DAEMON:-}" ] && kill -9 "$DAEMON" 2>/dev/null || true
	true
}

recorded() {    # recorded SRVDIR: how many messages the server in SRVDIR recorded
	ls "$1/rec" | grep -c '\.eml$' || true
}

at_least() {    # at_least SRVDIR N: the server recorded N messages or more
	[ "$(recorded "$1")" -ge "$2" ]
}

inject() {      # inject N: N messages to r@example.net
	local i
	for i in $(seq "$1"); do
		printf 'Subject: m%s\n\nbody %s\n' "$i" "$i" | relay-inject -f s@example.org r@example.net
	done
}

@test "quota=100/d on the first member of a failover pool: message 101 goes to the second; the count survives a restart" {
	start_server; A=$PORT; SA=$SRV
	start_server; B=$PORT; SB=$SRV
	echo "main failover 127.0.0.1:$A 127.0.0.1:$B" >> "$RELAY_HOME/etc/pools"
	echo "default main" >> "$RELAY_HOME/etc/routes"
	echo "127.0.0.1:$A quota=100/d" >> "$RELAY_HOME/etc/limits"
	relay-config -d "$RELAY_HOME"
	inject 101
	run relay-send -1 -w 4
	assert_success
	[ "$(recorded "$SA")" -eq 100 ]
	[ "$(recorded "$SB")" -eq 1 ]
	[ "$(queue_count)" -eq 0 ]
	grep -q "^127.0.0.1:$A [0-9]* 100 " "$RELAY_HOME/state/shaping"
	# a new relay-send: A's quota is still spent today
	inject 2
	run relay-send -1
	assert_success
	[ "$(recorded "$SA")" -eq 100 ]
	[ "$(recorded "$SB")" -eq 3 ]
}

@test "every member's quota spent: the mail waits (deferred, not bounced)" {
	start_server; A=$PORT; SA=$SRV
	echo "main failover 127.0.0.1:$A" >> "$RELAY_HOME/etc/pools"
	echo "default main" >> "$RELAY_HOME/etc/routes"
	echo "127.0.0.1:$A quota=2/h" >> "$RELAY_HOME/etc/limits"
	relay-config -d "$RELAY_HOME"
	inject 3
	run relay-send -1
	assert_success
	[ "$(recorded "$SA")" -eq 2 ]
	[ "$(queue_count)" -eq 1 ]
	assert_line --regexp "event=deferred .*the quota of every member is spent"
	refute_line --partial "event=failed"
}

@test "a provider's 421 4.7.28: the member is suspended (event=throttle), the other takes the mail, it comes back after the suspension" {
	start_server --limit-per-minute 2; A=$PORT; SA=$SRV; APID=${SRV_PIDS##* }
	start_server; B=$PORT; SB=$SRV
	echo "main failover 127.0.0.1:$A 127.0.0.1:$B" >> "$RELAY_HOME/etc/pools"
	echo "default main" >> "$RELAY_HOME/etc/routes"
	# the shipped rule waits for 3 in 5 minutes and suspends for 15 (a 421
	# also cools the member for 15 s, so the next reply comes later); the
	# operator's rule, tried first, is quicker
	echo '4xx 4.7.28 * -> rate-limit soft suspend=3s after=1/1m' > "$RELAY_HOME/etc/classify"
	relay-config -d "$RELAY_HOME"
	relay-send -w 1 > "$BATS_TEST_TMPDIR/log" 2>&1 &
	DAEMON=$!
	inject 2
	wait_for at_least "$SA" 2
	inject 2     # a 421: it trips the rule, both go to B
	wait_for at_least "$SB" 2
	wait_for grep -q "event=throttle pool=main dest=127.0.0.1:$A action=suspend for=3 code=421 dsn=4.7.28" "$BATS_TEST_TMPDIR/log" || { cat "$BATS_TEST_TMPDIR/log"; false; }
	mails=$(grep -c ' MAIL FROM:' "$SA/log")
	inject 1     # suspended: straight to B, A is not asked
	wait_for at_least "$SB" 3
	[ "$(grep -c ' MAIL FROM:' "$SA/log")" -eq "$mails" ]
	# A takes mail again (a fresh server on its port); after the 3 s
	# suspension relay-send goes back to it by itself
	kill "$APID"; wait "$APID" 2>/dev/null || true
	start_server --port "$A"; SA=$SRV
	wait_for sh -c "printf 'Subject: again\n\nx\n' | relay-inject -f s@example.org r@example.net; [ \$(ls '$SA/rec' | grep -c eml) -ge 1 ]"
	kill "$DAEMON"; wait "$DAEMON" || true; DAEMON=
	! grep -q "event=failed" "$BATS_TEST_TMPDIR/log"
}

@test "direct MX: one domain's MX refuses, the other domain's mail is delivered at once" {
	[ "$(id -u)" -eq 0 ] || skip "MX delivery uses port 25: needs root"
	addr=127.0.0.$((RANDOM % 200 + 20))
	dead=127.0.0.$((RANDOM % 20 + 230))
	start_server --listen $addr --port 25 || skip "port 25 on $addr is taken"
	[ "$PORT" = 25 ] || skip "port 25 on $addr is taken"
	cat > "$RELAY_HOME/etc/unbound.conf" <<-EOF
	server:
	  local-zone: "test." static
	  local-data: "good.test. MX 10 mx.good.test."
	  local-data: "mx.good.test. A $addr"
	  local-data: "bad.test. MX 10 mx.bad.test."
	  local-data: "mx.bad.test. A $dead"
	EOF
	relay_setting dns_config unbound.conf
	# one message: its bad.test transaction goes first (recipient order)
	printf 'Subject: a\n\nhi\n' | relay-inject -f s@example.org u@bad.test u@good.test v@good.test
	run relay-send -1 -w 1
	echo "$output"
	assert_success
	assert_line --regexp "event=failover .*relay=mx:bad.test stage=connect"
	assert_line --regexp "event=delivered .*rcpt=u@good.test relay=mx:good.test"
	assert_line --regexp "event=delivered .*rcpt=v@good.test relay=mx:good.test"
	[ "$(msgs)" -eq 1 ]
	[ "$(queue_count)" -eq 1 ]     # u@bad.test: deferred
}

@test "etc/limits: a site (mx= globs) shares one concurrency across its domains; rate=N/d is accepted" {
	[ "$(id -u)" -eq 0 ] || skip "MX delivery uses port 25: needs root"
	addr=127.0.0.$((RANDOM % 200 + 20))
	start_server --listen $addr --port 25 || skip "port 25 on $addr is taken"
	[ "$PORT" = 25 ] || skip "port 25 on $addr is taken"
	cat > "$RELAY_HOME/etc/unbound.conf" <<-EOF
	server:
	  local-zone: "test." static
	  local-data: "one.test. MX 10 mx1.provider.test."
	  local-data: "two.test. MX 10 mx2.provider.test."
	  local-data: "mx1.provider.test. A $addr"
	  local-data: "mx2.provider.test. A $addr"
	EOF
	relay_setting dns_config unbound.conf
	echo "provider mx=*.provider.test concurrency=1 rate=100000/d" >> "$RELAY_HOME/etc/limits"
	relay-config -d "$RELAY_HOME"
	for i in 1 2 3; do
		printf 'Subject: a\n\nhi\n' | relay-inject -f s@example.org u$i@one.test
		printf 'Subject: b\n\nhi\n' | relay-inject -f s@example.org u$i@two.test
	done
	run relay-send -1 -w 4
	assert_success
	[ "$(msgs)" -eq 6 ]
	# one transaction at a time to the site: no MAIL while another is open
	python3 - "$SRV/log" <<-'EOF'
	import re, sys
	inflight = set(); peak = 0
	for line in open(sys.argv[1]):
	    m = re.match(r"(c\d+) ", line)
	    if not m: continue
	    if " MAIL FROM:" in line: inflight.add(m.group(1))
	    if " DATA-END " in line: inflight.discard(m.group(1))
	    peak = max(peak, len(inflight))
	sys.exit(0 if peak == 1 else 1)
	EOF
}

@test "routes by subdomain: to:.example.com takes every subdomain, nearest parent first; an exact to: wins" {
	cat >> "$RELAY_HOME/etc/pools" <<-EOF
	p1 failover 127.0.0.1:2501
	p2 failover 127.0.0.1:2502
	p3 failover 127.0.0.1:2503
	p4 failover 127.0.0.1:2504
	EOF
	cat >> "$RELAY_HOME/etc/routes" <<-EOF
	to:.example.com p1
	to:.eu.Example.com p2
	to:mail.eu.example.com p3
	default p4
	EOF
	relay-config -d "$RELAY_HOME"
	r() { "$RELAY_BUILD/tests/t_conf" route "$RELAY_HOME" s@x.test "" "$1"; }
	[ "$(r a.example.com)" = p1 ]
	[ "$(r x.y.example.com)" = p1 ]
	[ "$(r a.eu.example.com)" = p2 ]
	[ "$(r mail.eu.example.com)" = p3 ]
	[ "$(r example.com)" = p4 ]        # the domain itself is not its subdomain
	[ "$(r notexample.com)" = p4 ]
	echo 'to:.[1.2.3.4] p1' >> "$RELAY_HOME/etc/routes"
	run relay-config -d "$RELAY_HOME"
	assert_failure 100
	assert_output --partial "etc/routes:13: bad IPv6 address"
}

@test "relay-qctl explain: route, pool and member order, TLS, AUTH user (no password), limits, quota left and ramp; --json" {
	cat >> "$RELAY_HOME/etc/pools" <<-EOF
	paid failover smtp1.example.net:587 smtp2.example.net:587
	EOF
	cat >> "$RELAY_HOME/etc/routes" <<-EOF
	to:.example.com paid
	EOF
	echo "smtp1.example.net:587 alice s3cret-pass" >> "$RELAY_HOME/etc/auth"
	echo "smtp1.example.net:587 verify" >> "$RELAY_HOME/etc/tls"
	today=$(date -u +%Y-%m-%d)
	cat >> "$RELAY_HOME/etc/limits" <<-EOF
	smtp1.example.net:587 concurrency=10 quota=100/d
	smtp2.example.net:587 ramp=$today:50*2:1000
	EOF
	relay-config -d "$RELAY_HOME"
	mkdir -p "$RELAY_HOME/state"
	echo "smtp1.example.net:587 $(( $(date +%s) / 86400 )) 100 0 0" > "$RELAY_HOME/state/shaping"
	run relay-qctl explain -f s@example.org u@mail.example.com x@other.test
	echo "$output"
	assert_success
	assert_line "u@mail.example.com"
	assert_line "  route to:.example.com -> pool paid (failover)"
	assert_line "  1. smtp1.example.net:587  tls=verify  auth=alice  skipped (quota)"
	assert_line "       limits smtp1.example.net:587: concurrency=10 quota=100/d"
	assert_line "       quota: 0 of 100 left this day (spent)"
	assert_line "  2. smtp2.example.net:587  tls=may  auth=-  ok"
	assert_line "       ramp: day 1, 50 today, 50 left"
	assert_line "  route (none: direct MX) -> pool (direct) (failover)"
	refute_output --partial "s3cret"
	run relay-qctl explain --json u@mail.example.com
	assert_success
	echo "$output" | python3 -c '
import json, sys
d = json.load(sys.stdin)
m = d[0]["members"]
assert d[0]["route"] == "to:.example.com" and d[0]["pool"] == "paid", d
assert m[0]["auth_user"] == "alice" and m[0]["state"] == "skipped" and m[0]["why"] == "quota", m
assert m[0]["limits"][0]["quota_left"] == 0, m
assert m[1]["auth_user"] is None and m[1]["limits"][0]["ramp_today"] == 50, m
'
	refute_output --partial "s3cret"
	run relay-qctl explain
	assert_failure 100
}

@test "a local refusal is not a bounce: an 8-bit message one member cannot take (no 8BITMIME) goes to the next, which is not cooled" {
	start_server --no-8bitmime; A=$PORT; SA=$SRV
	start_server; B=$PORT; SB=$SRV
	echo "main failover 127.0.0.1:$A 127.0.0.1:$B" >> "$RELAY_HOME/etc/pools"
	echo "default main" >> "$RELAY_HOME/etc/routes"
	relay-config -d "$RELAY_HOME"
	printf 'Subject: 8bit\n\ncaf\303\251\n' | relay-inject -f s@example.org r@example.net
	run relay-send -1
	echo "$output"
	assert_success
	assert_line --regexp "event=delivered .*relay=127.0.0.1:$B "
	refute_line --partial "event=failed"
	[ "$(recorded "$SB")" -eq 1 ]
	# A is not cooled for it: a 7-bit message in the same run goes to A
	printf 'Subject: 8bit\n\ncaf\303\251\n' | relay-inject -f s@example.org r@example.net
	printf 'Subject: 7bit\n\ncafe\n' | relay-inject -f s@example.org r@example.net
	run relay-send -1 -w 1
	assert_success
	[ "$(recorded "$SA")" -eq 1 ]
	[ "$(recorded "$SB")" -eq 2 ]
	# with no other member it is a bounce, as before
	: > "$RELAY_HOME/etc/pools"; echo "main failover 127.0.0.1:$A" >> "$RELAY_HOME/etc/pools"
	relay-config -d "$RELAY_HOME"
	export RELAYBOUNCE=$BATS_TEST_TMPDIR/fake-bounce
	printf '#!/bin/sh\ncat <&3 >> "%s/bounced"\n' "$BATS_TEST_TMPDIR" > "$RELAYBOUNCE"; chmod +x "$RELAYBOUNCE"
	printf 'Subject: 8bit\n\ncaf\303\251\n' | relay-inject -f s@example.org r@example.net
	run relay-send -1
	assert_line --regexp "event=failed .*dsn=5.6.3"
}

@test "relay-qctl shaping: where each quota and warm-up ramp stands" {
	d3=$(date -u -d '-2 days' +%Y-%m-%d)
	later=$(date -u -d '+3 days' +%Y-%m-%d)
	cat >> "$RELAY_HOME/etc/limits" <<-EOF
	a.example.net:25 ramp=$d3:50*2:1000
	b.example.net:25 ramp=$later:10 quota=5/h
	google mx=*.google.com rate=10/s
	EOF
	relay-config -d "$RELAY_HOME"
	mkdir -p "$RELAY_HOME/state"
	echo "a.example.net:25 0 0 $(( $(date +%s) / 86400 )) 150" > "$RELAY_HOME/state/shaping"
	run relay-qctl shaping
	echo "$output"
	assert_success
	assert_line "a.example.net:25"
	assert_line "       ramp: day 3, 200 today, 50 left"
	assert_line "       ramp: starts in 3 day(s)"
	assert_line "       quota: 5 of 5 left this hour"
	assert_line "site:google"
	run relay-qctl shaping --json
	assert_success
	echo "$output" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[0]["dest"]=="a.example.net:25" and d[0]["limits"][0]["ramp_left"]==50, d'
}
