#!/usr/bin/env bats
# not tested: TLS-RPT for DANE (tlsa: the same file and report, tests/c/t_tlsrpt.c); a day's report sent by relay-send itself (relay-qctl tls-report --send is run daily from cron, relay-qctl(8)); MTA-STS over DANE where both exist (DANE first: tlspolicy.c, tested for DANE alone in tests/dane.bats); IPv6 policy hosts; a policy host that stalls (the 20 s fetch timeout).
load helper
load smtp_helper
load tls_helper

# Recipient domains (local DNS data, unbound): sts.test (enforce, MX
# mx.sts.test), testing.test (testing), other.test (enforce, but its MX
# is not in the policy). Every MX host is ADDR port 25; every
# mta-sts.DOMAIN is WEB port 443, an HTTPS server with the test CA's
# certificate for those names. Needs root (ports 25 and 443).
setup_file() {
	TESTS="$BATS_TEST_DIRNAME"
	[ "$(id -u)" -eq 0 ] || return 0
	make_certs
	export ADDR=127.0.0.$((RANDOM % 100 + 20)) WEB=127.0.0.$((RANDOM % 100 + 130))
	export STS="$BATS_FILE_TMPDIR/sts"
	mkdir -p "$STS"
	leaf mx "DNS:mx.sts.test,DNS:mx.testing.test,DNS:mx.other.test"
	leaf web "DNS:mta-sts.sts.test,DNS:mta-sts.testing.test,DNS:mta-sts.other.test"
}
leaf() { # leaf NAME SAN: NAME.pem/NAME.key in STS, signed by the test CA
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$STS/$1.key" \
		-out "$STS/$1.csr" -subj "/CN=$1" 2>/dev/null
	printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$2" > "$STS/$1.ext"
	openssl x509 -req -in "$STS/$1.csr" -CA "$CERTS/ca.pem" -CAkey "$CERTS/ca.key" \
		-CAcreateserial -out "$STS/$1.pem" -days 30 -extfile "$STS/$1.ext" 2>/dev/null
}

setup() {
	[ "$(id -u)" -eq 0 ] || skip "MX delivery and MTA-STS use ports 25 and 443: needs root"
	relay_home
	relay_setting smtp_timeout 10s
	relay_setting mta_sts_ca "$CERTS/ca.pem"
	WEBDIR="$BATS_TEST_TMPDIR/web"
	policy sts.test enforce mx.sts.test
	policy testing.test testing mx.testing.test
	policy other.test enforce mx.elsewhere.test
	dns 1
	relay_setting dns_config "$BATS_TEST_TMPDIR/unbound.conf"
	start_web
}
teardown() {
	stop_servers
	[ -n "${WEBPID:-}" ] && kill "$WEBPID" 2>/dev/null || true
}

policy() { # policy DOMAIN MODE MX [max_age]
	mkdir -p "$WEBDIR/mta-sts.$1/.well-known"
	printf 'version: STSv1\r\nmode: %s\r\nmx: %s\r\nmax_age: %s\r\n' "$2" "$3" "${4:-86400}" \
		> "$WEBDIR/mta-sts.$1/.well-known/mta-sts.txt"
}
dns() { # dns ID: the zone data, every _mta-sts TXT with id=ID
	{
		printf 'server:\n  local-zone: "test." static\n'
		for d in sts.test testing.test other.test; do
			printf '  local-data: "%s MX 10 mx.%s"\n  local-data: "mx.%s A %s"\n' "$d" "$d" "$d" "$ADDR"
			printf '  local-data: "mta-sts.%s A %s"\n' "$d" "$WEB"
			printf "  local-data: '_mta-sts.%s TXT \"v=STSv1; id=%s;\"'\n" "$d" "$1"
		done
		# tls-rpt (issue 15): sts.test asks for reports by mail and by https
		printf "  local-data: '_smtp._tls.sts.test TXT \"v=TLSRPTv1; rua=mailto:rpt@testing.test,https://mta-sts.sts.test/tlsrpt\"'\n"
	} > "$BATS_TEST_TMPDIR/unbound.conf"
}
start_web() {
	"$TESTS/https-test-server" --listen "$WEB" --port 443 --cert "$STS/web.pem" --key "$STS/web.key" \
		--dir "$WEBDIR" --log "$BATS_TEST_TMPDIR/web.log" --port-file "$BATS_TEST_TMPDIR/web.port" 3>&- &
	WEBPID=$!
	wait_for test -s "$BATS_TEST_TMPDIR/web.port"
}
mx_server() {
	start_server --listen "$ADDR" --port 25 "$@"
	[ "$PORT" = 25 ] || skip "port 25 on $ADDR is taken"
}
srv_saw() { grep -Eqi "^c[0-9]+ r[0-9]+ $1" "$SRV/log"; }
send_to() {
	printf 'Subject: sts\n\nhello\n' | relay-inject -f s@example.org "$1"
	run relay-send -1
	echo "$output"
}

