#!/usr/bin/env bats
# not tested: a journal at its bound SJOURNAL_MAX (16 MB: a change past it stays local, with a warning; t_share covers the parsers, not the bound), the real stream bound (MAXLEN ~ 10000: RELAY_TEST_SUPPRESS_STREAM_MAX=2 and 2 entries a stream node stand for it), a set of 100,000 (measured by hand, doc/cluster.md), Redis restarted in the middle of a refresh, relay-httpd's one-click unsubscribe (it goes through suppress_add like the others: httpd-unsub.bats), Redis over TLS and nodes on separate machines (one machine, three homes).
load helper
load smtp_helper
load cluster_helper
bats_require_minimum_version 1.5.0

setup_file() { TESTS="$BATS_TEST_DIRNAME"; }
setup() { start_redis; DAEMONS=""; CLUSTER_WORKERS=2; }
teardown() { cluster_teardown; }
# refused_on NAME ADDR: NAME's relay-inject refuses ADDR (exit 100, suppressed)
refused_on() {
	local st=0
	printf 'Subject: x\n\nx\n' | on "$1" relay-inject -f s@example.org "$2" 2>/dev/null || st=$?
	[ "$st" -eq 100 ]
}
listed_on() { on "$1" relay-bounce suppress list | grep -q "^$2 "; }
unlisted_on() { ! listed_on "$@"; }
taken_on() { printf 'Subject: x\n\nx\n' | on "$1" relay-inject -f s@example.org "$2"; }
at_least() { [ "$(recorded_n "$1")" -ge "$2" ]; }
stream_len() { rcli xlen relay:suppress; }
set_len() { rcli hlen relay:suppress:set; }
# trimmed_small: the stream bound of the pushes 2 (test hook), and 2
# entries a stream node, so that MAXLEN ~ trims at once
trimmed_small() {
	export RELAY_TEST_SUPPRESS_STREAM_MAX=2
	rcli config set stream-node-max-entries 2 >/dev/null
}
pushed_on() { [ ! -s "$BATS_TEST_TMPDIR/$1/state/suppress.journal" ]; }
two() {   # two: nodes a and b, one pool of MEMBERS (default: the test server)
	local n
	for n in a b; do
		node $n
		echo "main failover ${1:-127.0.0.1:$PORT}" > "$BATS_TEST_TMPDIR/$n/etc/pools"
		echo "default main" > "$BATS_TEST_TMPDIR/$n/etc/routes"
		relay-config -d "$BATS_TEST_TMPDIR/$n" >/dev/null
	done
}

@test "suppressed by hand on node A: refused at node B's relay-inject within seconds; B does not push it back" {
	start_server
	two
	daemon_on a; daemon_on b
	wait_for grep -q "event=start" "$BATS_TEST_TMPDIR/b.log"
	taken_on b gone@example.net
	start=$(date +%s.%N)
	on a relay-bounce suppress add gone@example.net "complaint"
	WAIT_FOR_CAP=10 wait_for listed_on b gone@example.net
	end=$(date +%s.%N)
	refused_on b gone@example.net
	echo "propagation: $(echo "$end - $start" | bc) s" >&3
	run on b relay-bounce suppress list
	assert_output --partial "gone@example.net"
	assert_output --partial "reason=complaint"
	grep -q "event=suppress_shared dir=out records=1" "$BATS_TEST_TMPDIR/a.log"
	wait_for grep -q "event=suppress_shared dir=in records=1 added=1 removed=0" "$BATS_TEST_TMPDIR/b.log"
	# no echo: B applied it without journaling; the stream keeps A's one entry
	sleep 2
	[ "$(stream_len)" -eq 1 ]
	run ! grep -q "event=suppress_shared dir=out" "$BATS_TEST_TMPDIR/b.log"
	run ! grep -q "event=suppress_shared dir=in" "$BATS_TEST_TMPDIR/a.log"
	# the journal is truncated once pushed; the cursor kept
	[ ! -s "$BATS_TEST_TMPDIR/a/state/suppress.journal" ]
	grep -Eq '^CS1 0 [0-9]+-[0-9]+$' "$BATS_TEST_TMPDIR/a/state/suppress.cursor"
	run on a relay-qctl cluster
	assert_success
	assert_line "suppress stream relay:suppress entries=1"
	# issue 16 sset: the set holds the entry as A pushed it
	assert_line "suppress set relay:suppress:set entries=1"
	rcli hget relay:suppress:set gone@example.net | grep -Eq '^[0-9]+ [0-9]+ [0-9]+ complaint$'
}

