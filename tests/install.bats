#!/usr/bin/env bats
# not tested: relay-send's relayn/relayd split (relay-send run as root on an installed tree), INSTALL_SENDMAIL, the DESTDIR (packaging) install, a non-default home.
load helper

# The installed relay-queue is setuid and so always uses /var/relay: this
# test installs into a throwaway prefix but must use /var/relay itself.
# It runs only as root, and only when /var/relay does not exist (it will
# not touch a real installation); it removes /var/relay afterwards and
# keeps the users it made (removing users is not idempotent-safe).

# bats 1.8 cannot skip from setup_file: it leaves a reason that setup()
# turns into a skip of each test.
setup_file() {
	why=""
	if [ "$(id -u)" -ne 0 ]; then why="needs root: installs users and a setuid program"
	elif [ -e /var/relay ]; then why="/var/relay exists and is not this test's"
	elif ! command -v setpriv >/dev/null; then why="needs setpriv (util-linux)"
	fi
	if [ -n "$why" ]; then
		echo "$why" > "$BATS_FILE_TMPDIR/skip"
		return 0
	fi
	P=$(mktemp -d /tmp/relay-install.XXXXXX)
	chmod 755 "$P"    # the unprivileged user must reach the programs
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

# as_nobody CMD...: run as an unprivileged user with no groups.
as_nobody() {
	setpriv --reuid nobody --regid nogroup --clear-groups -- "$@"
}
as_user() {   # as_user USER CMD...: with that user's groups
	u=$1; shift
	setpriv --reuid "$u" --regid "$(id -g "$u")" --init-groups -- "$@"
}

@test "users and groups exist; the tree matches the table; a second install changes nothing" {
	for u in relayq relayn relayd relayh relays; do getent passwd "$u"; done
	id -nG relayq | grep -qw relayauth
	id -nG relayh | grep -qw relayauth
	id -nG relayh | grep -qw relayq
	for u in relayn relayd relays; do
		[ "$(id -nG "$u")" = "$u" ]   # its own group, no other
	done
	run "$TESTS/../scripts/install-tree" --check "" "$P/bin" "$P/man"
	assert_success
	run "$TESTS/../scripts/install-tree" "" "$P/bin" "$P/man" "$RELAY_BUILD/bin"
	assert_success
	run "$TESTS/../scripts/install-tree" --check "" "$P/bin" "$P/man"
	assert_success
	[ "$(ls /var/relay/queue/msg | wc -l)" -eq 256 ]
	[ -f "$P/man/man8/relay-queue.8" ]
}

@test "--check reports each mismatch and exits 1" {
	chmod 0755 /var/relay/queue/tmp
	chown root /var/relay/queue/hold
	run "$TESTS/../scripts/install-tree" --check "" "$P/bin" "$P/man"
	chmod 2700 /var/relay/queue/tmp
	chown relayq /var/relay/queue/hold
	assert_failure 1
	assert_line "install-tree: mismatch: /var/relay/queue/tmp: mode 2755, want 2700"
	assert_line "install-tree: mismatch: /var/relay/queue/hold: owner root:relayq, want relayq:relayq"
}

@test "relay-queue is setuid relayq, the only setuid program" {
	run stat -c '%U %G %a' "$P/bin/relay-queue"
	assert_output "relayq root 4711"
	[ -z "$(find "$P/bin" -perm /6000 ! -name relay-queue)" ]
}

@test "an unprivileged user injects with the installed relay-inject; the queue file is relayq's" {
	run as_nobody sh -c 'printf "Subject: hi\n\nbody\n" | "$0"/relay-inject -v to@example.net' "$P/bin"
	assert_success
	id=$output
	f=/var/relay/queue/msg/${id:14:2}/$id
	[ -f "$f" ]
	run stat -c '%U %G %a' "$f"
	assert_output "relayq relayq 640"
	grep -qx 'Fnobody@.*' "$f"
	grep -q '^Received: (relay-inject invoked by uid 65534)' "$f"
	[ -z "$(ls /var/relay/queue/tmp)" ]
}

@test "the unprivileged user cannot read the queue or write into it directly" {
	printf 'Subject: secret\n\nsecret\n' | "$P/bin/relay-inject" to@example.net
	f=$(find /var/relay/queue/msg -type f | head -1)
	run as_nobody cat "$f"
	assert_failure
	run as_nobody ls /var/relay/queue/msg
	assert_failure
	run as_nobody touch /var/relay/queue/msg/00/x
	assert_failure
	run as_nobody touch /var/relay/queue/tmp/x
	assert_failure
	[ ! -e /var/relay/queue/msg/00/x ]
	# a member of group relayq may read (monitoring, relay-qctl list)
	run as_user relayq "$P/bin/relay-qctl" list
	assert_success
	assert_output --partial "<to@example.net>"
}

@test "RELAY_HOME cannot point the setuid relay-queue at another home" {
	alt=$(mktemp -d "$P/alt.XXXXXX")   # under the prefix: removed with it
	mkdir -p "$alt/etc" "$alt/queue/tmp" "$alt/queue/hold" "$alt/queue/corrupt"
	for i in $(seq 0 255); do mkdir -p "$alt/queue/msg/$(printf %02x "$i")"; done
	chown -R nobody "$alt"
	before=$(find /var/relay/queue/msg -type f | wc -l)
	run as_nobody env RELAY_HOME="$alt" sh -c 'printf "Subject: x\n\nx\n" | "$0"/relay-inject to@example.net' "$P/bin"
	assert_success
	printf 'x\n' > "$alt/m"
	printf 'Fa@b.c\0Tb@c.d\0\0' > "$alt/e"
	chmod 644 "$alt/m" "$alt/e"
	run as_nobody env RELAY_HOME="$alt" sh -c '"$0"/relay-queue < "$1" 1< "$2"' "$P/bin" "$alt/m" "$alt/e"
	assert_success
	[ -z "$(find "$alt/queue" -type f)" ]
	[ "$(find "$alt" -type f | wc -l)" -eq 2 ]
	[ "$(find /var/relay/queue/msg -type f | wc -l)" -eq $((before + 2)) ]
	rm -rf "$alt"
}

@test "etc/auth.cdb is readable by relayq and relayh only; DKIM keys by relayd only" {
	printf 'secret\n' > /var/relay/etc/auth.cdb
	printf 'key\n' > /var/relay/etc/dkim-keys/example.org.key
	printf 'pub\n' > /var/relay/etc/settings.cdb
	run "$TESTS/../scripts/install-tree" "" "$P/bin" "$P/man" "$RELAY_BUILD/bin"
	assert_success
	run stat -c '%U %G %a' /var/relay/etc/auth.cdb /var/relay/etc/dkim-keys/example.org.key
	assert_line --index 0 "root relayauth 640"
	assert_line --index 1 "relayd relayd 600"
	as_user relayq cat /var/relay/etc/auth.cdb
	as_user relayh cat /var/relay/etc/auth.cdb
	as_user relayd cat /var/relay/etc/dkim-keys/example.org.key
	as_nobody cat /var/relay/etc/settings.cdb
	for u in nobody relayn relayd relays; do
		if [ $u = nobody ]; then run as_nobody cat /var/relay/etc/auth.cdb; else run as_user $u cat /var/relay/etc/auth.cdb; fi
		assert_failure
	done
	for u in relayq relayn relayh; do
		run as_user $u cat /var/relay/etc/dkim-keys/example.org.key
		assert_failure
	done
	run as_nobody cat /var/relay/etc/dkim-keys/example.org.key
	assert_failure
	rm -f /var/relay/etc/auth.cdb /var/relay/etc/dkim-keys/example.org.key /var/relay/etc/settings.cdb
}

# issue 13: the key that makes one-click unsubscribe tokens, and the
# requests' directory, have a group of their own; both were group relayq,
# and relayh is in group relayq
@test "etc/unsubscribe.key is readable and state/unsub/ writable by relayq (relay-send, relay-bounce) and relayw (relay-httpd) only: not relayh, though in group relayq" {
	RELAY_HOME=/var/relay "$RELAY_BUILD/bin/relay-httpd" -K
	run "$TESTS/../scripts/install-tree" "" "$P/bin" "$P/man" "$RELAY_BUILD/bin"
	assert_success
	run stat -c '%U %G %a %s' /var/relay/etc/unsubscribe.key
	assert_output "root relayunsub 640 32"
	id -nG relayh | grep -qw relayq
	as_user relayq cat /var/relay/etc/unsubscribe.key > /dev/null
	as_user relayw cat /var/relay/etc/unsubscribe.key > /dev/null
	for u in nobody relayh relays relayn relayd relaye; do
		if [ $u = nobody ]; then run as_nobody cat /var/relay/etc/unsubscribe.key; else run as_user $u cat /var/relay/etc/unsubscribe.key; fi
		assert_failure
	done
	# nor can relayh put a request in state/unsub/, which relay-bounce
	# (relayq) applies without a token; relayw can, relayq takes it
	run stat -c '%U %G %a' /var/relay/state/unsub
	assert_output "relayw relayunsub 2770"
	run as_user relayh sh -c 'echo "example.com	a@example.net	1" > /var/relay/state/unsub/forged'
	assert_failure
	as_user relayw sh -c 'echo "example.com	a@example.net	1" > /var/relay/state/unsub/ok'
	as_user relayq rm -f /var/relay/state/unsub/ok
	[ ! -e /var/relay/state/unsub/ok ]
	run "$TESTS/../scripts/install-tree" --check "" "$P/bin" "$P/man"
	assert_success
	rm -f /var/relay/etc/unsubscribe.key
}

@test "install-tree refuses to follow a symbolic link planted in a service user's directory" {
	victim=$(mktemp -d "$P/victim.XXXXXX")
	chmod 755 "$victim"
	mv /var/relay/queue/hold /var/relay/queue/hold.real
	ln -s "$victim" /var/relay/queue/hold
	run "$TESTS/../scripts/install-tree" "" "$P/bin" "$P/man" "$RELAY_BUILD/bin"
	rm /var/relay/queue/hold
	mv /var/relay/queue/hold.real /var/relay/queue/hold
	assert_failure
	assert_output --partial "symbolic link"
	run stat -c '%U %a' "$victim"
	assert_output "root 755"
	rmdir "$victim"
}
