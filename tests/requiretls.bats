#!/usr/bin/env bats
# not tested: REQUIRETLS over DANE and MTA-STS and TLS-Required: No against them (tests/dane.bats, tests/mta-sts.bats: root, port 25); a queue filter ($RELAYQUEUE without RELAYQUEUE_DSN) refusing MAIL REQUIRETLS (the same envelope_dsn_wanted test the DSN records use); the pool's other members after a 5.7.30 (not tried: documented).
load helper
load smtp_helper
load smtpd_helper
load send_helper

# REQUIRETLS (RFC 8689, issue 15): relay-smtpd takes it over TLS and
# queues the Q record; relay-send sends such a message only over verified
# TLS to a next hop that offers REQUIRETLS, else fails it with 5.7.30.
setup() {
	TESTS="$BATS_TEST_DIRNAME"
	send_setup
	smtpd_certs
	relay_client 127.0.0.1
}
teardown() { smtpd_stop; send_teardown; }

# submit [--plain] [header line]: one message by smtplib into relay-smtpd,
# MAIL REQUIRETLS after STARTTLS (--plain: no STARTTLS); prints the EHLO
# keywords and the reply to MAIL or the exception
submit() {
	python3 - "$SPORT" "$CERTS/ca.pem" "$@" <<'PY'
import smtplib, ssl, sys
port, ca, args = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
plain = "--plain" in args
hdr = [a for a in args if a != "--plain"]
s = smtplib.SMTP("127.0.0.1", port, timeout=10)
s.ehlo()
print("plain-ehlo:", " ".join(sorted(s.esmtp_features)))
if not plain:
    ctx = ssl.create_default_context(cafile=ca)
    s.starttls(context=ctx)
    s.ehlo()
    print("tls-ehlo:", " ".join(sorted(s.esmtp_features)))
msg = "".join(h + "\r\n" for h in hdr) + "Subject: rt\r\n\r\nsecret\r\n"
try:
    s.sendmail("s@example.org", ["r@example.net"], msg, mail_options=["REQUIRETLS"])
    print("queued")
except smtplib.SMTPException as e:
    print("refused:", e)
s.quit()
PY
}

# tls_relay MODE [server args]: the test relay with STARTTLS as the only
# member, etc/tls MODE for it (verify: against the test CA)
tls_relay() {
	local mode=$1; shift
	start_server --starttls "$CERTS/server.pem" "$CERTS/server.key" "$@"
	pool main failover "localhost:$PORT"
	printf 'localhost:%s %s%s\n' "$PORT" "$mode" "$([ "$mode" = verify ] && echo " ca=$CERTS/ca.pem")" \
		>> "$RELAY_HOME/etc/tls"
	relay-config -d "$RELAY_HOME" >/dev/null
}

@test "relay-smtpd offers REQUIRETLS after STARTTLS only and queues the Q record" {
	smtpd_start
	run submit
	echo "$output"
	assert_line --regexp '^plain-ehlo: .*starttls'
	refute_line --regexp '^plain-ehlo: .*requiretls'
	assert_line --regexp '^tls-ehlo: .*requiretls'
	assert_line queued
	grep -qx Q "$(queue_last)"
}

@test "relay-smtpd refuses MAIL REQUIRETLS in plaintext (555), queues nothing" {
	smtpd_start
	run submit --plain
	echo "$output"
	assert_line --regexp "^refused: .*555.*REQUIRETLS is offered over TLS only"
	[ "$(queue_count)" -eq 0 ]
}

@test "a REQUIRETLS message goes over verified TLS with MAIL ... REQUIRETLS to a next hop that offers it" {
	tls_relay verify --requiretls
	smtpd_start
	submit
	run relay-send -1
	echo "$output"
	assert_line --regexp "event=delivered .*rcpt=r@example.net .*tls=TLSv1\.[23] tls_policy=verify"
	grep -Eq '^c[0-9]+ r[0-9]+ MAIL FROM:<s@example.org>.* REQUIRETLS' "$SRV/log"
	[ "$(msgs)" -eq 1 ]
}

@test "a message without REQUIRETLS is not sent with it" {
	tls_relay verify --requiretls
	send_one plain
	run relay-send -1
	assert_line --partial "event=delivered"
	grep -Eq '^c[0-9]+ r[0-9]+ MAIL FROM:<s@example.org>' "$SRV/log"
	! grep -q 'REQUIRETLS' "$SRV/log"
}

@test "REQUIRETLS to a verified next hop that does not offer it: bounced 5.7.30, no MAIL" {
	tls_relay verify
	smtpd_start
	submit
	run relay-send -1
	echo "$output"
	assert_line --regexp "event=failed .*rcpt=r@example.net .*5\.7\.30"
	assert_line --partial "does not offer REQUIRETLS"
	! grep -q ' MAIL ' "$SRV/log"
	[ "$(msgs)" -eq 0 ]
}

@test "REQUIRETLS where TLS would not be verified (etc/tls may, encrypt): bounced 5.7.30, nothing connects" {
	for mode in may encrypt; do
		: > "$RELAY_HOME/etc/tls"; : > "$RELAY_HOME/etc/pools"
		tls_relay $mode --requiretls
		smtpd_start
		submit
		run relay-send -1
		echo "$output"
		assert_line --regexp "event=failed .*rcpt=r@example.net .*5\.7\.30.*REQUIRETLS: TLS to localhost would not be verified \(tls_policy=$mode\)"
		! grep -q 'EHLO' "$SRV/log"
		smtpd_stop; stop_servers
	done
}

@test "TLS-Required: No changes nothing where the operator asked for verify (the domain's policies only)" {
	start_server --starttls "$CERTS/wrong.pem" "$CERTS/wrong.key"
	pool main failover "localhost:$PORT"
	printf 'localhost:%s verify ca=%s\n' "$PORT" "$CERTS/ca.pem" >> "$RELAY_HOME/etc/tls"
	relay-config -d "$RELAY_HOME" >/dev/null
	printf 'TLS-Required: No\nSubject: x\n\nbody\n' | relay-inject -f s@example.org r@example.net
	run relay-send -1
	echo "$output"
	refute_line --partial "event=delivered"
	! grep -q ' MAIL ' "$SRV/log"
}