@test "mta-sts enforce: a listed MX with a valid certificate delivers (tls_policy=mta-sts); the policy is cached" {
	mx_server --starttls "$STS/mx.pem" "$STS/mx.key"
	send_to u@sts.test
	assert_line --regexp "event=delivered .*rcpt=u@sts.test .*tls_policy=mta-sts"
	grep -q '^mta-sts.sts.test /.well-known/mta-sts.txt$' "$BATS_TEST_TMPDIR/web.log"
	run cat "$RELAY_HOME/state/mta-sts/sts.test"
	assert_output --regexp '^1 [0-9]+ 86400 enforce mx.sts.test$'
}

@test "mta-sts enforce: a certificate not valid for the MX name defers, never plaintext" {
	mx_server --starttls "$CERTS/server.pem" "$CERTS/server.key"
	send_to u@sts.test
	assert_line --regexp "event=deferred .*rcpt=u@sts.test .*certificate verify failed"
	! srv_saw MAIL
}

@test "mta-sts enforce: an MX that offers no STARTTLS defers, never plaintext" {
	mx_server
	send_to u@sts.test
	assert_line --regexp "event=deferred .*rcpt=u@sts.test .*STARTTLS not offered"
	! srv_saw MAIL
}

@test "mta-sts enforce: an MX the policy does not list is not used" {
	mx_server --starttls "$STS/mx.pem" "$STS/mx.key"
	send_to u@other.test
	assert_line --regexp "event=deferred .*rcpt=u@other.test .*MTA-STS policy"
	! srv_saw EHLO
}

@test "requiretls: TLS-Required: No: the MX an enforced policy does not list is used, opportunistically" {
	mx_server --starttls "$CERTS/server.pem" "$CERTS/server.key"
	printf 'TLS-Required: No\nSubject: sts\n\nhello\n' | relay-inject -f s@example.org u@other.test
	run relay-send -1
	echo "$output"
	assert_line --regexp "event=delivered .*rcpt=u@other.test .*tls=TLSv1.[23] tls_policy=tls-required-no"
}

@test "requiretls: REQUIRETLS over MTA-STS enforce (MX not DNSSEC-signed): delivered with REQUIRETLS; testing: 5.7.30" {
	mx_server --starttls "$STS/mx.pem" "$STS/mx.key" --requiretls
	queue_rt u@sts.test
	run relay-send -1
	echo "$output"
	assert_line --regexp "event=delivered .*rcpt=u@sts.test .*tls_policy=mta-sts"
	srv_saw "MAIL FROM:<s@example.org>.* REQUIRETLS"
	queue_rt v@testing.test
	run relay-send -1
	echo "$output"
	assert_line --regexp "event=failed .*rcpt=v@testing.test .*5\.7\.30.*tls_policy=mta-sts-testing"
}

@test "mta-sts testing: delivers despite a bad certificate (tls_policy=mta-sts-testing)" {
	mx_server --starttls "$CERTS/server.pem" "$CERTS/server.key"
	send_to u@testing.test
	assert_line --regexp "event=delivered .*rcpt=u@testing.test .*tls_policy=mta-sts-testing"
}

@test "mta-sts: the cache survives a restart with the web server gone, and max_age ends it" {
	mx_server --starttls "$STS/mx.pem" "$STS/mx.key"
	send_to u@sts.test
	assert_line --regexp "event=delivered .*tls_policy=mta-sts"
	kill "$WEBPID"; WEBPID=
	stop_servers
	mx_server --starttls "$CERTS/server.pem" "$CERTS/server.key"
	f="$RELAY_HOME/state/mta-sts/sts.test"
	cp "$f" "$BATS_TEST_TMPDIR/fresh"
	# fetched two days ago with max_age one day: expired, and the policy
	# host is gone: no policy, opportunistic TLS
	awk -v t=$(( $(date +%s) - 172800 )) '{ $2 = t; print }' "$f" > "$f.new" && mv "$f.new" "$f"
	send_to w@sts.test
	assert_line --regexp "event=delivered .*rcpt=w@sts.test .*tls_policy=may"
	# the policy as cached at the first delivery (a new relay-send): still enforced
	cp "$BATS_TEST_TMPDIR/fresh" "$f"
	send_to v@sts.test
	assert_line --regexp "event=deferred .*rcpt=v@sts.test .*certificate verify failed"
}

