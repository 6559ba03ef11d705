#!/usr/bin/env bats
# not tested: real remote relays and the system CA store; probing through IPv6; more members than -j at once (the parallel bound); "slow" against a real slow network (a stall is used); relay-send reading state/health (tests/send.bats does); delivery-latency quantiles (not produced); running under runsv (the check script is run by hand).
load helper
load smtp_helper

setup_file() { TESTS="$BATS_TEST_DIRNAME"; make_certs; }
setup() { relay_home; }
teardown() { stop_servers; }

# pools NAME STRATEGY MEMBER...: add a pool (no route needed for health)
pools() {
	echo "$*" >> "$RELAY_HOME/etc/pools"
	relay-config -d "$RELAY_HOME"
}
tls() { echo "$*" >> "$RELAY_HOME/etc/tls"; relay-config -d "$RELAY_HOME"; }
auth() { echo "$*" >> "$RELAY_HOME/etc/auth"; chmod 600 "$RELAY_HOME/etc/auth"; relay-config -d "$RELAY_HOME"; }
line_of() { echo "$output" | grep "member=127.0.0.1:$1 "; }

# counters HOSTPORT DELIVERED DEFERRED BOUNCED: one bucket in this minute
counters() {
	mkdir -p "$RELAY_HOME/state/counters/relay"
	printf 'RC1\n%s %s %s %s\n' $(( $(date +%s) / 60 )) "$2" "$3" "$4" \
		> "$RELAY_HOME/state/counters/relay/$1"
}

@test "a healthy relay: up, each step timed, MAIL FROM:<> then RSET, no mail sent; exit 0" {
	start_server
	pools main failover "127.0.0.1:$PORT"
	run relay-health -t 5
	assert_success
	assert_output --regexp "^pool=main member=127.0.0.1:$PORT state=up reason=ok connect_ms=[0-9]+ banner_ms=[0-9]+ ehlo_ms=[0-9]+ tls_ms=[0-9]+ mail_ms=[0-9]+ tls=TLSv1\.[23] cert_days=|^pool=main member=127.0.0.1:$PORT state=up reason=ok connect_ms=[0-9]+ banner_ms=[0-9]+ ehlo_ms=[0-9]+ mail_ms=[0-9]+$"
	grep -q 'MAIL FROM:<>' "$SRV/log"
	grep -q 'RSET' "$SRV/log"
	grep -q 'QUIT' "$SRV/log"
	! grep -q 'RCPT\|DATA' "$SRV/log"
	[ "$(msgs)" -eq 0 ]
}

@test "refused connection, closed without greeting, 421 greeting: down with the step as reason; a pool with no live member exits 2" {
	P1=$(free_port)
	start_server --refuse; P2=$PORT
	start_server --greet 421; P3=$PORT
	pools main failover "127.0.0.1:$P1" "127.0.0.1:$P2" "127.0.0.1:$P3"
	run relay-health -t 5
	echo "$output"
	[ "$status" -eq 2 ]
	line_of "$P1" | grep -q 'state=down reason=connect .*detail="cannot connect to 127.0.0.1 port '"$P1"': Connection refused"'
	line_of "$P2" | grep -q 'state=down reason=banner connect_ms=[0-9]* detail="read: connection closed"'
	line_of "$P3" | grep -q 'state=down reason=banner .*code=421'
}

@test "stalled relays are cut at the deadline in parallel: the run takes deadline + a little, the healthy member is up" {
	start_server --stall 30 --stall-at greet; S1=$PORT
	start_server --stall 30 --stall-at ehlo; S2=$PORT
	start_server --stall 30 --stall-at mail; S3=$PORT
	start_server; OK=$PORT
	pools main failover "127.0.0.1:$S1" "127.0.0.1:$S2" "127.0.0.1:$S3" "127.0.0.1:$OK"
	start=$(date +%s%N)
	run relay-health -t 2
	end=$(date +%s%N)
	echo "$output"
	[ "$status" -eq 1 ]
	# serial probing would take 3 x 2 s; allow deadline + grace (1 s) + 1 s
	[ $(( (end - start) / 1000000 )) -lt 4000 ]
	line_of "$S1" | grep -q 'state=down reason=timeout .*detail="timed out in banner"'
	line_of "$S2" | grep -q 'state=down reason=timeout'
	line_of "$S3" | grep -q 'state=down reason=timeout'
	line_of "$OK" | grep -q 'state=up reason=ok'
}

