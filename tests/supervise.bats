#!/usr/bin/env bats
# not tested: the log directory's rotation; s6 readiness notification (relay-send writes no notification-fd; "ready" here is up and event=start logged); the services as root on an installed tree (tests/install-e2e.bats runs them under runsv).
load helper
load smtp_helper

# relay-send's service directory (scripts/service/relay-send: run and
# log/run) under each supervisor INSTALL names: runit's runsv,
# daemontools' supervise (through svscan, which joins the service to its
# log service) and s6's s6-supervise (through s6-svscan). Each is
# started, reaches readiness, is told SIGHUP and SIGTERM through its own
# control program, and delivers after each.

setup() { relay_home; }
teardown() {
	case ${SUP-} in
	runit) sv -w 10 exit "$SVC" >/dev/null 2>&1 || true ;;
	daemontools)   # svscan's children: the two supervise processes
		kids=$(pgrep -P "$SCANNER")
		kill "$SCANNER" 2>/dev/null
		svc -dx "$SVC" "$SVC/log" 2>/dev/null
		wait_for gone $kids ;;
	s6) s6-svscanctl -t "$SCAN" 2>/dev/null; wait_for gone "$SCANNER" ;;
	esac
	[ -n "${SCANNER:-}" ] && kill "$SCANNER" 2>/dev/null
	stop_servers
	return 0
}

msgs_at_least() { [ "$(msgs)" -ge "$1" ]; }
log_count() { grep -c "$1" "$SVC/log/main/current" 2>/dev/null || true; }
log_count_over() { [ "$(log_count "$1")" -gt "$2" ]; }

# the supervisor's view: up/down and relay-send's pid
status() {
	case $SUP in
	runit) sv status "$SVC" ;;
	daemontools) svstat "$SVC" ;;
	s6) s6-svstat "$SVC" ;;
	esac 2>/dev/null
}
is_up() { status | grep -Eq '(^run: |: up |^up )'; }
is_down() { status | grep -Eq '(^down: |: down |^down )'; }
pid_of() { status | sed -n 's/^[^(]*(pid \([0-9]*\)).*/\1/p'; }   # the first: runit adds the log's
# ctl h|d|u: SIGHUP, down (SIGTERM), up, through the supervisor's own tool
ctl() {
	case $SUP in
	runit) case $1 in h) sv hup "$SVC" ;; d) sv -w 10 down "$SVC" ;; u) sv up "$SVC" ;; esac ;;
	daemontools) svc "-$1" "$SVC" ;;
	s6) s6-svc "-$1" "$SVC" ;;
	esac
}

# the service directory, as INSTALL says: a copy of scripts/service/relay-send
make_service() {   # make_service DIR: also the test relay and the config
	start_server
	echo "main failover 127.0.0.1:$PORT" >> "$RELAY_HOME/etc/pools"
	echo "default main" >> "$RELAY_HOME/etc/routes"
	relay-config -d "$RELAY_HOME"
	SVC=$1
	mkdir -p "$SVC/log" "$SVC/env"
	cp "$BATS_TEST_DIRNAME/../scripts/service/relay-send/run" "$SVC/run"
	cp "$BATS_TEST_DIRNAME/../scripts/service/relay-send/log/run" "$SVC/log/run"
	echo "$RELAY_HOME" > "$SVC/env/RELAY_HOME"
	echo "$RELAY_BUILD/bin" > "$SVC/env/RELAY_BIN"
}

# start, readiness, a delivery, SIGHUP and a delivery, SIGTERM; then
# mail queued while down is delivered after up, and the log has it all
exercise() {
	wait_for is_up
	wait_for log_count_over 'event=start' 0     # ready: the queue is scanned
	pid=$(pid_of)
	[ -n "$pid" ]
	printf 'Subject: supervised\n\nhi\n' | relay-inject -f a@example.org b@example.net
	wait_for msgs_at_least 1

	ctl h
	wait_for log_count_over 'event=reload' 0
	[ "$(pid_of)" = "$pid" ]
	printf 'Subject: after hup\n\nhi\n' | relay-inject -f a@example.org b@example.net
	wait_for msgs_at_least 2
	[ "$(pid_of)" = "$pid" ]

	ctl d
	wait_for is_down
	wait_for log_count_over 'event=stopped' 0
	wait_for gone "$pid"
	printf 'Subject: while down\n\nhi\n' | relay-inject -f a@example.org b@example.net
	[ "$(msgs)" -eq 2 ]
	ctl u
	wait_for is_up
	wait_for msgs_at_least 3
	[ "$(msgs)" -eq 3 ]
	# the logger (log/run) added time stamps to relay-send's lines
	run grep 'event=delivered' "$SVC/log/main/current"
	assert_success
	[ "${#lines[@]}" -eq 3 ]
	assert_line --index 0 --regexp '^(@4000[0-9a-f]{20}|[0-9]{4}-[0-9]{2}-[0-9]{2}[_ T][0-9:.]+) event=delivered '
	run grep 'fatal' "$SVC/log/main/current"
	assert_failure
}

@test "relay-send under runit's runsv: ready, SIGHUP (sv hup), SIGTERM (sv down), a delivery after each, logged by log/run" {
	command -v runsv >/dev/null || skip "runit is not installed"
	SUP=runit
	make_service "$BATS_TEST_TMPDIR/service"
	runsv "$SVC" </dev/null >/dev/null 2>&1 3>&- &
	SCANNER=$!
	exercise
}

@test "relay-send under daemontools' supervise (svscan): ready, SIGHUP (svc -h), SIGTERM (svc -d), a delivery after each, logged by log/run" {
	command -v supervise >/dev/null && command -v svscan >/dev/null || skip "daemontools is not installed"
	SUP=daemontools
	SCAN="$BATS_TEST_TMPDIR/scan"
	mkdir -p "$SCAN"
	make_service "$SCAN/relay-send"
	(cd "$SCAN" && exec svscan "$SCAN") </dev/null >/dev/null 2>&1 3>&- &
	SCANNER=$!
	exercise
}

@test "relay-send under s6's s6-supervise (s6-svscan): ready, SIGHUP (s6-svc -h), SIGTERM (s6-svc -d), a delivery after each, logged by log/run" {
	command -v s6-supervise >/dev/null && command -v s6-svscan >/dev/null || skip "s6 is not installed"
	SUP=s6
	SCAN="$BATS_TEST_TMPDIR/scan"
	mkdir -p "$SCAN"
	make_service "$SCAN/relay-send"
	s6-svscan "$SCAN" </dev/null >/dev/null 2>&1 3>&- &
	SCANNER=$!
	exercise
}
