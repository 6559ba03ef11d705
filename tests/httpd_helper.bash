# Shared by tests/httpd*.bats: a relay home relay-httpd (never root) can
# use, relay-httpd on a free loopback port, and curl against it.
# relay-httpd refuses root, and the tests run as root: the home lives in
# a directory of its own that nobody (65534) may enter, and the queue is
# nobody's, so that relay-queue run by relay-httpd can write it.
HTTPD_PID=""
UNPRIV="setpriv --reuid=65534 --regid=65534 --clear-groups --"

httpd_home() {
	HT=$(mktemp -d /tmp/relay-httpd-test.XXXXXX)
	chmod 755 "$HT"
	export RELAY_HOME="$HT/home"
	relay-config init "$RELAY_HOME" >/dev/null
	printf 'hostname relay.test\n' >> "$RELAY_HOME/etc/settings"
	relay-config -d "$RELAY_HOME" >/dev/null
	chown -R 65534:65534 "$RELAY_HOME/queue" "$RELAY_HOME/state"
}

# httpd_start [ARGS]: relay-httpd as nobody; sets HPORT and URL
httpd_start() {
	HPORT=$(free_port)
	URL="http://127.0.0.1:$HPORT"
	env RELAY_HOME="$RELAY_HOME" ${HTTPD_ENV:-} $UNPRIV "$RELAY_BUILD/bin/relay-httpd" \
		-l "127.0.0.1:$HPORT" "$@" > "$HT/httpd.log" 2>&1 &
	HTTPD_PID=$!
	wait_for grep -q '^relay-httpd: listening' "$HT/httpd.log"
}

httpd_stop() {
	[ -n "$HTTPD_PID" ] && kill "$HTTPD_PID" 2>/dev/null || true
	[ -n "$HTTPD_PID" ] && wait_for gone "$HTTPD_PID"
	HTTPD_PID=""
	[ -n "${HT:-}" ] && rm -rf "$HT"
	true
}

# newkey NAME [FIELDS]: a token into TOK
newkey() { TOK=$(relay-config -d "$RELAY_HOME" apikey "$@"); }

# post JSON [curl args]: status into CODE, body into BODY
post() {
	local data=$1; shift
	printf '%s' "$data" > "$HT/req.json"
	CODE=$(curl -s -o "$HT/resp" -D "$HT/hdrs" -w '%{http_code}' -H "Authorization: Bearer $TOK" \
		-H "Content-Type: ${CT:-application/json}" --data-binary @"$HT/req.json" "$@" "$URL/v1/messages")
	BODY=$(cat "$HT/resp")
}