@test "TLS required but STARTTLS not offered: down reason=starttls" {
	start_server
	pools main failover "127.0.0.1:$PORT"
	tls "127.0.0.1:$PORT" encrypt
	run relay-health -t 5
	[ "$status" -eq 2 ]
	line_of "$PORT" | grep -q 'state=down reason=starttls .*detail="TLS required but STARTTLS not offered"'
}

@test "verify: a good certificate is up with its days left; the wrong name is down; expiring soon is degraded" {
	start_server --starttls "$CERTS/server.pem" "$CERTS/server.key"; GOOD=$PORT
	start_server --starttls "$CERTS/wrong.pem" "$CERTS/wrong.key"; BAD=$PORT
	pools main failover "127.0.0.1:$GOOD" "127.0.0.1:$BAD"
	tls "127.0.0.1:$GOOD" verify "ca=$CERTS/ca.pem"
	tls "127.0.0.1:$BAD" verify "ca=$CERTS/ca.pem"
	run relay-health -t 5
	[ "$status" -eq 1 ]
	line_of "$GOOD" | grep -Eq 'state=up reason=ok .*tls_ms=[0-9]+ .*tls=TLSv1\.[23] cert_days=(29|30)'
	line_of "$BAD" | grep -q 'state=down reason=tls .*detail="certificate verify failed'
	run relay-health -t 5 --cert-days 40 -p main
	line_of "$GOOD" | grep -q 'state=degraded reason=cert-expiring'
}

@test "smtps (TLS from connect): up with its TLS version and certificate; the handshake is in banner_ms" {
	start_server --implicit-tls "$CERTS/server.pem" "$CERTS/server.key"
	pools main failover "127.0.0.1:$PORT"
	tls "127.0.0.1:$PORT" verify smtps "ca=$CERTS/ca.pem"
	run relay-health -t 5
	assert_success
	line_of "$PORT" | grep -Eq 'state=up reason=ok connect_ms=[0-9]+ banner_ms=[0-9]+ ehlo_ms=[0-9]+ mail_ms=[0-9]+ tls=TLSv1\.[23] cert_days='
}

@test "AUTH: accepted is timed, 535 is down reason=auth" {
	start_server --starttls "$CERTS/server.pem" "$CERTS/server.key" --auth u:secret; OK=$PORT
	start_server --starttls "$CERTS/server.pem" "$CERTS/server.key" --auth u:secret --auth-reply '535 5.7.8 no'; NO=$PORT
	pools main failover "127.0.0.1:$OK" "127.0.0.1:$NO"
	tls "127.0.0.1:$OK" encrypt
	tls "127.0.0.1:$NO" encrypt
	auth "127.0.0.1:$OK" u secret
	auth "127.0.0.1:$NO" u secret
	run relay-health -t 5
	[ "$status" -eq 1 ]
	line_of "$OK" | grep -Eq 'state=up .*auth_ms=[0-9]+'
	line_of "$NO" | grep -q 'state=down reason=auth .*code=535'
	! echo "$output" | grep -q secret
}

