#!/usr/bin/env bats
# not tested: delay warnings through relay-send (relay-send does not send them yet); bounces of messages with many failed recipients at once beyond 3.
load helper
load smtp_helper

setup() {
	relay_home
	relay_setting smtp_timeout 5s
}
teardown() { stop_servers; }

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

@test "a failed message from the null sender is not bounced" {
	start_server --rcpt-reply 'gone@example.net=550 5.1.1 no such user'
	route_all "$PORT"
	printf 'Subject: a bounce itself\n\nbody\n' | relay-inject -f '<>' gone@example.net
	run relay-send -1
	assert_line --partial "event=failed"
	run relay-send -1
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
