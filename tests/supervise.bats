#!/usr/bin/env bats
# not tested: daemontools' supervise and s6 (runit's runsv stands for them; the run scripts are the same); the log directory's rotation.
load helper
load smtp_helper

setup() { relay_home; }
teardown() {
	[ -n "${SV:-}" ] && { sv -w 10 exit "$BATS_TEST_TMPDIR/service" >/dev/null 2>&1 || kill "$SV" 2>/dev/null; } || true
	stop_servers
}

sv_running() { sv status "$1" 2>/dev/null | grep -q '^run'; }
msgs_at_least() { [ "$(msgs)" -ge "$1" ]; }

@test "relay-send under runit's runsv: delivers, logs through the log service, stops on sv down" {
	command -v runsv >/dev/null || skip "runit is not installed"
	start_server
	echo "main failover 127.0.0.1:$PORT" >> "$RELAY_HOME/etc/pools"
	echo "default main" >> "$RELAY_HOME/etc/routes"
	relay-config -d "$RELAY_HOME"
	s="$BATS_TEST_TMPDIR/service"
	mkdir -p "$s/log" "$s/env"
	cp "$BATS_TEST_DIRNAME/../scripts/service/relay-send/run" "$s/run"
	cp "$BATS_TEST_DIRNAME/../scripts/service/relay-send/log/run" "$s/log/run"
	echo "$RELAY_HOME" > "$s/env/RELAY_HOME"
	echo "$RELAY_BUILD/bin" > "$s/env/RELAY_BIN"
	runsv "$s" &
	SV=$!
	wait_for sv_running "$s"
	run sv status "$s"
	assert_output --partial "run: "
	printf 'Subject: supervised\n\nhi\n' | relay-inject -f a@example.org b@example.net
	wait_for msgs_at_least 1
	[ "$(msgs)" -eq 1 ]
	sv -w 10 down "$s"
	run sv status "$s"
	assert_output --partial "down: "
	# the logger added time stamps; relay-send said it stopped cleanly
	grep -q 'event=delivered' "$s/log/main/current"
	grep -q 'event=stopped' "$s/log/main/current"
	sv -w 10 exit "$s"
	wait "$SV" || true
	SV=
}
