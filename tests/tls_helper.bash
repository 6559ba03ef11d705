# Shared by tests/dane.bats, tests/mta-sts.bats and tests/tls-report.bats
# (issue 15).

# queue_rt RCPT [header]: a message queued with the Q record (MAIL
# REQUIRETLS, RFC 8689), straight through relay-queue's fd 1
queue_rt() {
	printf '%sSubject: rt\r\n\r\nsecret\r\n' "${2:+$2$'\r\n'}" > "$BATS_TEST_TMPDIR/m"
	printf 'Fs@example.org\0Q\0T%s\0\0' "$1" > "$BATS_TEST_TMPDIR/e"
	relay-queue < "$BATS_TEST_TMPDIR/m" 1< "$BATS_TEST_TMPDIR/e"
}