@test "exit codes: 0 all up, 1 some down but every pool live, 2 a dead pool, 3 unknown" {
	start_server; OK=$PORT
	start_server --refuse; DOWN=$PORT
	pools a failover "127.0.0.1:$OK"
	run relay-health -t 5
	[ "$status" -eq 0 ]
	pools b failover "127.0.0.1:$OK" "127.0.0.1:$DOWN"
	run relay-health -t 5
	[ "$status" -eq 1 ]
	pools c failover "127.0.0.1:$DOWN"
	run relay-health -t 5
	[ "$status" -eq 2 ]
	run relay-health -t 5 -p a
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | wc -l)" -eq 1 ]
	run relay-health -p nosuch
	[ "$status" -eq 3 ]
	run relay-health --bogus
	[ "$status" -eq 3 ]
	run env RELAY_HOME="$BATS_TEST_TMPDIR/nowhere" relay-health
	[ "$status" -eq 3 ]
	assert_output --partial 'relay-health: fatal: unable to read'
	rm "$RELAY_HOME/etc/pools.cdb"
	run relay-health
	[ "$status" -eq 3 ]
}

@test "mx members are skipped and keep their pool alive" {
	start_server --refuse
	pools main failover "127.0.0.1:$PORT" mx
	run relay-health -t 5
	[ "$status" -eq 1 ]
	assert_line 'pool=main member=mx state=skipped reason=mx'
}

@test "state/health: written atomically in its format; SINCE is kept while the state holds; --no-state writes nothing" {
	start_server; OK=$PORT
	DOWN=$(free_port)
	pools main failover "127.0.0.1:$OK" "127.0.0.1:$DOWN" mx
	run relay-health -t 5 --no-state
	[ ! -e "$RELAY_HOME/state/health/status" ]
	run relay-health -t 5 -i 300
	f="$RELAY_HOME/state/health/status"
	cat "$f"
	head -1 "$f" | grep -Eq '^RH1 [0-9]+ 300$'
	grep -Eq "^main 127.0.0.1:$OK up [0-9]+ ok$" "$f"
	grep -Eq "^main 127.0.0.1:$DOWN down [0-9]+ connect$" "$f"
	grep -Eq '^main mx skipped [0-9]+ mx$' "$f"
	[ "$(wc -l < "$f")" -eq 4 ]
	since=$(awk -v m="127.0.0.1:$DOWN" '$2 == m {print $4}' "$f")
	sleep 1.1
	run relay-health -t 5 -i 300
	[ "$(awk -v m="127.0.0.1:$DOWN" '$2 == m {print $4}' "$f")" = "$since" ]
	# no temp file left behind
	[ "$(ls "$RELAY_HOME/state" | grep -v '^health$' | grep -vc '^counters$')" -eq 0 ] || ls -la "$RELAY_HOME/state"
}

@test "error-rate ejection: over 5% of at least 20 events is down, logged; cool-down; back in after it with a passing probe" {
	start_server; P=$PORT
	start_server; Q=$PORT
	pools main failover "127.0.0.1:$P" "127.0.0.1:$Q"
	counters "127.0.0.1:$P" 19 1 0      # exactly 5%: not over; over the 2% warning
	counters "127.0.0.1:$Q" 5 10 4      # 19 events: below the minimum
	run relay-health -t 5
	[ "$status" -eq 1 ]
	line_of "$P" | grep -q 'state=degraded reason=error-rate .*error_pct=5.0'
	! echo "$output" | grep -q ejected
	line_of "$Q" | grep -q 'state=up reason=ok'
	counters "127.0.0.1:$P" 18 1 1      # 10%
	run relay-health -t 5
	[ "$status" -eq 1 ]
	line_of "$P" | grep -q 'state=down reason=error-rate .*error_pct=10.0'
	assert_output --partial "relay-health: warning: pool=main member=127.0.0.1:$P ejected: error rate 10.0%"
	grep -Eq "^main 127.0.0.1:$P down [0-9]+ error-rate$" "$RELAY_HOME/state/health/status"
	# the failures are gone, but the cool-down (default 10 min) is not over
	rm "$RELAY_HOME/state/counters/relay/127.0.0.1:$P"
	run relay-health -t 5
	line_of "$P" | grep -q 'state=down reason=error-rate'
	# a 2% warning level: degraded, not ejected
	counters "127.0.0.1:$Q" 97 3 0
	run relay-health -t 5 -p main
	line_of "$Q" | grep -q 'state=degraded reason=error-rate'
	# cool-down over and the probe passes: back in
	run relay-health -t 5 --cooldown 0
	line_of "$P" | grep -q 'state=up reason=ok'
	assert_output --partial "member=127.0.0.1:$P back in after the error-rate cool-down"
	# the thresholds are options
	counters "127.0.0.1:$Q" 97 3 0
	run relay-health -t 5 --error-eject 2.5
	line_of "$Q" | grep -q 'state=down reason=error-rate'
}

