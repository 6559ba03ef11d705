#!/usr/bin/env bats
# not tested: AUTH over TLS with sender keys (send.bats tests AUTH over TLS; the key lookup is the same, tests/c/t_member.c), a read error of etc/auth.cdb in relay-send (t_member.c: an error, never a weaker account; deliver defers on it as before).
load helper
load smtp_helper

setup_file() { TESTS="$BATS_TEST_DIRNAME"; }
setup() { relay_home; relay_setting smtp_timeout 10s; }
teardown() { stop_servers; }

from() {        # from SENDER N: N messages from SENDER to r@example.net
	local i
	for i in $(seq "$2"); do
		printf 'Subject: %s %s\n\nbody\n' "$1" "$i" | relay-inject -f "$1" r@example.net
	done
}

@test "etc/auth by sender: two tenants, one smarthost, each message with its sender's account" {
	start_server --auth-plaintext --auth alice-acct:pw-a --auth example-acct:pw-d --auth relay-acct:pw-r; A=$PORT; SA=$SRV
	echo "main failover 127.0.0.1:$A" >> "$RELAY_HOME/etc/pools"
	echo "default main" >> "$RELAY_HOME/etc/routes"
	echo "127.0.0.1:$A none" >> "$RELAY_HOME/etc/tls"
	cat >> "$RELAY_HOME/etc/auth" <<-EOT
	127.0.0.1:$A relay-acct pw-r
	from:alice@example.com alice-acct pw-a
	from:@example.com/127.0.0.1:$A example-acct pw-d
	EOT
	chmod 600 "$RELAY_HOME/etc/auth"
	run relay-config -d "$RELAY_HOME"
	assert_success
	refute_output --partial "not a member"
	# interleaved, one worker: a session open for one account is never
	# reused for another
	for i in 1 2; do
		from alice@example.com 1
		from bob@example.com 1
		from carol@example.org 1
	done
	run relay-qctl -d "$RELAY_HOME" explain -f bob@example.com r@example.net
	assert_success
	assert_output --partial "auth=example-acct (from:@example.com/127.0.0.1:$A)"
	run relay-send -1 -w 1
	assert_success
	[ "$(queue_count)" -eq 0 ]
	[ "$(ls "$SA/rec" | grep -c '\.env$')" -eq 6 ]
	for env in "$SA"/rec/*.env; do
		case "$(head -1 "$env")" in
		*'<alice@example.com>'*) want=alice-acct ;;
		*'<bob@example.com>'*) want=example-acct ;;
		*'<carol@example.org>'*) want=relay-acct ;;
		*) false ;;
		esac
		grep -qx "AUTH $want" "$env"
	done
	! echo "$output" | grep -q 'pw-'
}

@test "etc/auth: a bad sender key is an error with its line; a scoped key names a pool member" {
	echo "main failover 127.0.0.1:2525" >> "$RELAY_HOME/etc/pools"
	printf 'from:nobody u p\n' >> "$RELAY_HOME/etc/auth"
	chmod 600 "$RELAY_HOME/etc/auth"
	run relay-config -d "$RELAY_HOME"
	assert_failure
	assert_output --regexp "etc/auth:[0-9]+: bad sender"
	printf 'from:@example.com/127.0.0.1:2626 u p\nfrom:@example.com/127.0.0.1:2525 u p\n' > "$RELAY_HOME/etc/auth"
	run relay-config -d "$RELAY_HOME"
	assert_success
	assert_output --partial "etc/auth:1: 127.0.0.1:2626 is not a member of any pool"
	refute_output --partial "etc/auth:2"
}
