#!/usr/bin/env bats
# not tested: upgrades from an older package (only one version exists); relay-send and relay-health running from the packaged service directories (the installed end-to-end test's); relay-sendmail where another MTA is installed (dpkg's Conflicts refuse it).
load helper

# Builds relay's .deb from this source tree (make deb: dpkg-buildpackage
# -us -uc -b in a copy), runs lintian, installs it with dpkg -i, checks
# it and purges it. It uses /var/relay as install.bats does: it runs only as root, only
# where /var/relay does not exist and no relay package is installed, and
# removes /var/relay afterwards (the users it made stay).

ROOT="$BATS_TEST_DIRNAME/.."

setup_file() {
	why=""
	if [ "$(id -u)" -ne 0 ]; then why="needs root: dpkg -i"
	elif ! command -v dpkg-buildpackage >/dev/null || ! command -v dh >/dev/null; then
		why="needs dpkg-dev and debhelper"
	elif ! command -v lintian >/dev/null; then why="needs lintian"
	elif dpkg-query -W -f='${Status}' relay 2>/dev/null | grep -q installed; then
		why="a relay package is installed"
	elif readelf -sW "$RELAY_BUILD/bin/relay-send" 2>/dev/null | grep -q ' __asan_init$'; then
		# the package is built from source, not from RELAY_BUILD: the
		# plain run tests it, the sanitizer run need not again
		why="sanitizer build: the package is tested by the plain run"
	fi
	# claimed at once (mkdir is atomic): another root test that checks
	# for /var/relay (install.bats) skips while this one builds
	if [ -z "$why" ] && ! mkdir /var/relay 2>/dev/null; then
		why="/var/relay exists and is not this test's"
	fi
	if [ -n "$why" ]; then
		echo "$why" > "$BATS_FILE_TMPDIR/skip"
		return 0
	fi
	touch "$BATS_FILE_TMPDIR/ours"
	# make deb: dpkg-buildpackage in a copy of the tree, into $B/deb
	# (noddebs: no debug symbol package, to save time)
	B=$BATS_FILE_TMPDIR/b
	DEB_BUILD_OPTIONS="noddebs parallel=2" make -C "$ROOT" --no-print-directory deb BUILD="$B" \
		> "$BATS_FILE_TMPDIR/build.log" 2>&1 ||
		echo "make deb failed: $(tail -20 "$BATS_FILE_TMPDIR/build.log")" > "$BATS_FILE_TMPDIR/failed"
}

teardown_file() {
	if [ -e "$BATS_FILE_TMPDIR/ours" ]; then
		dpkg --purge relay-sendmail relay >/dev/null 2>&1 || true
		rm -rf /var/relay /var/lib/relay
	fi
	return 0
}

setup() {
	if [ -e "$BATS_FILE_TMPDIR/skip" ]; then skip "$(cat "$BATS_FILE_TMPDIR/skip")"; fi
	D=$BATS_FILE_TMPDIR/b/deb
	unset RELAY_HOME
	if [ -e "$BATS_FILE_TMPDIR/failed" ]; then cat "$BATS_FILE_TMPDIR/failed"; return 1; fi
}

deb() { ls "$D"/"$1"_*.deb; }
check_tree() { /usr/share/relay/scripts/install-tree --check "" /usr/bin /var/lib/relay/install-tree; }

@test "dpkg-buildpackage builds relay and relay-sendmail; lintian finds no error" {
	deb relay
	deb relay-sendmail
	# exit 0 with --fail-on error: no E: tag (W: are printed, allowed)
	run lintian --fail-on error --show-overrides "$D"/relay_*.changes
	echo "$output"
	assert_success
	refute_line --regexp '^E:'
	assert_output --partial "O: relay: shared-library-lacks-prerequisites"   # it ran
	# the build got the Makefile's hardening (FORTIFY 3 over dpkg's 2)
	grep -q -- '-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3' "$BATS_FILE_TMPDIR/build.log"
	# relay provides no MTA; relay-sendmail does, and conflicts with others
	run dpkg-deb -f "$(deb relay)" Provides
	assert_output ""
	run dpkg-deb -f "$(deb relay-sendmail)" Provides Conflicts Replaces
	assert_line "Provides: mail-transport-agent"
	assert_line "Conflicts: mail-transport-agent"
	run dpkg-deb -c "$(deb relay)"
	refute_output --partial "sendmail"
}