@test "a hard bounce at node A suppresses at node B; a removal at A removes at B" {
	start_server --rcpt-reply 'gone@example.net=550 5.1.1 no such user'
	two
	daemon_on a; daemon_on b
	taken_on a gone@example.net
	WAIT_FOR_CAP=20 wait_for listed_on b gone@example.net
	refused_on b gone@example.net
	run on b relay-bounce suppress list
	assert_output --partial "gone@example.net"
	on a relay-bounce suppress remove gone@example.net
	# (not injected again at B: the server would bounce it there too)
	WAIT_FOR_CAP=10 wait_for unlisted_on b gone@example.net
	grep -q "event=suppress_shared dir=in records=1 added=0 removed=1" "$BATS_TEST_TMPDIR/b.log"
	# B bounced nothing itself: it had no message to that address
	run grep -c "event=failed" "$BATS_TEST_TMPDIR/b.log"
	assert_output 0
}

@test "Redis killed mid-run: the additions meanwhile reach node B after it is back; a new node gets the whole list" {
	start_server
	two
	daemon_on a; daemon_on b
	on a relay-bounce suppress add first@example.net
	WAIT_FOR_CAP=10 wait_for listed_on b first@example.net
	stop_redis
	for i in 1 2 3; do on a relay-bounce suppress add "while$i@example.net"; done
	wait_for grep -q "event=share state=unreachable" "$BATS_TEST_TMPDIR/a.log"
	sleep 1
	# kept in A's journal meanwhile
	[ "$(grep -c '^add while' "$BATS_TEST_TMPDIR/a/state/suppress.journal")" -eq 3 ]
	taken_on b while1@example.net
	start_redis "$REDIS_PORT"
	WAIT_FOR_CAP=20 wait_for listed_on b while3@example.net
	refused_on b while3@example.net
	refused_on b while1@example.net
	refused_on b while2@example.net
	wait_for grep -q "event=share state=shared" "$BATS_TEST_TMPDIR/a.log"
	# a node that starts now (no cursor) gets the whole set
	node c
	daemon_on c
	WAIT_FOR_CAP=10 wait_for listed_on c while2@example.net
	refused_on c while1@example.net
	# (first@ was in the Redis that died, which kept nothing)
	taken_on c first@example.net
}

@test "relay-health's verdict down on node A makes node B (no relay-health) skip that member, source=cluster; up again when A says so" {
	start_server; P1=$PORT; S1=$SRV
	start_server; P2=$PORT; S2=$SRV
	two "127.0.0.1:$P1 127.0.0.1:$P2"
	now=$(date +%s)
	mkdir -p "$BATS_TEST_TMPDIR/a/state/health"
	printf 'RH1 %s 60\nmain 127.0.0.1:%s down %s connect\nmain 127.0.0.1:%s up %s ok\n' \
		"$now" "$P1" "$now" "$P2" "$now" > "$BATS_TEST_TMPDIR/a/state/health/status"
	# a verdict no node has renewed for two days: it leaves the hash
	old=$((now - 172800))
	rcli hset relay:health "gone 10.9.9.9:25" "down $old connect x $old 60" >/dev/null
	daemon_on a; daemon_on b
	wait_for grep -q "event=member_down pool=main relay=127.0.0.1:$P1 source=relay-health" "$BATS_TEST_TMPDIR/a.log"
	wait_for sh -c "[ \"\$(redis-cli -p $REDIS_PORT hexists relay:health 'gone 10.9.9.9:25')\" = 0 ]"
	WAIT_FOR_CAP=10 wait_for grep -q "event=member_down pool=main relay=127.0.0.1:$P1 source=cluster" "$BATS_TEST_TMPDIR/b.log"
	rcli hget relay:health "main 127.0.0.1:$P1" | grep -Eq "^down $now connect a $now 60\$"
	run on b relay-qctl cluster
	assert_line "health main 127.0.0.1:$P1 down since=$now reason=connect node=a when=$now fresh=yes"
	# B skips the first member, which it would otherwise take
	taken_on b r@example.net
	wait_for at_least "$S2" 1
	[ "$(recorded_n "$S1")" -eq 0 ]
	# A's next run finds it up: B takes it back
	now2=$((now + 1))
	printf 'RH1 %s 60\nmain 127.0.0.1:%s up %s ok\nmain 127.0.0.1:%s up %s ok\n' \
		"$now2" "$P1" "$now2" "$P2" "$now" > "$BATS_TEST_TMPDIR/a/state/health/status.new"
	mv "$BATS_TEST_TMPDIR/a/state/health/status.new" "$BATS_TEST_TMPDIR/a/state/health/status"
	WAIT_FOR_CAP=10 wait_for grep -q "event=member_up pool=main relay=127.0.0.1:$P1 source=cluster" "$BATS_TEST_TMPDIR/b.log"
	taken_on b r@example.net
	wait_for at_least "$S1" 1
	# B's own status, when fresh, wins over the cluster's for what it covers
	run ! grep -q "source=cluster" "$BATS_TEST_TMPDIR/a.log"
}

