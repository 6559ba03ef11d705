# Shared by tests/smtpd*.bats: relay-smtpd under tcpserver on a free
# loopback port, a piped session, users and certificates.
SMTPD_PIDS=""

# smtpd_start [relay-smtpd options]: sets SPORT; the log is $SMTPD_LOG
smtpd_start() {
	SPORT=$(free_port)
	SMTPD_LOG="$BATS_TEST_TMPDIR/smtpd.log"
	tcpserver -q -H -R 127.0.0.1 "$SPORT" relay-smtpd "$@" 2>>"$SMTPD_LOG" 3>&- &
	SMTPD_PIDS="$SMTPD_PIDS $!"
	wait_for port_open "$SPORT"
}

port_open() {
	python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1]))).close()' "$1" 2>/dev/null
}

smtpd_stop() {
	local p
	for p in $SMTPD_PIDS; do
		kill "$p" 2>/dev/null || true
	done
	SMTPD_PIDS=""
}

# session [relay-smtpd options]: stdin's dialogue to relay-smtpd on a
# pipe, as from TCPREMOTEIP (default 127.0.0.1); output and log merged
# (CR removed from the replies, so that assert_line can match whole lines)
session() {
	TCPREMOTEIP=${IP:-127.0.0.1} relay-smtpd "$@" 2>&1 | tr -d '\r'
	return "${PIPESTATUS[0]}"
}
# local_session USER: relay-smtpd -u USER, the same way
local_session() {
	relay-smtpd -u "$1" 2>&1 | tr -d '\r'
	return "${PIPESTATUS[0]}"
}

# relay_client PREFIX: a relay line in etc/clients
relay_client() {
	echo "$1 relay" >> "$RELAY_HOME/etc/clients"
	relay-config -d "$RELAY_HOME" >/dev/null
}

# add_user USER PASSWORD [options]
add_user() {
	local u=$1 p=$2
	shift 2
	echo "$(printf '%s\n' "$p" | relay-config passwd "$u") $*" >> "$RELAY_HOME/etc/users"
	relay-config -d "$RELAY_HOME" >/dev/null
}

# TLS: the test certificates and the settings that name them
smtpd_certs() {
	export CERTS="$BATS_FILE_TMPDIR/certs"
	[ -f "$CERTS/ca.pem" ] || "$TESTS/mkcert" "$CERTS"
	relay_setting smtpd_cert "$CERTS/server.pem"
	relay_setting smtpd_key "$CERTS/server.key"
}

raw() { "$TESTS/smtpd-raw" "$@"; }
