#!/usr/bin/env bats
# not tested: DNSSEC validation and DANE/TLSA (no trust anchor is configured), MTA-STS, real resolvers and the system resolv.conf path (loopback only), CNAME chains to MX targets.
load helper
load smtp_helper

# A resolver context that answers from local data only: "test." is a
# static local zone, and everything else is forwarded to a closed port
# on loopback, so nothing leaves the machine and unknown names SERVFAIL.
setup() {
	TESTS="$BATS_TEST_DIRNAME"
	CONF="$BATS_TEST_TMPDIR/unbound.conf"
	cat > "$CONF" <<'CONF'
server:
	do-not-query-localhost: no
	infra-cache-max-rtt: 200
	outbound-msg-retry: 1
	local-zone: "test." static
	local-data: "example.test. MX 20 mx2.example.test."
	local-data: "example.test. MX 10 mx1.example.test."
	local-data: "example.test. MX 30 mx3.example.test."
	local-data: "mx1.example.test. A 127.0.0.1"
	local-data: "mx2.example.test. A 127.0.0.2"
	local-data: "mx2.example.test. AAAA ::1"
	local-data: "mx3.example.test. A 127.0.0.3"
	local-data: "nomx.test. A 127.0.0.4"
	local-data: "nullmx.test. MX 0 ."
	local-data: "noaddr.test. TXT hello"
forward-zone:
	name: "."
	forward-addr: 127.0.0.1@9
CONF
}
teardown() { stop_servers; }

dns() { run "$RELAY_BUILD/tests/t_smtpdrv" "$1" --dns-config "$CONF" "$2"; echo "$output"; }

@test "MX hosts come in preference order" {
	dns mx example.test
	assert_success
	assert_line "rc=0 enh=2.0.0 implicit=0 n=3 err=-"
	[ "${lines[1]}" = "mx 10 mx1.example.test" ]
	[ "${lines[2]}" = "mx 20 mx2.example.test" ]
	[ "${lines[3]}" = "mx 30 mx3.example.test" ]
}

@test "no MX: the domain's own address (RFC 5321 5.1)" {
	dns mx nomx.test
	assert_success
	assert_line "rc=0 enh=2.0.0 implicit=1 n=1 err=-"
	assert_line "mx 0 nomx.test"
}

@test "null MX is permanent 5.1.10 (RFC 7505)" {
	dns mx nullmx.test
	assert_failure
	assert_line --partial "rc=-3 enh=5.1.10"
}

@test "NXDOMAIN is permanent 5.1.2; no MX and no address too" {
	dns mx absent.test
	assert_line --partial "rc=-2 enh=5.1.2"
	dns mx noaddr.test
	assert_line --partial "rc=-4 enh=5.1.2"
}

@test "SERVFAIL is temporary 4.4.3 (item 42)" {
	dns mx x.unreachable.example
	assert_failure
	assert_line --partial "rc=-1 enh=4.4.3"
	assert_line --partial "SERVFAIL"
}

@test "host addresses: AAAA then A" {
	dns addrs mx2.example.test
	assert_success
	[ "${lines[1]}" = "addr ::1" ]
	[ "${lines[2]}" = "addr 127.0.0.2" ]
	dns addrs absent.test
	assert_line --partial "rc=-2"
}

@test "smtp_open resolves the host through the same context" {
	start_server
	run "$RELAY_BUILD/tests/t_smtpdrv" send --dns-config "$CONF" --host mx1.example.test --port "$PORT"
	echo "$output"
	assert_success
	assert_line --regexp "^open ok .*peer=127.0.0.1:$PORT "
	run "$RELAY_BUILD/tests/t_smtpdrv" send --dns-config "$CONF" --host absent.test --port "$PORT"
	assert_line --partial "open code=0 enh=5.1.2 stage=connect temp=1 member_fault=1"
}
