#!/usr/bin/env bats
# not tested: bounces of messages with many failed recipients at once beyond 3.
load helper
load smtp_helper

setup() {
	relay_home
	relay_setting smtp_timeout 5s
}
teardown() { stop_servers; }

session_empty() { ! pgrep -s "$1" >/dev/null; }

route_all() {
	echo "main failover 127.0.0.1:$1" >> "$RELAY_HOME/etc/pools"
	echo "default main" >> "$RELAY_HOME/etc/routes"
	relay-config -d "$RELAY_HOME"
}

@test "a 5.1.1 from the relay: DSN queued by relay-bounce, delivered to the envelope sender, parsed by Python's email package; the address is then suppressed" {
	start_server --rcpt-reply 'gone@example.net=550 5.1.1 <gone@example.net>: no such user'
	route_all "$PORT"
	printf 'From: App <app@example.org>\nReply-To: other@example.org\nSubject: hello\n\nbody\n' |
		relay-inject -f app@example.org gone@example.net ok@example.net
	run relay-send -1
	assert_success
	assert_line --partial "event=failed"
	assert_line --partial "event=bounced"
	# the first run delivered ok@ and queued the DSN; it went out in the same run or goes now
	run relay-send -1
	[ "$(queue_count)" -eq 0 ]
	dsn=$(grep -l '^Fnull\|MAIL FROM:<>' "$SRV"/rec/*.env | head -1)
	[ -n "$dsn" ]
	grep -q 'RCPT TO:<app@example.org>' "$dsn"
	! grep -q 'other@example.org' "$dsn"
	run "$BATS_TEST_DIRNAME/dsn-parse" "${dsn%.env}.eml"
	echo "$output"
	assert_line "type=multipart/report"
	assert_line "report-type=delivery-status"
	assert_line --regexp '^ds0:Reporting-MTA=dns; ?relay.test$'
	assert_line --regexp '^ds1:Final-Recipient=rfc822; ?gone@example.net$'
	assert_line --regexp '^ds1:Action=failed$'
	assert_line --regexp '^ds1:Status=5.1.1$'
	assert_line --partial 'ds1:Diagnostic-Code=smtp; 550 5.1.1'
	assert_line "defects=0"
	assert_line --regexp '^h:Auto-Submitted=auto-replied'
	# suppression: the next message to that address is refused at once
	run bash -c "printf 'Subject: again\n\nx\n' | relay-inject -f app@example.org gone@example.net"
	assert_failure 100
	assert_output --partial "suppressed"
	run relay-bounce suppress list
	assert_output --partial "gone@example.net"
	relay-bounce suppress remove gone@example.net
	run bash -c "printf 'Subject: again\n\nx\n' | relay-inject -f app@example.org gone@example.net"
	assert_success
}

@test "a failed message from the null sender is not bounced to <> but to postmaster@hostname; a triple bounce is dropped" {
	start_server --rcpt-reply 'gone@example.net=550 5.1.1 no such user'
	route_all "$PORT"
	printf 'Subject: a bounce itself\n\nbody\n' | relay-inject -f '<>' gone@example.net
	run relay-send -1
	assert_line --partial "event=failed"
	run relay-send -1
	[ "$(queue_count)" -eq 0 ]
	[ "$(msgs)" -eq 1 ]
	grep -q 'RCPT TO:<postmaster@relay.test>' "$SRV"/rec/*.env
	stop_servers
	# the postmaster refuses too: that DSN's failure is dropped, logged
	start_server --rcpt-reply 'gone@example.net=550 5.1.1 no such user' \
		--rcpt-reply 'postmaster@relay.test=550 5.1.1 no postmaster here'
	: > "$RELAY_HOME/etc/pools"; : > "$RELAY_HOME/etc/routes"
	route_all "$PORT"
	relay-bounce suppress remove gone@example.net
	printf 'Subject: a bounce itself\n\nbody\n' | relay-inject -f '<>' gone@example.net
	run relay-send -1
	run relay-send -1
	run relay-send -1
	echo "$output"
	[ "$(queue_count)" -eq 0 ]
	[ "$(msgs)" -eq 0 ]
}

@test "remote reply text cannot inject headers into the DSN" {
	start_server --rcpt-reply $'gone@example.net=550 5.1.1 nope\r\nSubject: injected'
	route_all "$PORT"
	printf 'Subject: s\n\nbody\n' | relay-inject -f app@example.org gone@example.net
	run relay-send -1
	run relay-send -1
	dsn=$(ls "$SRV"/rec/*.eml | head -1)
	run "$BATS_TEST_DIRNAME/dsn-parse" "$dsn"
	refute_line --regexp '^h:Subject=.*injected'
	[ "$(grep -c '^Subject:' "$dsn")" -le 2 ]
}

@test "a rate-limit 5xx (classified failover) goes to the next member, not a bounce" {
	start_server --rcpt-reply 'r@example.net=550 5.7.1 Our system has detected an unusual rate of unsolicited mail'; RL=$PORT
	start_server; OK=$PORT; SOK=$SRV
	echo "main failover 127.0.0.1:$RL 127.0.0.1:$OK" >> "$RELAY_HOME/etc/pools"
	echo "default main" >> "$RELAY_HOME/etc/routes"
	relay-config -d "$RELAY_HOME"
	run relay-bounce classify '550 5.7.1 Our system has detected an unusual rate of unsolicited mail'
	assert_output --partial "action=failover"
	printf 'Subject: s\n\nbody\n' | relay-inject -f app@example.org r@example.net
	run relay-send -1
	assert_line --regexp "event=failover .*relay=127.0.0.1:$RL"
	assert_line --regexp "event=delivered .*relay=127.0.0.1:$OK"
	refute_line --partial "event=failed"
}

@test "relay-send counts deliveries and deferrals per relay for relay-health" {
	start_server --rcpt-reply 'b@example.net=450 4.2.1 later'
	route_all "$PORT"
	printf 'Subject: s\n\nbody\n' | relay-inject -f app@example.org a@example.net b@example.net
	run relay-send -1
	run relay-bounce counters relay "127.0.0.1:$PORT"
	echo "$output"
	assert_output --partial "delivered=1"
	assert_output --partial "deferred=1"
}

@test "a delay warning (Action: delayed) goes out once after bounce_delay_warning" {
	start_server --rcpt-reply 'slow@example.net=451 4.7.1 greylisted'; GREY=$PORT; SG=$SRV
	route_all "$GREY"
	relay_setting bounce_delay_warning 1s
	printf 'Subject: s\n\nbody\n' | relay-inject -f app@example.org slow@example.net
	sleep 1.1
	run relay-send -1
	assert_line --partial "event=delay_warning"
	# the DSN is a new queued message to app@example.org from <>
	grep -l '^Tapp@example.org$' "$RELAY_HOME"/queue/msg/*/* > "$BATS_TEST_TMPDIR/dsns"
	[ "$(wc -l < "$BATS_TEST_TMPDIR/dsns")" -eq 1 ]
	f=$(cat "$BATS_TEST_TMPDIR/dsns")
	grep -qx F "$f"
	sed '1,/^$/d' "$f" > "$BATS_TEST_TMPDIR/dsn.eml"
	run "$BATS_TEST_DIRNAME/dsn-parse" "$BATS_TEST_TMPDIR/dsn.eml"
	assert_line --regexp '^ds1:Action=delayed$'
	assert_line --regexp '^ds1:Status=4\.7\.1$'
	# not twice
	relay-qctl requeue "$(basename "$(grep -L '^Tapp@example.org$' "$RELAY_HOME"/queue/msg/*/* | head -1)")"
	run relay-send -1
	refute_line --partial "event=delay_warning"
}

@test "a crash between the DSN queued and the done-mark repeats the DSN, never loses it" {
	start_server --rcpt-reply 'gone@example.net=550 5.1.1 no such user'
	route_all "$PORT"
	printf 'Subject: s\n\nbody\n' | relay-inject -f app@example.org gone@example.net
	# in a session of its own, so that what it leaves behind can be ended
	# without touching any other relay-send on the host
	RELAY_CRASH_AT=send-bounced run setsid -w sh -c 'echo $$ > "$0"; exec relay-send -1 -w 1' "$BATS_TEST_TMPDIR/sid"
	# killed after relay-bounce queued the DSN, before the X line
	orig=$(grep -L '^Tapp@example.org$' "$RELAY_HOME"/queue/msg/*/*)
	[ -n "$orig" ]
	id=$(basename "$orig")
	grep -q '^F0 ' "$RELAY_HOME/queue/info/${id:14:2}/$id"
	! grep -q '^X0' "$RELAY_HOME/queue/info/${id:14:2}/$id"
	[ "$(grep -l '^Tapp@example.org$' "$RELAY_HOME"/queue/msg/*/* | wc -l)" -eq 1 ]
	sid=$(cat "$BATS_TEST_TMPDIR/sid")
	pkill -9 -s "$sid" || true
	wait_for session_empty "$sid"
	run relay-send -1
	assert_line --partial "event=bounced"
	run relay-send -1
	[ "$(queue_count)" -eq 0 ]
	# two DSNs reached the sender: a repeat, not a loss
	[ "$(grep -l 'RCPT TO:<app@example.org>' "$SRV"/rec/*.env | wc -l)" -eq 2 ]
}
