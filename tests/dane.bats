#!/usr/bin/env bats
# not tested: MTA-STS and TLS-RPT here (tests/mta-sts.bats); the system trust anchor (dns_config names the test anchors); DANE for a relay member named in etc/pools (the same code, with its host's TLSA records); TLSA on CNAMEd MX hosts.
load helper
load smtp_helper
load tls_helper

# One signed test DNS per file (tests/dnssec-zone: nsd on loopback, the
# zones' trust anchors for libunbound). Every MX host of the zones is
# ADDR, where each test runs the test server on port 25 (root).
setup_file() {
	TESTS="$BATS_TEST_DIRNAME"
	[ "$(id -u)" -eq 0 ] || return 0
	make_certs
	export ADDR=127.0.0.$((RANDOM % 200 + 20))
	export DNSDIR="$BATS_FILE_TMPDIR/dns"
	"$TESTS/dnssec-zone" "$DNSDIR" "$CERTS" "$ADDR"
}
teardown_file() {
	[ -s "${DNSDIR:-/nonexistent}/nsd.pid" ] && kill "$(cat "$DNSDIR/nsd.pid")" 2>/dev/null || true
}
setup() {
	[ "$(id -u)" -eq 0 ] || skip "MX delivery uses port 25: needs root"
	command -v nsd >/dev/null || skip "nsd is not installed"
	relay_home
	relay_setting smtp_timeout 10s
	relay_setting dns_config "$DNSDIR/unbound.conf"
}
teardown() { stop_servers; }

# mx_server [server args]: the test server on ADDR port 25
mx_server() {
	start_server --listen "$ADDR" --port 25 "$@"
	[ "$PORT" = 25 ] || skip "port 25 on $ADDR is taken"
}

# srv_saw CMD: the test server was sent CMD (its log: "cN rN CMD ...")
srv_saw() { grep -Eqi "^c[0-9]+ r[0-9]+ $1" "$SRV/log"; }

tls_line() { printf '%s\n' "$@" >> "$RELAY_HOME/etc/tls"; relay-config -d "$RELAY_HOME" >/dev/null; }

send_to() {
	printf 'Subject: dane\n\nhello\n' | relay-inject -f s@example.org "$1"
	run relay-send -1
	echo "$output"
}

@test "dane: a DANE-EE(3) match delivers over TLS, logged tls_policy=dane" {
	mx_server --starttls "$CERTS/server.pem" "$CERTS/server.key"
	tls_line "* dane"
	send_to u@ee.dane.test
	assert_line --regexp "event=delivered .*rcpt=u@ee.dane.test .*tls=TLSv1.[23] tls_policy=dane"
	[ "$(msgs)" -eq 1 ]
	srv_saw STARTTLS
}

@test "dane: a DANE-TA(2) match (the test CA, chain sent by the server) delivers" {
	mx_server --starttls "$DNSDIR/ta-chain.pem" "$DNSDIR/ta.key"
	tls_line "ta.dane.test dane-only"
	send_to u@ta.dane.test
	assert_line --regexp "event=delivered .*rcpt=u@ta.dane.test .*tls_policy=dane"
	[ "$(msgs)" -eq 1 ]
}

@test "dane: DANE-TA(2) checks the name: the CA's certificate for another name defers" {
	mx_server --starttls "$CERTS/wrong.pem" "$CERTS/wrong.key"
	tls_line "ta.dane.test dane"
	send_to u@ta.dane.test
	assert_line --regexp "event=deferred .*rcpt=u@ta.dane.test .*certificate verify failed"
	[ "$(msgs)" -eq 0 ]
	! srv_saw MAIL
}

@test "dane: a TLSA mismatch defers and never sends in plaintext" {
	mx_server --starttls "$CERTS/server.pem" "$CERTS/server.key"
	tls_line "* dane"
	send_to u@bad.dane.test
	assert_line --regexp "event=deferred .*rcpt=u@bad.dane.test .*certificate verify failed"
	[ "$(msgs)" -eq 0 ]
	! srv_saw MAIL
	[ "$(queue_count)" -eq 1 ]
}

@test "dane: TLSA records but no STARTTLS offered: deferred, never plaintext" {
	mx_server
	tls_line "* dane"
	send_to u@ee.dane.test
	assert_line --regexp "event=deferred .*rcpt=u@ee.dane.test .*STARTTLS not offered"
	! srv_saw MAIL
}

@test "dane: a bogus zone defers (the MX answer fails validation) and nothing connects" {
	mx_server --starttls "$CERTS/server.pem" "$CERTS/server.key"
	tls_line "* dane"
	send_to u@x.bogus.test
	assert_line --regexp "event=deferred .*rcpt=u@x.bogus.test .*DNSSEC validation"
	! srv_saw EHLO
	[ "$(queue_count)" -eq 1 ]
}

@test "dane: an unsigned zone falls back to may (delivered, tls_policy=may); dane-only defers" {
	mx_server --starttls "$CERTS/server.pem" "$CERTS/server.key"
	tls_line "x.plain.test dane"
	send_to u@x.plain.test
	assert_line --regexp "event=delivered .*rcpt=u@x.plain.test .*tls_policy=may"
	: > "$RELAY_HOME/etc/tls"
	tls_line "x.plain.test dane-only"
	: > "$SRV/log"
	send_to v@x.plain.test
	assert_line --regexp "event=deferred .*rcpt=v@x.plain.test .*dane-only: the MX records are not DNSSEC-signed"
	! srv_saw EHLO
}