@test "dpkg -i: programs in /usr/bin, man pages, service directories; install-tree --check passes" {
	run dpkg -i "$(deb relay)"
	assert_success
	for p in bounce config dkim health inject qctl queue send; do
		[ -x /usr/bin/relay-$p ]
		[ -f /usr/share/man/man8/relay-$p.8.gz ]
	done
	# relay-queue setuid relayq as the table says, and dpkg keeps it so
	run stat -c '%U %G %a' /usr/bin/relay-queue
	assert_output "relayq root 4711"
	run dpkg-statoverride --list /usr/bin/relay-queue
	assert_output "relayq root 4711 /usr/bin/relay-queue"
	for s in relay-send relay-health; do
		[ -x /usr/share/relay/service/$s/run ]
		[ -x /usr/share/relay/service/$s/log/run ]
		grep -q 'RELAY_BIN:-/usr/bin}' /usr/share/relay/service/$s/run
		! grep -rq /usr/local /usr/share/relay/service/$s
	done
	[ ! -e /usr/sbin/sendmail ] || [ "$(readlink -f /usr/sbin/sendmail)" != /usr/bin/relay-inject ]
	run check_tree
	assert_success
	[ "$(ls /var/relay/queue/msg | wc -l)" -eq 256 ]
	# the packaged (stripped) programs keep their hardening; the CET and
	# static relay-queue details are tests/hardening.bats's
	if command -v hardening-check >/dev/null; then
		run hardening-check --nocfprotection $(ls /usr/bin/relay-* | grep -v relay-queue)
		assert_success
	fi
	# the statically linked relay-queue works setuid: nobody queues mail
	run setpriv --reuid nobody --regid nogroup --clear-groups -- \
		sh -c 'printf "Subject: hi\n\nbody\n" | /usr/bin/relay-inject -v to@example.net'
	assert_success
	id=$output
	run stat -c '%U %G %a' "/var/relay/queue/msg/${id:14:2}/$id"
	assert_output "relayq relayq 640"
}

@test "relay-sendmail links sendmail to relay-inject; removing it leaves relay whole" {
	if [ -e /usr/sbin/sendmail ] || [ -L /usr/sbin/sendmail ]; then
		skip "/usr/sbin/sendmail exists (another MTA)"
	fi
	run dpkg -i "$(deb relay-sendmail)"
	assert_success
	[ "$(readlink -f /usr/sbin/sendmail)" = /usr/bin/relay-inject ]
	[ "$(readlink -f /usr/lib/sendmail)" = /usr/bin/relay-inject ]
	[ -e /usr/share/man/man8/sendmail.8.gz ]
	# relay-inject called as sendmail: -t takes the recipients from the header
	run sh -c 'printf "To: t@example.net\nSubject: s\n\nbody\n" | /usr/sbin/sendmail -t'
	assert_success
	run dpkg -r relay-sendmail
	assert_success
	[ ! -e /usr/sbin/sendmail ]
	run check_tree
	assert_success
}

@test "dpkg --purge keeps /var/relay while mail is queued, removes it and the stat override when none is" {
	[ -n "$(find /var/relay/queue/msg -type f)" ]
	run dpkg --purge relay
	assert_success
	assert_output --partial "messages still queued: /var/relay is kept"
	[ ! -e /usr/bin/relay-queue ]
	[ ! -e /var/lib/relay ]
	[ -d /var/relay/queue/msg ]
	run dpkg-statoverride --list /usr/bin/relay-queue
	assert_failure
	# again with an empty queue
	find /var/relay/queue/msg -type f -delete
	run dpkg -i "$(deb relay)"
	assert_success
	run dpkg --purge relay
	assert_success
	[ ! -e /var/relay ]
	[ ! -e /usr/share/relay ]
	! dpkg-query -W -f='${Status}' relay 2>/dev/null | grep -q installed
}
