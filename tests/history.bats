#!/usr/bin/env bats
# not tested: names outside the configuration and MX's one "mx" file here (tests/c/t_histrec.c); MX delivery's "mx" file (needs DNS data: the name is fixed, one file at most); 24 real hours (a faked minute, RELAY_HISTORY_TIME); the page (tests/httpd-browser.bats).
load helper
load smtp_helper

setup_file() { TESTS="$BATS_TEST_DIRNAME"; }
setup() { relay_home; relay_setting smtp_timeout 10s; }
teardown() { stop_servers; true; }

H() { echo "$RELAY_HOME/state/history"; }
# slot FILE MINUTE: "A B C" of that minute's slot, or "missing"
slot() {
	python3 - "$1" "$2" <<'PY'
import sys
d = open(sys.argv[1], "rb").read(); m = int(sys.argv[2]); o = 64 * (m % 1440 + 1)
f = d[o:o + 64].split()
ok = len(f) == 4 and all(x.isdigit() for x in f) and int(f[0]) == m
print(" ".join(x.decode() for x in f[1:]) if ok else "missing")
PY
}
# run_at MINUTE: relay-send -1 as if it were 20 s into that minute
run_at() { RELAY_HISTORY_TIME=$(( $1 * 60 + 20 )) run relay-send -1 -w 2; }
to() { printf 'Subject: h\n\nbody\n' | relay-inject -f s@example.org "$1"; }

@test "relay-send writes each configured relay's delivered, deferred and failed counts and the queue per minute (faked minutes), and adds a restart's counts to its minute" {
	start_server; A=$PORT
	start_server --rcpt-reply 'later@b.example=451 4.3.0 try later' --rcpt-reply 'bad@b.example=550 5.1.1 no such user'; B=$PORT
	printf 'pa failover 127.0.0.1:%s\npb failover 127.0.0.1:%s\n' "$A" "$B" >> "$RELAY_HOME/etc/pools"
	printf 'to:b.example pb\ndefault pa\n' >> "$RELAY_HOME/etc/routes"
	relay-config -d "$RELAY_HOME"
	m=$(( $(date +%s) / 60 - 10 ))
	# minute m: two through A
	to x@a.example; to y@a.example
	run_at $m
	assert_success
	# minute m+1: three through A; through B one delivered, one deferred, one failed (its DSN is queued)
	to x@a.example; to y@a.example; to z@a.example
	to ok@b.example; to later@b.example; to bad@b.example
	run_at $((m + 1))
	assert_success
	# minute m+3: the DSN goes out through A (pa is the default); a second
	# relay-send in the same minute adds its delivery to the slot
	run_at $((m + 3))
	assert_success
	to w@a.example
	run_at $((m + 3))
	assert_success
	ra="$(H)/relay/127.0.0.1:$A" rb="$(H)/relay/127.0.0.1:$B"
	[ "$(slot "$ra" $m)" = "2 0 0" ]
	[ "$(slot "$ra" $((m + 1)))" = "3 0 0" ]
	[ "$(slot "$ra" $((m + 2)))" = missing ]
	[ "$(slot "$ra" $((m + 3)))" = "2 0 0" ]
	[ "$(slot "$rb" $((m + 1)))" = "1 1 1" ]
	[ "$(slot "$rb" $m)" = missing ]
	# the queue as each first run of a minute found it: messages, in flight, due
	# (at a start every message is on the ready list: "due" until opened)
	[ "$(slot "$(H)/queue" $m)" = "2 0 2" ]
	[ "$(slot "$(H)/queue" $((m + 1)))" = "6 0 6" ]
	# m+3: the second run (one deferred, one new) replaced the first's sample
	[ "$(slot "$(H)/queue" $((m + 3)))" = "2 0 2" ]
	# fixed size, one file per configured relay that had traffic, text lines
	for f in "$(H)/queue" "$ra" "$rb"; do [ "$(stat -c %s "$f")" -eq 92224 ]; done
	[ "$(ls "$(H)/relay" | sort)" = "$(printf '127.0.0.1:%s\n' "$A" "$B" | sort)" ]
	[ "$(head -c 29 "$(H)/queue")" = "relay-history 1 queue 1440 64" ]
	[ "$(grep -cv '^ *$' "$ra")" -eq 4 ]   # the header and three minutes
}

@test "a truncated, torn or foreign history file is not fatal: relay-send makes it again whole and keeps counting" {
	start_server; A=$PORT
	printf 'pa failover 127.0.0.1:%s\n' "$A" >> "$RELAY_HOME/etc/pools"
	printf 'default pa\n' >> "$RELAY_HOME/etc/routes"
	relay-config -d "$RELAY_HOME"
	m=$(( $(date +%s) / 60 - 10 ))
	to x@a.example
	run_at $m
	assert_success
	ra="$(H)/relay/127.0.0.1:$A"
	truncate -s 1000 "$ra"
	printf 'garbage' > "$(H)/queue"
	to y@a.example
	run_at $((m + 1))
	assert_success
	refute_output --partial 'history'
	[ "$(stat -c %s "$ra")" -eq 92224 ]
	[ "$(slot "$ra" $((m + 1)))" = "1 0 0" ]
	[ "$(slot "$ra" $m)" = missing ]
	[ "$(slot "$(H)/queue" $((m + 1)))" = "1 0 1" ]
	# a torn slot (bytes of a write cut short) is missing, not a crash, and
	# the next write of that minute replaces it
	printf '\377\000x' | dd of="$ra" bs=1 seek=$(( 64 * ((m + 1) % 1440 + 1) + 5 )) conv=notrunc 2>/dev/null
	[ "$(slot "$ra" $((m + 1)))" = missing ]
	to z@a.example
	run_at $((m + 1))
	assert_success
	[ "$(slot "$ra" $((m + 1)))" = "1 0 0" ]
}
