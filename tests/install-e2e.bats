#!/usr/bin/env bats
# not tested: relay-health from cron (its service is used; tests/install-docs.bats checks INSTALL's cron line); DKIM signing installed (relayd); TLS to the test relay; INSTALL_SENDMAIL.
load helper
load smtp_helper

# The installed tree end to end, as an operator runs it: `make install`
# as root (the real /var/relay, the system users, BINDIR /usr/local/bin),
# the configuration written in /var/relay/etc as INSTALL says, relay-send
# under runsv from scripts/service/relay-send (started as root, it drops
# to relayq/relayn itself), relay-health from scripts/service/relay-health
# as relayh, mail injected by nobody and delivered to the test relay.
# Then SIGHUP, a config change, a health verdict, a hold, release and
# requeue by root, and a SIGTERM, each followed by a delivery.
#
# Only as root, and only when /var/relay does not exist (it will not
# touch a real installation). The tests of this file run in order and
# share the installation and the services (setup_file); teardown_file
# stops runsv, removes /var/relay and the programs it installed (none
# that were there before), and keeps the users (install.bats does too).
#
# RELAY_E2E_PACKAGE=1: the same flow against the installed Debian package
# (.ci/run builds it with make deb and installs it with dpkg -i): the
# programs in /usr/bin, the service directories and install-tree from
# /usr/share/relay; no make install, and /var/relay (the package's) is
# left for dpkg --purge.
if [ -n "${RELAY_E2E_PACKAGE-}" ]; then
	BIN=/usr/bin
	SVC=/usr/share/relay/service
	check_tree() { /usr/share/relay/scripts/install-tree --check "" /usr/bin /var/lib/relay/install-tree; }
else
	BIN=/usr/local/bin
	SVC=$BATS_TEST_DIRNAME/../scripts/service
	check_tree() { "$BATS_TEST_DIRNAME/../scripts/install-tree" --check "" /usr/local/bin /usr/local/share/man; }
fi

setup_file() {
	why=""
	if [ "$(id -u)" -ne 0 ]; then why="needs root: make install creates users, /var/relay and a setuid program"
	elif [ -n "${RELAY_E2E_PACKAGE-}" ]; then
		if ! dpkg-query -W -f='${Status}' relay 2>/dev/null | grep -q 'ok installed'; then why="RELAY_E2E_PACKAGE: the relay package is not installed"
		elif [ -n "$(find /var/relay/queue/msg -type f 2>/dev/null)" ]; then why="RELAY_E2E_PACKAGE: mail is queued in /var/relay"
		fi
	elif [ -e /var/relay ]; then why="/var/relay exists and is not this test's"
	elif ! command -v runsv >/dev/null || ! command -v setpriv >/dev/null; then why="needs runit (runsv) and setpriv"
	fi
	if [ -n "$why" ]; then
		echo "$why" > "$BATS_FILE_TMPDIR/skip"
		return 0
	fi
	unset RELAY_HOME
	touch "$BATS_FILE_TMPDIR/ours"
	if [ -n "${RELAY_E2E_PACKAGE-}" ]; then
		: > "$BATS_FILE_TMPDIR/added"
		touch "$BATS_FILE_TMPDIR/package"
		S=$(mktemp -d /tmp/relay-e2e.XXXXXX)
		echo "$S" > "$BATS_FILE_TMPDIR/services"
		return 0
	fi
	# programs make install adds (the ones already there are left alone)
	: > "$BATS_FILE_TMPDIR/added"
	for f in "$RELAY_BUILD"/bin/* "$TESTS"/../doc/*.8; do
		case $f in *.8) t=/usr/local/share/man/man8/${f##*/} ;; *) t=/usr/local/bin/${f##*/} ;; esac
		[ -e "$t" ] || [ -L "$t" ] || echo "$t" >> "$BATS_FILE_TMPDIR/added"
	done
	make -s -C "$TESTS/.." install BUILD="$RELAY_BUILD" >"$BATS_FILE_TMPDIR/install.log" 2>&1 ||
		{ cat "$BATS_FILE_TMPDIR/install.log" >&3; return 1; }
	# the service directories live where root alone may write
	S=$(mktemp -d /tmp/relay-e2e.XXXXXX)
	echo "$S" > "$BATS_FILE_TMPDIR/services"
}

