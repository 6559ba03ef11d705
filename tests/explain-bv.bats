#!/usr/bin/env bats
# not tested: -bv with -t (refused: it reads no message), round-robin and weighted order (explain prints the configured order; tests/c/t_pool.c has the rotation).
load helper
load smtp_helper

setup_file() { TESTS="$BATS_TEST_DIRNAME"; }
setup() { relay_home; relay_setting smtp_timeout 10s; }
teardown() { stop_servers; }

first_ok() {    # the member explain's text lists first as ok
	awk '/^  [0-9]+\. .*  ok$/ { print $2; exit }'
}

@test "relay-inject -bv prints relay-qctl explain's answer (-f, -C, --json), exit 0, nothing queued, stdin not read" {
	cat >> "$RELAY_HOME/etc/pools" <<-EOF
	paid failover smtp1.example.net:587 smtp2.example.net:587
	tenant failover smtp3.example.net:587
	EOF
	cat >> "$RELAY_HOME/etc/routes" <<-EOF
	to:.example.com paid
	from:@tenant.example tenant
	class:bulk tenant
	EOF
	echo "smtp1.example.net:587 alice s3cret-pass" >> "$RELAY_HOME/etc/auth"
	echo "postmaster: pm@elsewhere.test" >> "$RELAY_HOME/etc/aliases"
	relay-config -d "$RELAY_HOME"
	run relay-inject -bv -f s@example.org u@mail.example.com x@other.test < /dev/zero
	assert_success
	assert_line "  route to:.example.com -> pool paid (failover)"
	assert_line "  1. smtp1.example.net:587  tls=may  auth=alice  ok"
	refute_output --partial "s3cret"
	[ "$output" = "$(relay-qctl explain -f s@example.org u@mail.example.com x@other.test)" ]
	# the sender decides the route; -f grouped as sendmail takes it
	run relay-inject -bv -fboss@tenant.example u@mail.example.com
	assert_success
	assert_line "  route from:@tenant.example -> pool tenant (failover)"
	run relay-inject -bv -C bulk u@mail.example.com
	assert_success
	assert_line "  route class:bulk -> pool tenant (failover)"
	[ "$output" = "$(relay-qctl explain -C bulk -f "$(id -un)@relay.test" u@mail.example.com)" ]
	# as relay-inject does: a local name through etc/aliases (unless -n)
	run relay-inject -bv postmaster
	assert_success
	assert_line "pm@elsewhere.test"
	run relay-inject -bv --json -f s@example.org u@mail.example.com
	assert_success
	[ "$output" = "$(relay-qctl explain --json -f s@example.org u@mail.example.com)" ]
	echo "$output" | python3 -c 'import json, sys; assert json.load(sys.stdin)[0]["pool"] == "paid"'
	[ "$(queue_count)" -eq 0 ]
	run relay-inject -bv -t u@mail.example.com
	assert_failure 100
	run relay-inject -bv
	assert_failure 100
}

@test "explain matches relay-send: each message goes to the member relay-inject -bv listed first as ok" {
	start_server; A=$PORT
	start_server; B=$PORT
	echo "main failover 127.0.0.1:$A 127.0.0.1:$B" >> "$RELAY_HOME/etc/pools"
	echo "default main" >> "$RELAY_HOME/etc/routes"
	echo "127.0.0.1:$A quota=1/d" >> "$RELAY_HOME/etc/limits"
	relay-config -d "$RELAY_HOME"
	for want in "127.0.0.1:$A" "127.0.0.1:$B"; do
		first=$(relay-inject -bv -f s@example.org r@example.net | first_ok)
		[ "$first" = "$want" ]
		printf 'Subject: x\n\nbody\n' | relay-inject -f s@example.org r@example.net
		run relay-send -1
		assert_success
		assert_line --regexp "event=delivered .*relay=$first "
	done
	run relay-inject -bv -f s@example.org r@example.net
	assert_line "  1. 127.0.0.1:$A  tls=may  auth=-  skipped (quota)"
}
