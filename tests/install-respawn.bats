#!/usr/bin/env bats
# not tested: the fork server killed itself (relay-send then exits 111 for its supervisor, as before); a deferral by DKIM_TEMP when the signer dies in the middle of a signing (the daemon then ends the same way).
load helper

# A privileged relay-send (started as root by runsv on an installed
# tree) replaces the network workers that die: its fork server, started
# before the scheduler drops to relayq and itself relayn, forks them on
# request (lib/send/forker.h). Root only, only when /var/relay does not
# exist; installs into a throwaway prefix, removes /var/relay after, keeps
# the users (as install.bats). The tests run in order and share the
# service.

setup_file() {
	why=""
	if [ "$(id -u)" -ne 0 ]; then why="needs root: installs users, /var/relay and a setuid program"
	elif [ -e /var/relay ]; then why="/var/relay exists and is not this test's"
	elif ! command -v runsv >/dev/null || ! command -v setpriv >/dev/null; then why="needs runit (runsv) and setpriv"
	fi
	if [ -n "$why" ]; then
		echo "$why" > "$BATS_FILE_TMPDIR/skip"
		return 0
	fi
	S=$(mktemp -d /tmp/relay-respawn.XXXXXX)
	chmod 755 "$S"    # nobody reaches the programs, relayn the fault file's directory
	echo "$S" > "$BATS_FILE_TMPDIR/dir"
	touch "$BATS_FILE_TMPDIR/ours"
	"$TESTS/../scripts/install-tree" "" "$S/bin" "$S/man" "$RELAY_BUILD/bin" >"$S/install.log" 2>&1 ||
		{ cat "$S/install.log" >&3; return 1; }
}

teardown_file() {
	[ -e "$BATS_FILE_TMPDIR/ours" ] || return 0
	S=$(cat "$BATS_FILE_TMPDIR/dir")
	[ -n "${E2E_KEEP-}" ] && { echo "# E2E_KEEP: left $S and /var/relay" >&3; return 0; }
	[ -d "$S/relay-send/supervise" ] && sv -w 15 exit "$S/relay-send" >/dev/null 2>&1
	for p in $(cat "$S"/pids 2>/dev/null); do kill "$p" 2>/dev/null; done
	rm -rf /var/relay "$S"
	return 0
}

setup() {
	if [ -e "$BATS_FILE_TMPDIR/skip" ]; then skip "$(cat "$BATS_FILE_TMPDIR/skip")"; fi
	unset RELAY_HOME
	S=$(cat "$BATS_FILE_TMPDIR/dir")
	B=$S/bin
	H=/var/relay
	return 0
}

inject() {   # inject SUBJECT, as nobody
	setpriv --reuid nobody --regid nogroup --clear-groups -- \
		sh -c 'printf "Subject: %s\n\nhello\n" "$1" | "$0"/relay-inject -f sender@example.org to@example.net' "$B" "$1"
}
got() { grep -lqs "^Subject: $1" "$S"/rec/*.eml; }
# delivered after AUTH as user (the test relay's envelope file says who)
got_with_auth() {
	local f
	f=$(grep -ls "^Subject: $1" "$S"/rec/*.eml) || return 1
	grep -q '^AUTH user' "${f%.eml}.env"
}
sv_up() { sv status "$S/relay-send" 2>/dev/null | grep -q '^run: '; }
send_pid() { sv status "$S/relay-send" | sed -n 's/^run: [^(]*(pid \([0-9]*\)).*/\1/p'; }
log_count() { grep -c "$1" "$S/relay-send/log/main/current" || true; }
log_count_at_least() { [ "$(log_count "$1")" -ge "$2" ]; }
descendants() {
	local p
	for p in $(ps -o pid= --ppid "$1"); do echo "$p"; descendants "$p"; done
}
# the network workers: relayn processes named relay-send under the
# scheduler (its fork server is relay-send-fork)
workers() {
	local p
	for p in $(descendants "$(send_pid)"); do
		[ "$(ps -o user=,comm= -p "$p" | tr -s ' ')" = "relayn relay-send" ] && echo "$p"
	done
	return 0
}
workers_are() { [ "$(workers | wc -l)" -eq "$1" ]; }
none_of() {   # none_of "PIDS": no worker now is one of them
	local p
	for p in $(workers); do case " $1 " in *" $p "*) return 1 ;; esac; done
}

