#!/usr/bin/env bats
# not tested: the time another message waits behind a big one (speed: bench/); MX pools with thousands of domains (no DNS data for them).
load helper
load smtp_helper

load send_helper

setup() { relay_home; relay_setting smtp_timeout 30s; }
teardown() { send_teardown; }

@test "7,000 recipients go out in 70 transactions of 100, each recipient once" {
	start_server
	pool main failover "127.0.0.1:$PORT"
	seq -f 'u%g@example.net' 7000 > "$BATS_TEST_TMPDIR/rcpts"
	printf 'Subject: big\n\nhi\n' | relay-inject -f s@example.org $(cat "$BATS_TEST_TMPDIR/rcpts")
	printf 'Subject: small\n\nhi\n' | relay-inject -f t@example.org other@example.net
	run relay-send -1 -w 4
	assert_success
	[ "$(cat "$SRV"/rec/*.env | grep -c 'RCPT TO:')" -eq 7001 ]
	[ "$(cat "$SRV"/rec/*.env | grep 'RCPT TO:' | sort -u | wc -l)" -eq 7001 ]
	[ "$(grep -c ' MAIL FROM:<s@example.org>' "$SRV/log")" -eq 70 ]
	[ "$(queue_count)" -eq 0 ]
}