teardown_file() {
	[ -e "$BATS_FILE_TMPDIR/ours" ] || return 0
	[ -n "${E2E_KEEP-}" ] && { echo "# E2E_KEEP: left $(cat "$BATS_FILE_TMPDIR/services") and /var/relay" >&3; return 0; }
	S=$(cat "$BATS_FILE_TMPDIR/services" 2>/dev/null) || S=
	if [ -n "$S" ]; then
		for s in relay-send relay-health; do
			[ -d "$S/$s/supervise" ] && sv -w 15 exit "$S/$s" >/dev/null 2>&1
		done
		for p in $(cat "$S"/pids 2>/dev/null); do kill "$p" 2>/dev/null; done
		rm -rf "$S"
	fi
	[ -e "$BATS_FILE_TMPDIR/package" ] && return 0   # the package's: dpkg --purge removes it
	rm -rf /var/relay
	while read -r t; do rm -f "$t"; done < "$BATS_FILE_TMPDIR/added"
	return 0
}

setup() {
	if [ -e "$BATS_FILE_TMPDIR/skip" ]; then skip "$(cat "$BATS_FILE_TMPDIR/skip")"; fi
	unset RELAY_HOME
	S=$(cat "$BATS_FILE_TMPDIR/services")
	B=$BIN
	H=/var/relay
	[ -f "$S/ports" ] && . "$S/ports"
	return 0
}

# ---- helpers