@test "without setting shared no journal is written; with it, only until relay-send has pushed it" {
	relay_home
	for i in $(seq 50); do relay-bounce suppress add "a$i@example.net"; done
	relay-bounce suppress remove a1@example.net
	[ ! -e "$RELAY_HOME/state/suppress.journal" ]
	[ "$(relay-bounce suppress list | wc -l)" -eq 49 ]
	# with shared (Redis up, no relay-send yet): the changes wait in the journal
	relay_setting shared "redis://127.0.0.1:$REDIS_PORT/0"
	relay-bounce suppress add b@example.net
	relay-bounce suppress remove a2@example.net
	run cat "$RELAY_HOME/state/suppress.journal"
	assert_line --regexp '^add b@example.net [0-9]+ [0-9]+ [0-9]+ added by hand$'
	assert_line 'del a2@example.net'
	relay-send > "$BATS_TEST_TMPDIR/send.log" 2>&1 &
	DAEMONS="$DAEMONS $!"
	wait_for sh -c "[ ! -s '$RELAY_HOME/state/suppress.journal' ]"
	[ "$(stream_len)" -eq 1 ]
	rcli xrange relay:suppress - + | grep -q '^del a2@example.net$'
}

@test "issue 16 sset: a new node gets all of the set (3,000 bounced at A, the stream trimmed to a few entries); expired entries dropped, local ones kept" {
	local i rc=() rr=()
	for i in $(seq 3000); do
		rc+=("u$i@example.net")
		rr+=(--rcpt-reply "u$i@example.net=550 5.1.1 no such user")
	done
	start_server "${rr[@]}"
	two
	trimmed_small
	daemon_on a
	printf 'Subject: x\n\nx\n' | on a relay-inject -f s@example.org "${rc[@]}"
	WAIT_FOR_CAP=60 wait_for sh -c "[ \"\$(redis-cli -p $REDIS_PORT hlen relay:suppress:set)\" -ge 3000 ]"
	wait_for pushed_on a
	[ "$(on a relay-bounce suppress list | grep -c '^u[0-9]*@example.net ')" -eq 3000 ]
	# the stream alone has lost most of them
	[ "$(stream_len)" -le 4 ]
	[ "$(rcli xrange relay:suppress - + | grep -c '^add u')" -lt 1500 ]
	# an entry long expired in the set: skipped, and dropped from the set
	rcli hset relay:suppress:set old@example.net "1 2 3 expired" >/dev/null
	# an entry of B's from before setting shared (so not in the set)
	on b relay-bounce suppress add local@example.net
	rm "$BATS_TEST_TMPDIR/b/state/suppress.journal"
	daemon_on b
	WAIT_FOR_CAP=30 wait_for grep -q "event=suppress_shared dir=refresh" "$BATS_TEST_TMPDIR/b.log"
	grep "event=suppress_shared dir=refresh records=3000 expired=1 bad=0 reason=new" "$BATS_TEST_TMPDIR/b.log"
	[ "$(on b relay-bounce suppress list | grep -c '^u[0-9]*@example.net ')" -eq 3000 ]
	refused_on b u1@example.net
	refused_on b u3000@example.net
	listed_on b local@example.net
	unlisted_on b old@example.net
	[ "$(rcli hexists relay:suppress:set old@example.net)" = 0 ]
	# then B reads the stream from the id recorded first: no second refresh
	on a relay-bounce suppress add later@example.net
	WAIT_FOR_CAP=10 wait_for listed_on b later@example.net
	[ "$(grep -c 'dir=refresh' "$BATS_TEST_TMPDIR/b.log")" -eq 1 ]
	grep -Eq '^CS1 0 [0-9]+-[0-9]+$' "$BATS_TEST_TMPDIR/b/state/suppress.cursor"
}