@test "dane: a signed zone without TLSA records: dane falls back to may, dane-only defers" {
	mx_server --starttls "$CERTS/server.pem" "$CERTS/server.key"
	tls_line "none.dane.test dane"
	send_to u@none.dane.test
	assert_line --regexp "event=delivered .*rcpt=u@none.dane.test .*tls_policy=may"
	: > "$RELAY_HOME/etc/tls"
	tls_line "none.dane.test dane-only"
	: > "$SRV/log"
	send_to v@none.dane.test
	assert_line --regexp "event=deferred .*rcpt=v@none.dane.test .*dane-only: no TLSA records"
	! srv_saw EHLO
}

@test "etc/tls takes dane, dane-only and the * default; a bad mode names the choices" {
	tls_line "* dane-only" "example.com dane"
	run relay-config -d "$RELAY_HOME"
	assert_success
	echo "ta.dane.test danger" >> "$RELAY_HOME/etc/tls"
	run relay-config -d "$RELAY_HOME"
	assert_failure
	assert_output --partial "want none, may, encrypt, verify, dane or dane-only"
}

@test "requiretls: a REQUIRETLS message over DANE to a next hop that offers it: delivered, MAIL ... REQUIRETLS" {
	mx_server --starttls "$CERTS/server.pem" "$CERTS/server.key" --requiretls
	tls_line "* dane"
	queue_rt u@ee.dane.test
	run relay-send -1
	echo "$output"
	assert_line --regexp "event=delivered .*rcpt=u@ee.dane.test .*tls_policy=dane"
	srv_saw "MAIL FROM:<s@example.org>.* REQUIRETLS"
}

@test "requiretls: REQUIRETLS to an unsigned zone (dane falls back to may): failed 5.7.30, nothing connects" {
	mx_server --starttls "$CERTS/server.pem" "$CERTS/server.key" --requiretls
	tls_line "x.plain.test dane"
	queue_rt u@x.plain.test
	run relay-send -1
	echo "$output"
	assert_line --regexp "event=failed .*rcpt=u@x.plain.test .*5\.7\.30.*would not be verified \(tls_policy=may\)"
	! srv_saw EHLO
}

@test "requiretls: TLS-Required: No over a TLSA mismatch delivers opportunistically (tls_policy=tls-required-no); dane-only still defers" {
	mx_server --starttls "$CERTS/server.pem" "$CERTS/server.key"
	tls_line "* dane"
	printf 'TLS-Required: No\nSubject: dane\n\nhello\n' | relay-inject -f s@example.org u@bad.dane.test
	run relay-send -1
	echo "$output"
	assert_line --regexp "event=delivered .*rcpt=u@bad.dane.test .*tls=TLSv1.[23] tls_policy=tls-required-no"
	srv_saw STARTTLS
	: > "$RELAY_HOME/etc/tls"
	tls_line "* dane-only"
	printf 'TLS-Required: No\nSubject: dane\n\nhello\n' | relay-inject -f s@example.org v@bad.dane.test
	run relay-send -1
	echo "$output"
	assert_line --regexp "event=deferred .*rcpt=v@bad.dane.test .*certificate verify failed"
}

@test "requiretls: the REQUIRETLS parameter wins over TLS-Required: No (RFC 8689 5): a TLSA mismatch defers" {
	mx_server --starttls "$CERTS/server.pem" "$CERTS/server.key" --requiretls
	tls_line "* dane"
	queue_rt u@bad.dane.test "TLS-Required: No"
	run relay-send -1
	echo "$output"
	assert_line --regexp "event=deferred .*rcpt=u@bad.dane.test .*certificate verify failed"
	! srv_saw MAIL
}

@test "dane: the implicit MX (no MX, a signed A): TLSA at _25._tcp.DOMAIN, a match delivers (tls_policy=dane)" {
	mx_server --starttls "$CERTS/server.pem" "$CERTS/server.key"
	tls_line "* dane-only"
	send_to u@implicit.dane.test
	assert_line --regexp "event=delivered .*rcpt=u@implicit.dane.test .*tls_policy=dane"
}

@test "dane: TLSA of an MX host whose address records are not signed do not count (RFC 7672 2.2.2): may; dane-only defers" {
	mx_server --starttls "$CERTS/server.pem" "$CERTS/server.key"
	tls_line "* dane"
	send_to u@ai.dane.test
	assert_line --regexp "event=delivered .*rcpt=u@ai.dane.test .*tls_policy=may"
	: > "$RELAY_HOME/etc/tls"
	tls_line "* dane-only"
	: > "$SRV/log"
	send_to v@ai.dane.test
	assert_line --regexp "event=deferred .*rcpt=v@ai.dane.test .*dane-only: the address records are not DNSSEC-signed"
	! srv_saw EHLO
}

@test "dane: a full-certificate TLSA record (3 0 0, over 128 octets) is usable: delivered (tls_policy=dane)" {
	mx_server --starttls "$CERTS/server.pem" "$CERTS/server.key"
	tls_line "* dane-only"
	send_to u@full.dane.test
	assert_line --regexp "event=delivered .*rcpt=u@full.dane.test .*tls_policy=dane"
}