# nobody injects: relay-inject as an unprivileged user with no groups
inject() {   # inject TO [SUBJECT]: prints the queue id
	setpriv --reuid nobody --regid nogroup --clear-groups -- \
		sh -c 'printf "Subject: %s\n\nhello from nobody\n" "$2" | "$0"/relay-inject -v -f sender@example.org "$1"' \
		"$B" "$1" "${2:-e2e}"
}
# the test relays: A and B in pool main, C alone in pool c (always on
# the same ports, so a relay can be stopped and started again)
relay_up() {   # relay_up NAME [server options]
	local n=$1; shift
	local d="$S/srv-$n" port=0
	mkdir -p "$d/rec"
	[ -f "$d/port" ] && port=$(cat "$d/port")
	rm -f "$d/port.new"
	"$TESTS/smtp-test-server" --port "$port" --port-file "$d/port.new" --record "$d/rec" \
		--log "$d/log" "$@" >>"$d/out" 2>&1 3>&- &
	echo $! > "$d/pid"
	echo $! >> "$S/pids"
	wait_for test -s "$d/port.new"
	mv "$d/port.new" "$d/port"
}
relay_down() {
	local p
	p=$(cat "$S/srv-$1/pid")
	kill "$p"
	wait_for gone "$p"
}
got() { ls "$S/srv-$1/rec" | grep -c '\.eml$' || true; }   # messages relay NAME recorded
got_at_least() { [ "$(got "$1")" -ge "$2" ]; }
has_subject() { grep -lqs "^Subject: $2" "$S/srv-$1"/rec/*.eml; }
main_has() { has_subject A "$1" || has_subject B "$1"; }   # pool main: A, or B in failover
# the supervised services
sv_up() { sv status "$1" 2>/dev/null | grep -q '^run: '; }
sv_down() { sv status "$1" 2>/dev/null | grep -q '^down: '; }
send_pid() { sv status "$S/relay-send" | sed -n 's/^run: [^(]*(pid \([0-9]*\)).*/\1/p'; }
log_has() { grep -q "$1" "$S/relay-send/log/main/current"; }
log_count() { grep -c "$1" "$S/relay-send/log/main/current" || true; }
log_count_over() { [ "$(log_count "$1")" -gt "$2" ]; }
health_says() { grep -q "$1" "$H/state/health/status" 2>/dev/null; }
queued() { [ -e "$H/queue/msg/${1:14:2}/$1" ]; }
not_queued() { ! queued "$1" && [ ! -e "$H/queue/hold/$1" ]; }
qctl() { "$B/relay-qctl" "$@"; }

# one run of relay-health (its service has a down file: `sv once` starts
# it once; the run script probes, then sleeps, which sv down ends)
health_once() {
	local before
	before=$(stamps)
	sv -w 15 down "$S/relay-health" >/dev/null 2>&1 || true
	wait_for sv_down "$S/relay-health"
	sv once "$S/relay-health"
	wait_for health_changed "$before"
}
# both files are replaced by each run (a new inode each time)
stamps() { echo "$(stat -c %i "$H/state/health/status" 2>/dev/null || echo none)" \
	"$(stat -c %i "$H/state/health/metrics.prom" 2>/dev/null || echo none)"; }
health_changed() {
	set -- $1 $(stamps)
	[ "$3" != none ] && [ "$4" != none ] && [ "$1" != "$3" ] && [ "$2" != "$4" ]
}

# ---- the tests (in order; each builds on the one before)

@test "make install as root: the tree matches the table; relay-queue is setuid relayq" {
	run check_tree
	assert_success
	run stat -c '%U %a' "$B/relay-queue"
	assert_output "relayq 4711"
	[ -d "$H/state/health" ]
	run stat -c '%U' "$H/state/health"
	assert_output relayh
}

@test "configured as INSTALL says; relay-send under runsv and relay-health as relayh start" {
	relay_up A
	relay_up B
	relay_up C
	{
		echo "PA=$(cat "$S/srv-A/port")"
		echo "PB=$(cat "$S/srv-B/port")"
		echo "PC=$(cat "$S/srv-C/port")"
	} > "$S/ports"
	. "$S/ports"
	# INSTALL, 4. Configure: the tables in /var/relay/etc, auth 0600, compiled
	printf 'hostname relay.test\npostmaster postmaster@relay.test\n' > "$H/etc/settings"
	printf 'main failover 127.0.0.1:%s 127.0.0.1:%s\nc failover 127.0.0.1:%s\n' "$PA" "$PB" "$PC" > "$H/etc/pools"
	printf 'to:c.example c\ndefault main\n' > "$H/etc/routes"
	# a login for a relay not in use: auth.cdb exists and relay-send reads it
	( umask 077 && printf '127.0.0.1:1 user secret password\n' > "$H/etc/auth" )
	run "$B/relay-config" -d "$H"
	assert_success
	run stat -c '%U:%G %a' "$H/etc/auth.cdb"
	assert_output "root:relayauth 640"
	run check_tree
	assert_success

	# INSTALL, 5. Run under supervision
	cp -r "$SVC/relay-send" "$S/relay-send"
	mkdir -p "$S/relay-send/env"
	echo "$B" > "$S/relay-send/env/RELAY_BIN"
	cp -r "$SVC/relay-health" "$S/relay-health"
	mkdir -p "$S/relay-health/env"
	echo "$B" > "$S/relay-health/env/RELAY_BIN"
	echo 3600 > "$S/relay-health/env/RELAY_HEALTH_INTERVAL"   # fresh for 3 hours: no race
	echo "-t 10" > "$S/relay-health/env/RELAY_HEALTH_ARGS"
	touch "$S/relay-health/down"
	runsv "$S/relay-send" </dev/null >/dev/null 2>&1 3>&- &
	echo $! >> "$S/pids"
	runsv "$S/relay-health" </dev/null >/dev/null 2>&1 3>&- &
	echo $! >> "$S/pids"
	wait_for sv_up "$S/relay-send"
	wait_for log_has 'event=start'
	# the scheduler is relayq, its workers relayn; nothing stays root
	pid=$(send_pid)
	run ps -o user= -p "$pid"
	assert_output relayq
	run sh -c 'ps -o user= --ppid "$0" | sort -u' "$pid"
	assert_line relayn
	refute_line root

	health_once
	run stat -c '%U:%G' "$H/state/health/status" "$H/state/health/metrics.prom"
	assert_line --index 0 "relayh:relayh"
	assert_line --index 1 "relayh:relayh"
	grep -q "^main 127.0.0.1:$PA up " "$H/state/health/status"
	grep -q "^c 127.0.0.1:$PC up " "$H/state/health/status"
	# relayh counted the queue for the metrics
	grep -q '^relay_queue_unreadable 0' "$H/state/health/metrics.prom"
	run grep -i 'unable\|fatal' "$S/relay-health/log/main/current"
	assert_failure
}

@test "mail injected by nobody is delivered to the test relay" {
	id=$(inject to@example.net first)
	wait_for got_at_least A 1
	has_subject A first
	wait_for not_queued "$id"
	run grep -q 'relay-inject invoked by uid 65534' "$S"/srv-A/rec/*.eml
	assert_success
}

# events (issue 14): relay-queue, setuid relayq, writes the received
# record of a caller that may not write the spool
@test "events: mail injected by nobody has its received record, written by relay-queue (relayq, group relaye)" {
	id=$(inject to@example.net evrec)
	wait_for not_queued "$id"
	run env RELAY_HOME="$H" "$B/relay-events" tail
	assert_line --regexp "^id=relay-queue:[0-9]+:[0-9]+ v=1 event=received .* queue_id=$id .*source=relay-inject uid=65534\$"
	seg=$(ls "$H/state/events/relay-queue/" | tail -n 1)
	[ "$(stat -c '%U %G %a' "$H/state/events/relay-queue/$seg")" = "relayq relaye 640" ]
	[ ! -e "$H/state/events/relay-inject" ]
}

@test "SIGHUP: relay-send re-reads the config (auth.cdb too) and keeps running; then a delivery" {
	pid=$(send_pid)
	[ -n "$pid" ]
	n=$(log_count 'event=reload')
	sv hup "$S/relay-send"
	wait_for log_count_over 'event=reload' "$n"
	run grep 'fatal' "$S/relay-send/log/main/current"
	assert_failure
	[ "$(send_pid)" = "$pid" ]
	inject to@example.net after-hup >/dev/null
	wait_for has_subject A after-hup
	[ "$(send_pid)" = "$pid" ]
}

@test "a config change (a new route), compiled and SIGHUP: the next mail takes it" {
	printf 'to:c.example c\nto:b.example c\ndefault main\n' > "$H/etc/routes"
	"$B/relay-config" -d "$H"
	n=$(log_count 'event=reload')
	sv hup "$S/relay-send"
	wait_for log_count_over 'event=reload' "$n"
	inject rcpt@b.example rerouted >/dev/null
	wait_for has_subject C rerouted
	run has_subject A rerouted
	assert_failure
}

@test "a health verdict: relay-health (relayh) marks a member down and relay-send skips it" {
	relay_down A
	health_once
	grep -q "^main 127.0.0.1:$PA down " "$H/state/health/status"
	relay_up A    # back on its port, but the verdict stands until the next run
	inject to@example.net by-health >/dev/null
	wait_for has_subject B by-health
	run has_subject A by-health
	assert_failure
	run grep 'state/health' "$S/relay-send/log/main/current"
	assert_failure
	health_once
	grep -q "^main 127.0.0.1:$PA up " "$H/state/health/status"
	# A is first in the pool again; a worker that held a session to the
	# old A reconnects (lib/send/worker.c), it does not fail over to B
	inject to@example.net healthy-again >/dev/null
	wait_for main_has healthy-again
	has_subject A healthy-again
}

@test "hold and release by root, and requeue of deferred mail by root: every file is relayq's; each is delivered" {
	# deferred: C is down for now (its port refuses)
	relay_down C
	id=$(inject x@c.example deferred)
	wait_for log_has "event=deferred.*$id"
	relay_up C
	run qctl hold "$id"
	assert_success
	[ -f "$H/queue/hold/$id" ]
	run qctl release "$id"
	assert_success
	run stat -c '%U:%G' "$H/queue/msg/${id:14:2}/$id" "$H/queue/info/${id:14:2}/$id"
	assert_line --index 0 relayq:relayq
	assert_line --index 1 relayq:relayq
	wait_for has_subject C deferred
	wait_for not_queued "$id"

	# requeue: a deferred message, due in minutes, sent now
	relay_down C
	id=$(inject y@c.example requeued)
	wait_for log_has "event=deferred.*$id"
	relay_up C
	run qctl requeue "$id"
	assert_success
	assert_output "requeue $id"
	run stat -c '%U:%G' "$H/queue/info/${id:14:2}/$id"
	assert_output relayq:relayq
	wait_for has_subject C requeued
	wait_for not_queued "$id"

	# a message held before any attempt: release creates its info file
	sv -w 15 down "$S/relay-send"
	id=$(inject to@example.net held-fresh)
	run qctl hold "$id"
	assert_success
	run qctl release "$id"
	assert_success
	run stat -c '%U:%G %a' "$H/queue/info/${id:14:2}/$id"
	assert_output "relayq:relayq 640"
	sv up "$S/relay-send"
	wait_for main_has held-fresh
	wait_for not_queued "$id"
}

@test "SIGTERM (sv down): relay-send stops cleanly; mail queued meanwhile is delivered after sv up" {
	wait_for sv_up "$S/relay-send"
	n=$(log_count 'event=stopped')
	pid=$(send_pid)
	sv -w 15 down "$S/relay-send"
	wait_for sv_down "$S/relay-send"
	wait_for log_count_over 'event=stopped' "$n"
	wait_for gone "$pid"
	id=$(inject to@example.net while-down)
	queued "$id"
	# delete by root: the removal is made durable (the directories fsynced)
	gone_id=$(inject to@example.net deleted)
	run qctl release "$gone_id"   # not held: refused, and it writes no info file
	assert_failure
	[ ! -e "$H/queue/info/${gone_id:14:2}/$gone_id" ]
	qctl hold "$gone_id"
	qctl release "$gone_id"       # now it has an info file too
	# LeakSanitizer cannot run under ptrace (the sanitizer build)
	run env ASAN_OPTIONS=detect_leaks=0 strace -f -e trace=unlink,unlinkat,fsync -o "$S/strace.delete" "$B/relay-qctl" delete "$gone_id"
	assert_success
	not_queued "$gone_id"
	[ ! -e "$H/queue/info/${gone_id:14:2}/$gone_id" ]
	run awk '/unlink.*\/msg\// { m = NR } /unlink.*\/info\// { i = NR } /fsync/ { if (m && NR > m) fm = 1; if (i && NR > i) fi = 1 } END { exit !(fm && fi) }' "$S/strace.delete"
	assert_success
	sv up "$S/relay-send"
	wait_for main_has while-down
	wait_for not_queued "$id"
	run grep 'fatal' "$S/relay-send/log/main/current"
	assert_failure
}
