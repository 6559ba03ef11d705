# Shared by tests/smtp.bats, tests/test-server.bats and tests/dns.bats:
# start tests/smtp-test-server on a free loopback port, stop it after.
SRV_PIDS=""

# start_server [options...]: sets PORT, SRV (its directory: rec/, log, out)
start_server() {
	SRV="$BATS_TEST_TMPDIR/srv$RANDOM"
	mkdir -p "$SRV/rec"
	"$TESTS/smtp-test-server" --port-file "$SRV/port" --record "$SRV/rec" \
		--log "$SRV/log" "$@" >"$SRV/out" 2>&1 3>&- &
	SRV_PIDS="$SRV_PIDS $!"
	wait_for test -s "$SRV/port"
	PORT=$(cat "$SRV/port")
	touch "$SRV/log"
}

stop_servers() {
	for p in $SRV_PIDS; do
		kill "$p" 2>/dev/null || true
	done
	SRV_PIDS=""
}

# The test CA and certificates, made once per file.
make_certs() {
	export CERTS="$BATS_FILE_TMPDIR/certs"
	[ -f "$CERTS/ca.pem" ] || "$TESTS/mkcert" "$CERTS"
}

# drv ARGS...: one session with the test driver against the server
drv() {
	run "$RELAY_BUILD/tests/t_smtpdrv" send --port "$PORT" "$@"
	echo "$output"
}

msgs() { # number of messages the server recorded
	ls "$SRV/rec" | grep -c '\.eml$' || true
}
