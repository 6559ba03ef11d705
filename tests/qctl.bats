#!/usr/bin/env bats
# not tested: the wake of a running relay-send (send.bats runs it without a pid file), a queue too large to sort in memory; lib/queue/admin.c itself is tests/c/t_qadmin.c.
load helper

setup() { relay_home; }

inject() { printf 'Subject: q\n\nbody\n' | relay-inject -f s@example.org "$@"; }

@test "relay-qctl list --json parses when the first queue file does not" {
	inject r@example.net
	# sorts before every real id
	printf 'RQ1\nAjunk\n' > "$RELAY_HOME/queue/msg/00/0000000000000.00000000"
	run relay-qctl list --json
	assert_success
	echo "$output" | grep -v '^relay-qctl: warning' | /usr/bin/python3 -c '
import json,sys; q=json.load(sys.stdin)
assert len(q)==1 and q[0]["sender"]=="s@example.org", q'
	assert_output --partial 'warning: unable to read'
}

@test "relay-qctl refuses a bad id and a missing message with 100, and goes on to the next id" {
	inject r@example.net
	id=$(basename "$(queue_last)")
	for c in hold release delete requeue; do
		run relay-qctl "$c" ../../etc
		assert_failure 100
		assert_output --partial 'not a queue id: ../../etc'
		run relay-qctl "$c" 0000000000000.00000000
		assert_failure 100
		assert_output --partial "unable to $c 0000000000000.00000000"
	done
	run relay-qctl hold nonsense "$id"
	assert_failure 100
	assert_line "hold $id"
	[ -f "$RELAY_HOME/queue/hold/$id" ]
	cp "$RELAY_HOME/queue/hold/$id" "$BATS_TEST_TMPDIR/held"
	run relay-qctl release "$id"
	assert_success
	cmp "$RELAY_HOME/queue/msg/${id:14:2}/$id" "$BATS_TEST_TMPDIR/held"
	grep -qx 'R0 0' "$RELAY_HOME/queue/info/${id:14:2}/$id"
}