@test "installed: relay-send under runsv, an AUTH relay, two workers (relayn)" {
	mkdir -p "$S/rec"
	"$TESTS/smtp-test-server" --port-file "$S/port" --record "$S/rec" --auth user:s3cret \
		--auth-plaintext >>"$S/srv.out" 2>&1 3>&- &
	echo $! >> "$S/pids"
	wait_for test -s "$S/port"
	P=$(cat "$S/port")
	printf 'hostname relay.test\nconcurrency 2\n' > "$H/etc/settings"
	printf 'main failover 127.0.0.1:%s\n' "$P" > "$H/etc/pools"
	printf 'default main\n' > "$H/etc/routes"
	printf '127.0.0.1:%s none\n' "$P" > "$H/etc/tls"   # AUTH in plain text, on loopback
	( umask 077 && printf '127.0.0.1:%s user s3cret\n' "$P" > "$H/etc/auth" )
	"$B/relay-config" -d "$H"
	run stat -c '%U:%G %a' "$H/etc/auth.cdb"
	assert_output "root:relayauth 640"
	cp -r "$TESTS/../scripts/service/relay-send" "$S/relay-send"
	mkdir -p "$S/relay-send/env"
	echo "$B" > "$S/relay-send/env/RELAY_BIN"
	# the fault shim is loaded but idle until $S/fork-fails exists
	echo "$RELAY_BUILD/tests/libfaults.so" > "$S/relay-send/env/LD_PRELOAD"
	echo "$S/fork-fails" > "$S/relay-send/env/FAULT_FORK_FILE"
	echo "verify_asan_link_order=0" > "$S/relay-send/env/ASAN_OPTIONS"
	runsv "$S/relay-send" </dev/null >/dev/null 2>&1 3>&- &
	echo $! >> "$S/pids"
	wait_for sv_up
	wait_for log_count_at_least 'event=start' 1
	wait_for workers_are 2
	run ps -o user= -p "$(send_pid)"
	assert_output relayq
	inject first
	wait_for got_with_auth first
}

@test "a worker killed (SIGKILL) is replaced; the next mail goes through the AUTH relay; the daemon never restarts" {
	pid=$(send_pid)
	old=$(workers | tr '\n' ' ')
	[ -n "$old" ]
	kill -9 $old
	wait_for gone $old
	wait_for log_count_at_least 'network worker .* exited' 2
	wait_for workers_are 2
	none_of "$old"
	inject after-kill
	wait_for got_with_auth after-kill
	[ "$(send_pid)" = "$pid" ]
	[ "$(log_count 'event=start')" -eq 1 ]
	[ "$(log_count 'no network worker is left')" -eq 0 ]
	for p in $(workers); do
		run ps -o user=,group=,supgrp= -p "$p"
		assert_output --regexp '^relayn +relayn +-?$'
	done
}

@test "fork failing while a worker is replaced: logged, retried with a back-off, never an exit; then delivered" {
	pid=$(send_pid)
	old=$(workers | tr '\n' ' ')
	n=$(log_count 'unable to fork a worker')
	touch "$S/fork-fails"
	kill -9 $old
	wait_for gone $old
	# two rounds of failures: it backs off and tries again
	wait_for log_count_at_least 'unable to fork a worker' $((n + 4))
	workers_are 0
	[ "$(send_pid)" = "$pid" ]
	inject while-fork-fails
	rm "$S/fork-fails"
	wait_for workers_are 2
	wait_for got_with_auth while-fork-fails
	[ "$(send_pid)" = "$pid" ]
	[ "$(log_count 'event=start')" -eq 1 ]
}

signer() {   # relay-dkim serve under the scheduler, as relayd
	local p
	for p in $(descendants "$(send_pid)"); do
		[ "$(ps -o user=,comm= -p "$p" | tr -s ' ')" = "relayd relay-dkim" ] && echo "$p"
	done
	return 0
}
has_signer() { [ -n "$(signer)" ]; }
pid_changed() { local p; p=$(send_pid); [ -n "$p" ] && [ "$p" != "$1" ]; }
signed() {
	local f
	f=$(grep -ls "^Subject: $1" "$S"/rec/*.eml) || return 1
	grep -qi '^DKIM-Signature:' "$f"
}
inject_from() {   # inject SUBJECT with a From: of example.org (the signing domain)
	setpriv --reuid nobody --regid nogroup --clear-groups -- \
		sh -c 'printf "From: sender@example.org\nSubject: %s\n\nhello\n" "$1" | "$0"/relay-inject -f sender@example.org to@example.net' "$B" "$1"
}

@test "DKIM installed: relay-dkim serve (relayd) killed; relay-send cannot restart it as relayq, so it ends for runsv; no mail goes out unsigned" {
	"$B/relay-dkim" keygen -a ed25519 -d example.org -s s1 -o "$H/etc/dkim-keys/k.key" >/dev/null
	chown relayd:relayd "$H/etc/dkim-keys/k.key"
	chmod 600 "$H/etc/dkim-keys/k.key"
	echo 'example.org s1 dkim-keys/k.key ed25519-sha256' > "$H/etc/dkim"
	"$B/relay-config" -d "$H"
	pid=$(send_pid)
	sv restart "$S/relay-send"    # the signer starts with relay-send, before the drop
	wait_for pid_changed "$pid"
	wait_for has_signer
	wait_for workers_are 2
	inject_from signed-first
	wait_for got signed-first
	signed signed-first
	pid=$(send_pid)
	kill -9 $(signer)
	wait_for pid_changed "$pid"
	wait_for has_signer
	inject_from signed-after
	wait_for got signed-after
	signed signed-after
	log_count_at_least 'relay-dkim serve is gone' 1
}

@test "SIGTERM: the scheduler, its fork server and the workers end; nothing is left running as relayn" {
	pid=$(send_pid)
	kids=$(descendants "$pid" | tr '\n' ' ')
	sv -w 15 down "$S/relay-send"
	wait_for gone "$pid" $kids
	wait_for log_count_at_least 'event=stopped' 1
}
