#!/usr/bin/env bats
# issue 13 totals: the _total counters of /metrics (relay-httpd) from
# state/counters/totals/ (relay-send): real deliveries to the test relay.
# not tested: a failover on a local refusal (shaping's, no event, not counted); many relay-send processes at once (the flock is t_totals' and the latency test's pattern).
load helper
load smtp_helper
load httpd_helper

setup() { httpd_home; }
teardown() { httpd_stop; stop_servers; }

# metrics FILE: /metrics into FILE, checked by both parsers
metrics() {
	curl -sf "$URL/metrics" > "$1"
	python3 "$TESTS/promparse.py" "$1"
}

# sample FILE NAME LABEL VALUE: the value prometheus_client reads
sample() {
	/usr/bin/python3 - "$@" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families as parse
path, name, label, value = sys.argv[1:5]
fams = list(parse(open(path).read()))
got = [s.value for f in fams for s in f.samples if s.name == name and s.labels == {label: value}]
for f in fams:
    if f.name + "_total" == name:
        assert f.type == "counter", (name, f.type)
print(int(got[0]) if got else "none")
PY
}

@test "/metrics: delivered, deferred, bounced and failover totals per relay and per pool, DKIM signatures per domain; they add up over a restart of relay-send" {
	/usr/bin/python3 -c 'import prometheus_client' || skip "needs Debian's python3-prometheus-client"
	mkdir -p "$RELAY_HOME/etc/keys"
	relay-dkim keygen -a ed25519 -d example.org -s e1 -o "$RELAY_HOME/etc/keys/ed.key" > /dev/null
	printf 'example.org e1 keys/ed.key ed25519-sha256\n' >> "$RELAY_HOME/etc/dkim"
	start_server --greet 421
	BAD=$PORT
	start_server --rcpt-reply 'bad@example.net=550 5.1.1 no such user' --rcpt-reply 'later@example.net=450 4.2.1 try later'
	OK=$PORT
	echo "main failover 127.0.0.1:$BAD 127.0.0.1:$OK" >> "$RELAY_HOME/etc/pools"
	echo "default main" >> "$RELAY_HOME/etc/routes"
	relay-config -d "$RELAY_HOME"
	printf 'From: app@example.org\nSubject: totals\n\nbody\n' |
		relay-inject -f app@example.org ok1@example.net ok2@example.net bad@example.net later@example.net
	run relay-send -1
	assert_success
	assert_line --partial "event=failover"
	[ "$(msgs)" -eq 1 ]
	grep -q '^DKIM-Signature:' "$SRV/rec/0001.eml"
	f="$RELAY_HOME/state/counters/totals"
	[ "$(cat "$f/relay/127.0.0.1:$OK")" = "$(printf 'RT1\n2 1 1 0')" ]
	[ "$(cat "$f/relay/127.0.0.1:$BAD")" = "$(printf 'RT1\n0 1 0 1')" ]
	[ "$(cat "$f/pool/main")" = "$(printf 'RT1\n2 2 1 1')" ]
	[ "$(cat "$f/dkim/example.org")" = "$(printf 'RT1\n1')" ]
	httpd_start
	metrics "$HT/m1"
	[ "$(sample "$HT/m1" relay_delivered_total relay "127.0.0.1:$OK")" = 2 ]
	[ "$(sample "$HT/m1" relay_deferred_total relay "127.0.0.1:$OK")" = 1 ]
	[ "$(sample "$HT/m1" relay_bounced_total relay "127.0.0.1:$OK")" = 1 ]
	[ "$(sample "$HT/m1" relay_failovers_total relay "127.0.0.1:$OK")" = 0 ]
	[ "$(sample "$HT/m1" relay_deferred_total relay "127.0.0.1:$BAD")" = 1 ]
	[ "$(sample "$HT/m1" relay_failovers_total relay "127.0.0.1:$BAD")" = 1 ]
	[ "$(sample "$HT/m1" relay_delivered_total relay "127.0.0.1:$BAD")" = 0 ]
	[ "$(sample "$HT/m1" relay_pool_delivered_total pool main)" = 2 ]
	[ "$(sample "$HT/m1" relay_pool_deferred_total pool main)" = 2 ]
	[ "$(sample "$HT/m1" relay_pool_bounced_total pool main)" = 1 ]
	[ "$(sample "$HT/m1" relay_pool_failovers_total pool main)" = 1 ]
	[ "$(sample "$HT/m1" relay_dkim_signatures_total domain example.org)" = 1 ]
	grep -qx '# TYPE relay_pool_failovers_total counter' "$HT/m1"
	grep -q '^# HELP relay_dkim_signatures_total ' "$HT/m1"

	# a new relay-send (the pool without the refusing member): the counts add up
	sed -i "s/^main .*/main failover 127.0.0.1:$OK/" "$RELAY_HOME/etc/pools"
	relay-config -d "$RELAY_HOME"
	printf 'From: app@example.org\nSubject: again\n\nbody\n' | relay-inject -f app@example.org ok3@example.net
	run relay-send -1
	assert_success
	metrics "$HT/m2"
	# ok3 and the DSN for bad@ (queued by the first run, from relay.test: not signed)
	assert_line --partial "rcpt=app@example.org"
	[ "$(sample "$HT/m2" relay_delivered_total relay "127.0.0.1:$OK")" = 4 ]
	[ "$(sample "$HT/m2" relay_pool_delivered_total pool main)" = 4 ]
	[ "$(sample "$HT/m2" relay_pool_failovers_total pool main)" = 1 ]
	[ "$(sample "$HT/m2" relay_failovers_total relay "127.0.0.1:$BAD")" = 1 ]
	[ "$(sample "$HT/m2" relay_dkim_signatures_total domain example.org)" = 2 ]
	[ "$(sample "$HT/m2" relay_bounced_total relay "127.0.0.1:$OK")" = 1 ]
}