@test "mta-sts: a new TXT id fetches the policy again; the same id does not" {
	mx_server --starttls "$CERTS/server.pem" "$CERTS/server.key"
	send_to u@testing.test
	assert_line --regexp "event=delivered .*tls_policy=mta-sts-testing"
	send_to v@testing.test
	[ "$(grep -c '^mta-sts.testing.test ' "$BATS_TEST_TMPDIR/web.log")" -eq 1 ]
	policy testing.test enforce mx.testing.test
	dns 2
	send_to w@testing.test
	[ "$(grep -c '^mta-sts.testing.test ' "$BATS_TEST_TMPDIR/web.log")" -eq 2 ]
	assert_line --regexp "event=deferred .*rcpt=w@testing.test .*certificate verify failed"
}

@test "mta-sts: a redirect or a non-200 answer is no policy (delivered opportunistically)" {
	mx_server --starttls "$CERTS/server.pem" "$CERTS/server.key"
	echo "301 https://mta-sts.testing.test/.well-known/mta-sts.txt" > "$WEBDIR/mta-sts.sts.test/.well-known/mta-sts.txt.status"
	send_to u@sts.test
	assert_line --regexp "event=delivered .*rcpt=u@sts.test .*tls_policy=may"
	[ ! -e "$RELAY_HOME/state/mta-sts/sts.test" ]
}

@test "mta-sts no: the setting turns it off" {
	relay_setting mta_sts no
	mx_server --starttls "$CERTS/server.pem" "$CERTS/server.key"
	send_to u@sts.test
	assert_line --regexp "event=delivered .*rcpt=u@sts.test .*tls_policy=may"
	[ ! -s "$BATS_TEST_TMPDIR/web.log" ]
}

@test "tls-rpt: the day's sessions by policy domain; the report is valid RFC 8460 JSON; mailto: and https: rua get it once" {
	mx_server --starttls "$STS/mx.pem" "$STS/mx.key"; GOOD=$SRV
	send_to u@sts.test
	assert_line --partial "event=delivered"
	stop_servers
	mx_server --starttls "$CERTS/server.pem" "$CERTS/server.key"
	send_to v@sts.test
	assert_line --regexp "event=deferred .*rcpt=v@sts.test .*certificate verify failed"
	run relay-qctl tls-report
	echo "$output"
	assert_line --regexp "^day=[0-9-]{10} domain=sts.test policy-type=sts successful=1 failed=1$"
	# the JSON report, checked against the schema written from RFC 8460 4
	relay-qctl tls-report --json > "$BATS_TEST_TMPDIR/report.json"
	run "$TESTS/tlsrpt-check" "$TESTS/tlsrpt-schema.json" "$BATS_TEST_TMPDIR/report.json"
	echo "$output"
	assert_success
	assert_output --partial '"result-type": "certificate-host-mismatch"'
	assert_output --partial '"receiving-mx-hostname": "mx.sts.test"'
	assert_output --partial '"policy-string": ["version: STSv1", "mode: enforce", "mx: mx.sts.test", "max_age: 86400"]'
	# sent: a POST to the https: rua, a message to the mailto: rua
	stop_servers
	mx_server --starttls "$STS/mx.pem" "$STS/mx.key"
	run relay-qctl tls-report --send --day "$(date -u +%F)"
	echo "$output"
	assert_success
	assert_line --regexp "rua=https://mta-sts.sts.test/tlsrpt result=sent"
	assert_line --regexp "rua=mailto:rpt@testing.test result=sent"
	grep -qx 'POST mta-sts.sts.test /tlsrpt application/tlsrpt+gzip' "$BATS_TEST_TMPDIR/web.log"
	run "$TESTS/tlsrpt-check" "$TESTS/tlsrpt-schema.json" "$WEBDIR/mta-sts.sts.test/tlsrpt.posted" --gzip
	echo "$output"
	assert_success
	run relay-send -1
	assert_line --regexp "event=delivered .*rcpt=rpt@testing.test"
	run "$TESTS/tlsrpt-check" "$TESTS/tlsrpt-schema.json" "$(ls "$SRV"/rec/*.eml | tail -1)" --mail
	echo "$output"
	assert_success
	assert_line "domain=sts.test submitter=relay.test"
	# once: a second run sends nothing
	run relay-qctl tls-report --send --day "$(date -u +%F)"
	assert_success
	refute_output --partial "result="
}

@test "tls-rpt: --day is checked; a day without sessions prints nothing" {
	run relay-qctl tls-report --day 2026-13
	assert_failure 100
	run relay-qctl tls-report --day 2020-01-01
	assert_success
	assert_output ""
}
