#!/usr/bin/env bats
# not tested: halvings and lowered concurrency across a restart, MX cooling across a restart (tests/c/t_shape.c t_state_throttles, simulated clock); a restart with a SIGKILL (state/shaping is written at most once a second, so a throttle tripped in the last second may be lost).
load helper
load smtp_helper

setup_file() { TESTS="$BATS_TEST_DIRNAME"; }
setup() { relay_home; relay_setting smtp_timeout 10s; }
teardown() {
	stop_servers
	[ -n "${DAEMON:-}" ] && kill -9 "$DAEMON" 2>/dev/null || true
	true
}

recorded() { ls "$1/rec" | grep -c '\.eml$' || true; }
at_least() { [ "$(recorded "$1")" -ge "$2" ]; }
inject() {
	local i
	for i in $(seq "$1"); do
		printf 'Subject: m%s\n\nbody %s\n' "$i" "$i" | relay-inject -f s@example.org r@example.net
	done
}
a_ok() {        # explain lists A as ok
	relay-qctl explain -f s@example.org r@example.net | grep -q "^  1\. 127.0.0.1:$A .*  ok$"
}

@test "a throttle survives a restart of relay-send: the member stays suspended until the expiry, then takes mail again" {
	start_server --limit-per-minute 2; A=$PORT; SA=$SRV; APID=${SRV_PIDS##* }
	start_server; B=$PORT; SB=$SRV
	echo "main failover 127.0.0.1:$A 127.0.0.1:$B" >> "$RELAY_HOME/etc/pools"
	echo "default main" >> "$RELAY_HOME/etc/routes"
	echo '4xx 4.7.28 * -> rate-limit soft suspend=12s after=1/1m' > "$RELAY_HOME/etc/classify"
	relay-config -d "$RELAY_HOME"
	relay-send -w 1 > "$BATS_TEST_TMPDIR/log" 2>&1 &
	DAEMON=$!
	inject 2
	wait_for at_least "$SA" 2
	inject 1     # a 421 4.7.28: the rule trips
	wait_for at_least "$SB" 1
	wait_for grep -q "event=throttle pool=main dest=127.0.0.1:$A action=suspend" "$BATS_TEST_TMPDIR/log"
	kill -TERM "$DAEMON"; wait "$DAEMON" || true; DAEMON=
	grep -q "^127.0.0.1:$A .* suspend [0-9]* " "$RELAY_HOME/state/shaping"
	# a new relay-send reads it back: A is not asked
	run relay-qctl explain -f s@example.org r@example.net
	assert_line "  1. 127.0.0.1:$A  tls=may  auth=-  skipped (suspended)"
	mails=$(grep -c ' MAIL FROM:' "$SA/log")
	inject 1
	run relay-send -1
	assert_success
	assert_line --regexp "event=delivered .*relay=127.0.0.1:$B "
	[ "$(grep -c ' MAIL FROM:' "$SA/log")" -eq "$mails" ]
	# the suspension ends by itself (A answers again: a fresh server)
	kill "$APID"; wait "$APID" 2>/dev/null || true
	start_server --port "$A"; SA=$SRV
	wait_for a_ok
	inject 1
	run relay-send -1
	assert_success
	assert_line --regexp "event=delivered .*relay=127.0.0.1:$A "
}

@test "a corrupt state/shaping is logged and ignored: relay-send starts and delivers" {
	start_server; A=$PORT; SA=$SRV
	echo "main failover 127.0.0.1:$A" >> "$RELAY_HOME/etc/pools"
	echo "default main" >> "$RELAY_HOME/etc/routes"
	relay-config -d "$RELAY_HOME"
	mkdir -p "$RELAY_HOME/state"
	head -c 3000 /dev/urandom > "$RELAY_HOME/state/shaping"
	printf '\n127.0.0.1:%s 0 0 0 0 suspend 99999999999 0 0 0\n' "$A" >> "$RELAY_HOME/state/shaping"
	inject 1
	run relay-send -1
	assert_success
	assert_output --regexp "state/shaping: [0-9]+ line\(s\) that do not parse, ignored"
	assert_line --regexp "event=delivered .*relay=127.0.0.1:$A "
}
