#!/usr/bin/env bats
# not tested: IPv6 bind= addresses (only ::1 exists on loopback, and a relay on ::1 needs no bind); FCrDNS against real DNS (local data only); weights over many connections (a unit check of conf_source_bind's order instead would need a C test: the spread is checked over four connections here).
load helper
load smtp_helper

setup_file() { TESTS="$BATS_TEST_DIRNAME"; }
setup() { relay_home; relay_setting smtp_timeout 10s; }
teardown() { stop_servers; }

pool() {
	echo "main failover $*" >> "$RELAY_HOME/etc/pools"
	echo "default main" >> "$RELAY_HOME/etc/routes"
}
source_line() { printf '%s\n' "$@" >> "$RELAY_HOME/etc/source"; }
peers() { cat "$SRV"/rec/*.env | sed -n 's/^PEER //p' | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' '; }

@test "bind= makes the relay see the source address; two addresses are used in turn per connection" {
	# each worker holds its connection through a slow final dot: four
	# messages, four workers, four connections at once
	start_server --stall 0.5 --stall-at dot
	pool "127.0.0.1:$PORT"
	source_line "127.0.0.1:$PORT bind=127.0.0.2,127.0.0.3 helo=out.relay.test"
	relay-config -d "$RELAY_HOME"
	for i in 1 2 3 4; do printf 'Subject: s%s\n\nx\n' $i | relay-inject -f s@example.org r@example.net; done
	run relay-send -1 -w 4
	echo "$output"
	assert_success
	[ "$(msgs)" -eq 4 ]
	# the address is taken per job, in turn (a reused connection keeps its
	# own): both are used, and no other
	run peers
	assert_output --regexp '^127\.0\.0\.2=[1-3] 127\.0\.0\.3=[1-3] $'
	grep -Eq '^c[0-9]+ r[0-9]+ EHLO out.relay.test' "$SRV/log"
}

dual_dns() { # dual.test has both an A (127.0.0.1) and an AAAA (::1) record
	printf 'server:\n  local-zone: "test." static\n  local-data: "dual.test A 127.0.0.1"\n  local-data: "dual.test AAAA ::1"\n' \
		> "$RELAY_HOME/etc/unbound.conf"
	relay_setting dns_config unbound.conf
}

@test "family=inet6 pins IPv6: a relay on 127.0.0.1 only is not reached (unpinned, it is after ::1 fails)" {
	start_server
	dual_dns
	pool "dual.test:$PORT"
	relay-config -d "$RELAY_HOME"
	printf 'Subject: v6\n\nx\n' | relay-inject -f s@example.org r@example.net
	run relay-send -1
	assert_line --partial "event=delivered"
	source_line "dual.test:$PORT family=inet6"
	relay-config -d "$RELAY_HOME"
	printf 'Subject: v6\n\nx\n' | relay-inject -f s@example.org r@example.net
	run relay-send -1
	assert_line --partial "event=deferred"
	[ "$(msgs)" -eq 1 ]
}

@test "family=inet with only an IPv6 listener: deferred, not sent some other way" {
	start_server --listen ::1
	dual_dns
	pool "dual.test:$PORT"
	source_line "dual.test:$PORT family=inet"
	relay-config -d "$RELAY_HOME"
	printf 'Subject: v4\n\nx\n' | relay-inject -f s@example.org r@example.net
	run relay-send -1
	assert_line --partial "event=deferred"
	[ "$(msgs)" -eq 0 ]
}

@test "the FCrDNS check warns at start when helo does not resolve to the bound address" {
	start_server
	pool "127.0.0.1:$PORT"
	cat > "$RELAY_HOME/etc/unbound.conf" <<-EOF
	server:
	  local-zone: "test." static
	  local-zone: "127.in-addr.arpa." static
	  local-data: "out.relay.test A 127.0.0.2"
	  local-data: "2.0.0.127.in-addr.arpa PTR out.relay.test"
	  local-data: "3.0.0.127.in-addr.arpa PTR elsewhere.test"
	EOF
	relay_setting dns_config unbound.conf
	source_line "127.0.0.1:$PORT bind=127.0.0.2,127.0.0.3 helo=out.relay.test"
	relay-config -d "$RELAY_HOME"
	run relay-send -1
	echo "$output"
	assert_line --partial "etc/source 127.0.0.1:$PORT: helo out.relay.test does not resolve to 127.0.0.3"
	assert_line --partial "the PTR of 127.0.0.3 is elsewhere.test, not helo out.relay.test"
	refute_output --partial "to 127.0.0.2"
	refute_output --partial "PTR of 127.0.0.2"
}

@test "etc/source: bad lines are errors with file:line" {
	printf '%s\n' "mx bind=256.1.1.1" "mx family=ipx" "127.0.0.1:25 bind=::1 family=inet" "127.0.0.1 helo=x.test" "mx" \
		> "$RELAY_HOME/etc/source"
	run relay-config -d "$RELAY_HOME"
	assert_failure 100
	assert_line "relay-config: error: etc/source:1: bind=256.1.1.1: not an IPv4 or IPv6 address"
	assert_line "relay-config: error: etc/source:2: family=ipx: want inet, inet6 or any"
	assert_line "relay-config: error: etc/source:3: bind=::1 is not of family inet"
	assert_line --partial "etc/source:4: \"127.0.0.1\" needs a port"
	assert_line "relay-config: error: etc/source:5: want bind=, helo= or family="
}
