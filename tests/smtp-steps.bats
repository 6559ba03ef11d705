#!/usr/bin/env bats
# not tested: the times themselves (only that each step is reported once, in order, with how it ended); steps under a real slow network; relay-health's use of the hook (tests/health.bats checks its output).
load helper
load smtp_helper

setup_file() { TESTS="$BATS_TEST_DIRNAME"; make_certs; }
teardown() { stop_servers; }

T="--timeout connect=2000 --timeout greeting=5000 --timeout ehlo=5000 --timeout mail=5000 --timeout rcpt=5000 --timeout data_init=5000 --timeout dot=5000"

# steps: the step lines of the last drv, as "NAME END CODE"
steps() { echo "$output" | awk '$1 == "step" { sub("end=", "", $3); sub("code=", "", $4); print $2, $3, $4 }'; }

@test "the step hook sees each step of a delivery once, in order, with its reply" {
	start_server
	drv $T --steps --to a@example.test --to b@example.test
	assert_success
	run steps
	assert_output "connect ok 0
greeting ok 220
ehlo ok 250
mail ok 250
rcpt ok 250
rcpt ok 250
data ok 354
dot ok 250
quit ok 221"
}

@test "STARTTLS and AUTH: the handshake, the second EHLO and AUTH are steps" {
	start_server --starttls "$CERTS/server.pem" "$CERTS/server.key" --auth user1:secret
	drv $T --steps --tls verify --ca "$CERTS/ca.pem" --tls-name localhost --auth user1:secret
	assert_success
	run steps
	assert_output "connect ok 0
greeting ok 220
ehlo ok 250
starttls ok 220
tls ok 0
ehlo ok 250
auth ok 235
mail ok 250
rcpt ok 250
data ok 354
dot ok 250
quit ok 221"
}

@test "a refused step and a failed step say how they ended" {
	start_server --rcpt-reply 'b@example.test=550 5.1.1 no such user'
	drv $T --steps --to b@example.test
	assert_failure 1
	run steps
	assert_output "connect ok 0
greeting ok 220
ehlo ok 250
mail ok 250
rcpt refused 550
rset ok 250
quit ok 221"
	start_server --greet 421
	drv $T --steps
	assert_failure 1
	run steps
	assert_line "greeting refused 421"
	start_server --hostile-reply nul --hostile-at ehlo
	drv $T --steps
	run steps
	assert_line "ehlo malformed 0"
	start_server --refuse
	drv $T --steps
	run steps
	assert_line "greeting closed 0"
}

@test "the session deadline cuts a stalled server before the stage timeout, and the step says timeout" {
	start_server --stall 30 --stall-at greet
	drv $T --steps --timeout session=500
	assert_failure 1
	assert_line --regexp "^open code=0 enh=- stage=greeting temp=1 member_fault=1 .*text=session deadline exceeded waiting for reply"
	run steps
	assert_output "connect ok 0
greeting timeout 0"
}