@test "issue 16 sset: a node whose cursor fell behind the trimmed stream catches up from the set (reason=gap); a removal at A still removes at B" {
	local i j pb
	start_server
	two
	trimmed_small
	daemon_on a; daemon_on b
	pb=${DAEMONS##* }
	on a relay-bounce suppress add first@example.net
	WAIT_FOR_CAP=10 wait_for listed_on b first@example.net
	grep -q "dir=refresh .*reason=new" "$BATS_TEST_TMPDIR/b.log"   # its first start
	kill "$pb"
	wait_for gone "$pb"
	# 4 ticks' worth of entries: B's cursor is trimmed away
	for j in 1 2 3 4; do
		for i in $(seq 25); do on a relay-bounce suppress add "g$j-$i@example.net"; done
		wait_for pushed_on a
	done
	run ! sh -c "redis-cli -p $REDIS_PORT xrange relay:suppress - + | grep -q first@example.net"
	[ "$(set_len)" -eq 101 ]
	daemon_on b
	WAIT_FOR_CAP=20 wait_for listed_on b g4-25@example.net
	grep -q "event=suppress_shared dir=refresh records=101 expired=0 bad=0 reason=gap" "$BATS_TEST_TMPDIR/b.log"
	[ "$(on b relay-bounce suppress list | grep -c '^g[0-9]-[0-9]*@example.net ')" -eq 100 ]
	# removals travel as del records, after the refresh too
	on a relay-bounce suppress remove g2-7@example.net
	WAIT_FOR_CAP=10 wait_for unlisted_on b g2-7@example.net
	[ "$(rcli hexists relay:suppress:set g2-7@example.net)" = 0 ]
	listed_on b g2-8@example.net
	[ "$(grep -c 'dir=refresh' "$BATS_TEST_TMPDIR/b.log")" -eq 1 ]
}

@test "issue 16 sset: a local removal still waiting in a long journal wins over the set's older entry during the refresh" {
	start_server
	two
	daemon_on a
	on a relay-bounce suppress add x@example.net "from a"
	wait_for sh -c "[ \"\$(redis-cli -p $REDIS_PORT hexists relay:suppress:set x@example.net)\" = 1 ]"
	# B (not started yet): more journal than one tick pushes (16 x 16 KB:
	# removals of addresses nobody has, so that the set stays one entry
	# and is read in one tick), then x added and removed by hand at its end
	awk 'BEGIN { for (i = 1; i <= 15000; i++) printf "del f%d@example.net\n", i }' \
		> "$BATS_TEST_TMPDIR/b/state/suppress.journal"
	[ "$(stat -c %s "$BATS_TEST_TMPDIR/b/state/suppress.journal")" -gt 300000 ]
	on b relay-bounce suppress add x@example.net
	on b relay-bounce suppress remove x@example.net
	daemon_on b
	WAIT_FOR_CAP=20 wait_for grep -q "event=suppress_shared dir=refresh" "$BATS_TEST_TMPDIR/b.log"
	# the first tick pushed part of the journal, refreshed, and applied the rest again over it
	[ "$(grep -c 'event=suppress_shared dir=out' "$BATS_TEST_TMPDIR/b.log")" -ge 16 ]
	grep -q "event=suppress_shared dir=refresh records=1 " "$BATS_TEST_TMPDIR/b.log"
	unlisted_on b x@example.net
	wait_for pushed_on b
	unlisted_on b x@example.net
	WAIT_FOR_CAP=10 wait_for unlisted_on a x@example.net
	[ "$(rcli hexists relay:suppress:set x@example.net)" = 0 ]
	[ "$(set_len)" -eq 0 ]
}
