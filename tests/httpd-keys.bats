#!/usr/bin/env bats
# not tested: a table rewritten in place with the same size within one mtime tick (relay-config always compiles by rename: a new inode); a read error of etc/apikeys.cdb (503: httpd.bats).
load helper
load smtp_helper
load httpd_helper

setup() { httpd_home; }
teardown() { httpd_stop; stop_servers; }

msg='{"from": "a@example.com", "to": ["r@example.net"], "subject": "k", "text": "hi\n"}'

@test "etc/apikeys.cdb kept open between requests: a key added, a key removed and the table removed take effect without a restart" {
	newkey one
	one=$TOK
	httpd_start
	post "$msg"
	[ "$CODE" = 202 ]
	post "$msg"      # the table as read for the first request
	[ "$CODE" = 202 ]
	newkey two       # compiled while relay-httpd runs
	two=$TOK
	post "$msg"
	[ "$CODE" = 202 ]
	TOK=$one
	post "$msg"
	[ "$CODE" = 202 ]
	# key one goes: its line out, the table compiled again
	sed -i '/^one /d' "$RELAY_HOME/etc/apikeys"
	relay-config -d "$RELAY_HOME" >/dev/null
	post "$msg"
	[ "$CODE" = 401 ]
	TOK=$two
	post "$msg"
	[ "$CODE" = 202 ]
	# no table at all: no key is good
	rm "$RELAY_HOME/etc/apikeys.cdb"
	post "$msg"
	[ "$CODE" = 401 ]
	relay-config -d "$RELAY_HOME" >/dev/null
	post "$msg"
	[ "$CODE" = 202 ]
	[ "$(grep -c '^relay-httpd: queued ' "$HT/httpd.log")" = 6 ]
}