@test "a down member in a failing probe stays down however low its error rate; it comes back when a probe passes" {
	P=$(free_port)
	start_server; OK=$PORT
	pools main failover "127.0.0.1:$P" "127.0.0.1:$OK"
	counters "127.0.0.1:$P" 100 0 0
	run relay-health -t 5
	line_of "$P" | grep -q 'state=down reason=connect'
	since=$(awk -v m="127.0.0.1:$P" '$2 == m {print $4}' "$RELAY_HOME/state/health/status")
	sleep 1.1
	start_server --port "$P"
	run relay-health -t 5
	[ "$status" -eq 0 ]
	line_of "$P" | grep -q 'state=up reason=ok'
	[ "$(awk -v m="127.0.0.1:$P" '$2 == m {print $4}' "$RELAY_HOME/state/health/status")" -gt "$since" ]
}

@test "--json: one document with every member" {
	start_server; OK=$PORT
	start_server --greet 421; BAD=$PORT
	pools main failover "127.0.0.1:$OK" "127.0.0.1:$BAD" mx
	run relay-health -t 5 --json
	[ "$status" -eq 1 ]
	echo "$output" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["status"] == 1, d
m = {x["member"]: x for x in d["members"]}
ok = [v for k, v in m.items() if v["state"] == "up"][0]
assert set(ok["ms"]) >= {"connect", "banner", "ehlo", "mail"}, ok
bad = [v for k, v in m.items() if v["state"] == "down"][0]
assert bad["reason"] == "banner" and bad["code"] == 421, bad
assert m["mx"]["state"] == "skipped"
'
}

@test "--send-test sends one message through each member and reports the reply" {
	start_server
	pools main failover "127.0.0.1:$PORT"
	run relay-health -t 5 --send-test probe@example.net
	assert_success
	line_of "$PORT" | grep -Eq 'send_ms=[0-9]+ .*send_code=250'
	[ "$(msgs)" -eq 1 ]
	grep -q 'probe@example.net' "$SRV/rec/0001.env"
	grep -q '^Subject: relay-health test' "$SRV/rec/0001.eml"
	start_server --rcpt-reply 'probe@example.net=550 5.1.1 no such user'
	pools other failover "127.0.0.1:$PORT"
	run relay-health -t 5 -p other --send-test probe@example.net
	[ "$status" -eq 1 ]
	line_of "$PORT" | grep -q 'state=degraded reason=send-test .*code=550'
}