@test "/metrics: a damaged totals file is left out with a warning; the others and /metrics stay good" {
	/usr/bin/python3 -c 'import prometheus_client' || skip "needs Debian's python3-prometheus-client"
	start_server
	echo "main failover 127.0.0.1:$PORT" >> "$RELAY_HOME/etc/pools"
	echo "default main" >> "$RELAY_HOME/etc/routes"
	relay-config -d "$RELAY_HOME"
	printf 'From: app@example.org\nSubject: t\n\nbody\n' | relay-inject -f app@example.org r@example.net
	run relay-send -1
	assert_success
	f="$RELAY_HOME/state/counters/totals"
	printf 'RT1\n5 0 0\n' > "$f/relay/broken.example:25"      # a field short
	printf 'RT1\n-1 0 0 0\n' > "$f/pool/minus"
	head -c 3000 /dev/urandom > "$f/pool/noise"
	httpd_start
	metrics "$HT/m"
	[ "$(sample "$HT/m" relay_delivered_total relay "127.0.0.1:$PORT")" = 1 ]
	[ "$(sample "$HT/m" relay_pool_delivered_total pool main)" = 1 ]
	! grep -q 'broken\|minus\|noise' "$HT/m"
	grep -q 'warning: state/counters/totals/relay/broken.example:25 is not in the RT1 format' "$HT/httpd.log"
	grep -q 'state/counters/totals/pool/noise' "$HT/httpd.log"
	# relay-send starts a damaged file again rather than stop counting
	printf 'garbage\n' > "$f/relay/127.0.0.1:$PORT"
	printf 'From: app@example.org\nSubject: t\n\nbody\n' | relay-inject -f app@example.org r2@example.net
	run relay-send -1
	assert_success
	[ "$(cat "$f/relay/127.0.0.1:$PORT")" = "$(printf 'RT1\n1 0 0 0')" ]
	[ "$(sample "$HT/m" relay_pool_delivered_total pool main)" = 1 ]
	metrics "$HT/m"
	[ "$(sample "$HT/m" relay_pool_delivered_total pool main)" = 2 ]
}

@test "/metrics: an RFC 8058 class is signed per recipient: one DKIM signature counted for each" {
	/usr/bin/python3 -c 'import prometheus_client' || skip "needs Debian's python3-prometheus-client"
	mkdir -p "$RELAY_HOME/etc/keys"
	relay-dkim keygen -a ed25519 -d Example.COM -s e1 -o "$RELAY_HOME/etc/keys/ed.key" > /dev/null
	printf 'example.com e1 keys/ed.key ed25519-sha256\n' >> "$RELAY_HOME/etc/dkim"
	printf 'classes bulk\nurl https://unsub.test/\n' > "$RELAY_HOME/etc/unsubscribe"
	relay-httpd -K > /dev/null
	chgrp 65534 "$RELAY_HOME/etc/unsubscribe.key"
	start_server
	echo "main failover 127.0.0.1:$PORT" >> "$RELAY_HOME/etc/pools"
	echo "default main" >> "$RELAY_HOME/etc/routes"
	relay-config -d "$RELAY_HOME"
	newkey app1 from=@example.com class=bulk
	httpd_start
	post '{"from": "a@example.com", "to": ["r1@example.net", "r2@example.net", "r3@example.net"], "subject": "news", "text": "hello\n"}'
	[ "$CODE" = 202 ]
	run relay-send -1
	assert_success
	[ "$(msgs)" -eq 3 ]
	for n in 0001 0002 0003; do grep -q '^DKIM-Signature:' "$SRV/rec/$n.eml"; done
	metrics "$HT/m"
	[ "$(sample "$HT/m" relay_dkim_signatures_total domain example.com)" = 3 ]
	[ "$(sample "$HT/m" relay_pool_delivered_total pool main)" = 3 ]
}
