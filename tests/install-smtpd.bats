#!/usr/bin/env bats
# not tested: port 587/465 binding by the service directory as root (the test uses a free port).
load helper
load smtpd_helper

# Like tests/install.bats: root only, only when /var/relay does not
# exist; installs into a throwaway prefix and removes /var/relay after.
# Needs uid relays in scripts/install-tree's table (the production
# helper adds it) and a group that may read etc/users.cdb and
# etc/settings.cdb but not etc/auth.cdb or the DKIM keys.
setup_file() {
	why=""
	if [ "$(id -u)" -ne 0 ]; then why="needs root: installs users and a setuid program"
	elif [ -e /var/relay ]; then why="/var/relay exists and is not this test's"
	elif ! command -v setpriv >/dev/null || ! command -v tcpserver >/dev/null; then why="needs setpriv and tcpserver"
	fi
	if [ -n "$why" ]; then
		echo "$why" > "$BATS_FILE_TMPDIR/skip"
		return 0
	fi
	P=$(mktemp -d /tmp/relay-install.XXXXXX)
	chmod 755 "$P"
	echo "$P" > "$BATS_FILE_TMPDIR/prefix"
	touch "$BATS_FILE_TMPDIR/ours"
	"$TESTS/../scripts/install-tree" "" "$P/bin" "$P/man" "$RELAY_BUILD/bin" >&3
}

teardown_file() {
	if [ -e "$BATS_FILE_TMPDIR/ours" ]; then
		rm -rf /var/relay "$(cat "$BATS_FILE_TMPDIR/prefix")"
	fi
	return 0
}

setup() {
	if [ -e "$BATS_FILE_TMPDIR/skip" ]; then skip "$(cat "$BATS_FILE_TMPDIR/skip")"; fi
	P=$(cat "$BATS_FILE_TMPDIR/prefix")
	unset RELAY_HOME
}
teardown() { smtpd_stop; }

as_relays() { setpriv --reuid relays --regid "$(id -g relays)" --init-groups -- "$@"; }

@test "uid relays exists, is not root, and cannot read etc/auth or the DKIM keys" {
	getent passwd relays
	[ "$(id -u relays)" -ne 0 ]
	! id -nG relays | grep -qw relayauth
	mkdir -p /var/relay/etc/keys
	"$P/bin/relay-dkim" keygen -a ed25519 -d example.org -s s1 -o /var/relay/etc/keys/k.key >/dev/null
	chown relayd /var/relay/etc/keys/k.key 2>/dev/null || true
	chmod 600 /var/relay/etc/keys/k.key
	run as_relays cat /var/relay/etc/auth
	assert_failure
	run as_relays cat /var/relay/etc/auth.cdb
	assert_failure
	run as_relays cat /var/relay/etc/keys/k.key
	assert_failure
	# what it needs, it can read (tables compiled as INSTALL says)
	"$P/bin/relay-config" -d /var/relay >/dev/null
	as_relays cat /var/relay/etc/settings.cdb >/dev/null
	as_relays cat /var/relay/etc/users.cdb >/dev/null
	as_relays cat /var/relay/etc/clients.cdb >/dev/null
}

@test "relay-smtpd under tcpserver -u relays queues through the setuid relay-queue" {
	echo '127.0.0.1 relay' >> /var/relay/etc/clients
	"$P/bin/relay-config" -d /var/relay
	SPORT=$(free_port)
	SMTPD_LOG="$BATS_TEST_TMPDIR/smtpd.log"
	tcpserver -H -R -u "$(id -u relays)" -g "$(id -g relays)" 127.0.0.1 "$SPORT" "$P/bin/relay-smtpd" 2>>"$SMTPD_LOG" 3>&- &
	SMTPD_PIDS=$!
	wait_for port_open "$SPORT"
	run swaks --server 127.0.0.1 --port "$SPORT" --from a@example.org --to b@example.net
	assert_output --regexp '250 2\.0\.0 ok: queued as'
	# the relay-smtpd process ran as relays
	grep -q 'message client=127.0.0.1' "$SMTPD_LOG"
	[ "$(find /var/relay/queue/msg -type f | wc -l)" -ge 1 ]
	! grep -q 'Permission denied' "$SMTPD_LOG"
}