@test "--prom: a valid textfile with member, probe, certificate, counter and queue metrics" {
	start_server --starttls "$CERTS/server.pem" "$CERTS/server.key"; OK=$PORT
	start_server --refuse; DOWN=$PORT
	pools 'main' failover "127.0.0.1:$OK" "127.0.0.1:$DOWN"
	counters "127.0.0.1:$OK" 7 2 1
	printf 'Subject: a\n\nx\n' | relay-inject -C bulk a@example.net
	printf 'Subject: b\n\nx\n' | relay-inject b@example.net
	printf 'Subject: c\n\nx\n' | relay-inject -C bulk c@example.net
	# one deferred (a retry line), one held
	f=$(queue_last); id=$(basename "$f"); b=$(basename "$(dirname "$f")")
	mkdir -p "$RELAY_HOME/queue/info/$b"
	printf 'R%s 1\n' $(( $(date +%s) + 60 )) > "$RELAY_HOME/queue/info/$b/$id"
	first=$(ls -tr $(find "$RELAY_HOME/queue/msg" -type f) | head -1)
	relay-qctl hold "$(basename "$first")"
	# issue 13: the deferred one arrived an hour ago (its A line); held mail does not count
	old=$(( $(date +%s) - 3600 )); sed -i "0,/^A[0-9]*\$/s//A$old/" "$f"
	run relay-health -t 5 --prom "$RELAY_HOME/state/metrics.prom"
	[ "$status" -eq 1 ]
	run python3 "$TESTS/promparse.py" "$RELAY_HOME/state/metrics.prom" --print
	echo "$output"
	assert_success
	assert_line "relay_health_up	{\"member\": \"127.0.0.1:$OK\", \"pool\": \"main\"}	1"
	assert_line "relay_health_up	{\"member\": \"127.0.0.1:$DOWN\", \"pool\": \"main\"}	0"
	assert_line --regexp "^relay_health_probe_step_seconds	\{\"member\": \"127.0.0.1:$OK\", \"step\": \"tls\"\}	[0-9.e-]+$"
	assert_line --regexp "^relay_health_cert_expiry_timestamp_seconds	\{\"member\": \"127.0.0.1:$OK\"\}	1[0-9]{9}$"
	assert_line "relay_member_outcomes_last_hour	{\"member\": \"127.0.0.1:$OK\", \"outcome\": \"delivered\"}	7"
	assert_line "relay_member_outcomes_last_hour	{\"member\": \"127.0.0.1:$OK\", \"outcome\": \"failed\"}	1"
	assert_line "relay_member_error_ratio	{\"member\": \"127.0.0.1:$OK\"}	0.3"
	assert_line 'relay_queue_messages	{"class": "bulk", "state": "held"}	1'
	assert_line 'relay_queue_messages	{"class": "bulk", "state": "deferred"}	1'
	assert_line 'relay_queue_messages	{"class": "default", "state": "queued"}	1'
	assert_line --regexp '^relay_health_last_run_timestamp_seconds	\{\}	[0-9]+$'
	age=$(awk -F'\t' '$1 == "relay_queue_oldest_age_seconds" { print $3 }' <<< "$output")
	[ "${age%.*}" -ge 3600 ] && [ "${age%.*}" -le 3660 ]
}

@test "promparse.py rejects what a textfile collector would reject" {
	p="$BATS_TEST_TMPDIR/bad.prom"
	printf '# HELP a x\n# TYPE a gauge\na{b="c\\q"} 1\n' > "$p"
	run python3 "$TESTS/promparse.py" "$p"; assert_failure; assert_output --partial 'bad escape'
	printf 'a 1\n' > "$p"
	run python3 "$TESTS/promparse.py" "$p"; assert_failure; assert_output --partial 'no HELP'
	printf '# HELP 9a x\n# TYPE 9a gauge\n' > "$p"
	run python3 "$TESTS/promparse.py" "$p"; assert_failure; assert_output --partial 'bad metric name'
	printf '# HELP a x\n# TYPE a gauge\na{b="1"} 1\na{b="1"} 2\n' > "$p"
	run python3 "$TESTS/promparse.py" "$p"; assert_failure; assert_output --partial 'duplicate series'
}

@test "the runit check script exits 0 only when relay-health says every pool is live" {
	start_server; OK=$PORT
	pools main failover "127.0.0.1:$OK"
	run env RELAY_HEALTH_ARGS="-t 5" "$TESTS/../scripts/service/relay-health/check"
	assert_success
	pools dead failover 127.0.0.1:1
	run env RELAY_HEALTH_ARGS="-t 5" "$TESTS/../scripts/service/relay-health/check"
	assert_failure
}
