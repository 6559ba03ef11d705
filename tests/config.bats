#!/usr/bin/env bats
# not tested: unreadable etc/ files (tests run as root), ENOSPC/EIO on write other than through RELAY_FAIL_FSYNC, two relay-config runs at once, files owned by other uids.
load helper

T_CONF() { "$RELAY_BUILD/tests/t_conf" "$@"; }

setup() {
	relay_home
	E="$RELAY_HOME/etc"
}

# A valid configuration that uses every table.
good_config() {
	cat > "$E/pools" <<'EOF'
# comment
smarthosts  failover   Smtp1.Example.net:587 smtp2.example.net:587
spread      weighted   a.example.net:2525*3   b.example.net
direct	failover	mx
EOF
	cat > "$E/routes" <<'EOF'
from:Alerts@Example.COM  direct
from:@example.com        smarthosts
class:Bulk               spread
to:example.org           direct
default                  smarthosts
EOF
	printf 'smtp1.example.net:587  relayuser  correct horse  battery\n' > "$E/auth"
	chmod 600 "$E/auth"
	cat > "$E/tls" <<'EOF'
smtp1.example.net:587   verify
smtp2.example.net:587   verify ca=/etc/ssl/certs/ca-certificates.crt
example.org             Encrypt
EOF
	: > "$E/dkim.rsa"
	: > "$E/dkim.ed"
	chmod 600 "$E/dkim.rsa" "$E/dkim.ed"
	cat > "$E/dkim" <<'EOF'
example.com  rsa2026  dkim.rsa
Example.com  ed2026   dkim.ed  ed25519-sha256
EOF
	cat > "$E/limits" <<'EOF'
smtp1.example.net:587  rate=100/m concurrency=10
gmail.com              concurrency=5
EOF
	cat > "$E/retry" <<'EOF'
transactional  schedule=30s,60s,5m  lifetime=1d
bulk           lifetime=2d
EOF
	cat >> "$E/settings" <<'EOF'
helo        Relay.Test
postmaster  postmaster@relay.test
maxsize     1048576
concurrency 10
bounce_delay_warning 0s
EOF
}

cdb_sums() { (cd "$E" && sha256sum *.cdb); }

# Replace one table with the given lines and run "relay-config check".
check_with() {
	local table=$1; shift
	printf '%s\n' "$@" > "$E/$table"
	[ "$table" != auth ] || chmod 600 "$E/auth"
	run relay-config -d "$RELAY_HOME" check
}

@test "init makes etc, queue and state with the documented modes" {
	d="$BATS_TEST_TMPDIR/new"
	run relay-config init "$d"
	assert_success
	assert_output ""
	[ "$(stat -c %a "$d/etc")" = 755 ]
	[ "$(stat -c %a "$d/queue")" = 750 ]
	[ "$(stat -c %a "$d/queue/tmp")" = 700 ]
	[ "$(stat -c %a "$d/state")" = 750 ]
	for s in msg info hold corrupt; do [ "$(stat -c %a "$d/queue/$s")" = 750 ]; done
	for t in pools routes auth tls dkim limits retry settings; do
		[ -f "$d/etc/$t" ] && [ -f "$d/etc/$t.cdb" ]
		# examples only: nothing but comments
		! grep -v '^#' "$d/etc/$t"
	done
	[ "$(stat -c %a "$d/etc/auth")" = 600 ]
	[ "$(stat -c %a "$d/etc/auth.cdb")" = 600 ]
	[ "$(stat -c %a "$d/etc/pools.cdb")" = 644 ]
	for s in msg info; do
		[ "$(ls "$d/queue/$s" | wc -l)" -eq 256 ]
		[ "$(ls "$d/queue/$s" | head -1)" = 00 ]
		[ "$(ls "$d/queue/$s" | tail -1)" = ff ]
		[ -z "$(ls "$d/queue/$s" | grep -v '^[0-9a-f][0-9a-f]$')" ]
		[ "$(stat -c %a "$d/queue/$s/a7")" = 750 ]
	done
	grep -q "^#hostname *$(hostname)\$" "$d/etc/settings"
	[ -z "$(find "$d/queue/tmp" "$d/queue/hold" "$d/queue/corrupt" "$d/state" -mindepth 1)" ]
}

@test "init under a restrictive umask still gives the documented modes" {
	d="$BATS_TEST_TMPDIR/new"
	(umask 077 && relay-config init "$d")
	[ "$(stat -c %a "$d/etc")" = 755 ]
	[ "$(stat -c %a "$d/queue/msg/00")" = 750 ]
	[ "$(stat -c %a "$d/etc/pools")" = 644 ]
}

@test "init refuses a home that has tables; -f adds only what is missing" {
	run relay-config init "$RELAY_HOME"
	assert_failure 100
	assert_output --partial "already has tables"
	echo 'p failover a.example' > "$E/pools"
	rm "$E/limits" "$E/limits.cdb"
	rmdir "$RELAY_HOME/queue/msg/ff"
	run relay-config init -f "$RELAY_HOME"
	assert_success
	[ "$(cat "$E/pools")" = 'p failover a.example' ]
	grep -q '^# etc/limits' "$E/limits"
	[ -d "$RELAY_HOME/queue/msg/ff" ]
	run T_CONF dump "$RELAY_HOME" pools
	assert_output "$(printf 'p\tfailover a.example:25')"
}

@test "relay_home's hostname line compiles into settings.cdb" {
	run T_CONF get "$RELAY_HOME" settings hostname
	assert_success
	assert_output relay.test
}

@test "a valid config compiles to canonical values" {
	good_config
	run relay-config -d "$RELAY_HOME"
	assert_success
	assert_output ""
	run T_CONF dump "$RELAY_HOME" pools
	assert_output "$(printf '%s\n' \
		$'smarthosts\tfailover smtp1.example.net:587 smtp2.example.net:587' \
		$'spread\tweighted a.example.net:2525*3 b.example.net:25*1' \
		$'direct\tfailover mx')"
	run T_CONF dump "$RELAY_HOME" routes
	assert_output "$(printf '%s\n' $'from:alerts@example.com\tdirect' $'from:@example.com\tsmarthosts' \
		$'class:bulk\tspread' $'to:example.org\tdirect' $'default\tsmarthosts')"
	run T_CONF dump "$RELAY_HOME" auth
	assert_output $'smtp1.example.net:587\trelayuser correct horse  battery'
	run T_CONF dump "$RELAY_HOME" tls
	assert_output "$(printf '%s\n' $'smtp1.example.net:587\tverify' \
		$'smtp2.example.net:587\tverify ca=/etc/ssl/certs/ca-certificates.crt' $'example.org\tencrypt')"
	run T_CONF get "$RELAY_HOME" dkim example.com
	assert_output "$(printf '%s\n' 'rsa2026 dkim.rsa rsa-sha256' 'ed2026 dkim.ed ed25519-sha256')"
	run T_CONF dump "$RELAY_HOME" limits
	assert_output "$(printf '%s\n' $'smtp1.example.net:587\tconcurrency=10 rate=100/m' $'gmail.com\tconcurrency=5')"
	run T_CONF dump "$RELAY_HOME" retry
	assert_output "$(printf '%s\n' $'transactional\tschedule=30s,1m,5m lifetime=1d' \
		$'bulk\tschedule=30m,1h,2h,4h,8h lifetime=2d')"
	run T_CONF dump "$RELAY_HOME" settings
	assert_output "$(printf '%s\n' $'hostname\trelay.test' $'helo\trelay.test' \
		$'postmaster\tpostmaster@relay.test' $'maxsize\t1048576' $'concurrency\t10' $'bounce_delay_warning\t0s')"
	# the version record, key "" value "1"
	run T_CONF get "$RELAY_HOME" limits ""
	assert_output 1
	[ "$(stat -c %a "$E/auth.cdb")" = 600 ]
}

@test "routes are looked up from:user, from:@domain, class:, to:, default" {
	good_config
	relay-config -d "$RELAY_HOME"
	run T_CONF route "$RELAY_HOME" ALERTS@example.com bulk example.org
	assert_output direct
	run T_CONF route "$RELAY_HOME" bob@example.com bulk example.org
	assert_output smarthosts
	run T_CONF route "$RELAY_HOME" bob@other.example Bulk example.org
	assert_output spread
	run T_CONF route "$RELAY_HOME" "" "" example.org
	assert_output direct
	run T_CONF route "$RELAY_HOME" "" "" example.net
	assert_output smarthosts
	sed -i '/^default/d' "$E/routes"
	relay-config -d "$RELAY_HOME" 2>/dev/null
	run T_CONF route "$RELAY_HOME" "" "" example.net
	assert_output "(mx)"
}

@test "the RELAY_HOME environment variable names the home" {
	echo 'envpool failover a.example' > "$E/pools"
	run relay-config
	assert_success
	run T_CONF dump "$RELAY_HOME" pools
	assert_output --partial envpool
}

@test "pools: unknown strategy" {
	check_with pools '# one' 'p1 failover a.example' 'p2 fastest a.example'
	assert_failure 100
	assert_line 'relay-config: error: etc/pools:3: unknown strategy "fastest" (want failover, roundrobin or weighted)'
}

@test "pools: bad ports" {
	check_with pools 'p1 failover a.example:0' 'p2 failover a.example:65536' 'p3 failover a.example:x' 'p4 failover a.example:65535'
	assert_failure 100
	assert_line 'relay-config: error: etc/pools:1: bad port "0" (want 1..65535)'
	assert_line 'relay-config: error: etc/pools:2: bad port "65536" (want 1..65535)'
	assert_line 'relay-config: error: etc/pools:3: bad port "x" (want 1..65535)'
	refute_output --partial 'pools:4'
}

@test "pools: non-positive weights and weights without weighted" {
	check_with pools 'p1 weighted a.example*0' 'p2 weighted a.example*-2' 'p3 failover a.example*2'
	assert_failure 100
	assert_line 'relay-config: error: etc/pools:1: member "a.example": bad weight "0" (want 1..1000000)'
	assert_line 'relay-config: error: etc/pools:2: member "a.example": bad weight "-2" (want 1..1000000)'
	assert_line 'relay-config: error: etc/pools:3: member "a.example": a *weight needs strategy weighted'
}

@test "pools: duplicate names, duplicate members, no members, bad hosts" {
	check_with pools 'p1 failover a.example' 'P1 failover b.example' 'p2 failover a.example a.example:25' \
		'p3 failover' 'p4 failover bad_host.example' 'p5 failover [::zz]:25' 'bad/name failover a.example'
	assert_failure 100
	assert_line 'relay-config: error: etc/pools:2: duplicate key "p1" (first on line 1)'
	assert_line 'relay-config: error: etc/pools:3: duplicate member "a.example:25"'
	assert_line 'relay-config: error: etc/pools:4: no members (want host[:port][*weight] or mx)'
	assert_line "relay-config: error: etc/pools:5: bad host name \"bad_host.example\" (character '_')"
	assert_line 'relay-config: error: etc/pools:6: bad IPv6 address "[::zz]"'
	assert_line 'relay-config: error: etc/pools:7: bad name "bad/name" (use letters, digits, . _ -)'
	assert_line 'relay-config: 6 errors; no table was written'
}

@test "routes: unknown key, missing pool, two pools; no default route is a warning" {
	echo 'p1 failover a.example' > "$E/pools"
	check_with routes 'sender:x@y p1' 'to:example.org nopool' 'class:bulk p1 p2' 'from:bob p1' 'to:example.net P1'
	assert_failure 100
	assert_line 'relay-config: error: etc/routes:1: unknown route key "sender:x@y" (want from:, class:, to: or default)'
	assert_line 'relay-config: error: etc/routes:2: no pool "nopool" in etc/pools'
	assert_line 'relay-config: error: etc/routes:3: more than one pool after the key'
	assert_line 'relay-config: error: etc/routes:4: bad sender "bob" (want from:user@domain or from:@domain)'
	printf 'to:example.net p1\n' > "$E/routes"
	run relay-config -d "$RELAY_HOME"
	assert_success
	assert_output "relay-config: warning: etc/routes: no default route: mail that matches no route is delivered directly to the recipient's MX"
}

@test "auth: a file readable by group or others is refused, and so is a missing password" {
	printf 'a.example:587 user secret\n' > "$E/auth"
	chmod 640 "$E/auth"
	run relay-config -d "$RELAY_HOME" check
	assert_failure 100
	assert_output --partial 'relay-config: error: etc/auth: mode 0640 is too open'
	chmod 604 "$E/auth"
	run relay-config -d "$RELAY_HOME" check
	assert_failure 100
	chmod 400 "$E/auth"
	run relay-config -d "$RELAY_HOME" check
	assert_success
	check_with auth 'a.example:587 user' 'a.example user pw' 'a.example:25 user s3cr3t-pw'
	assert_failure 100
	assert_line 'relay-config: error: etc/auth:1: missing password'
	assert_line 'relay-config: error: etc/auth:2: "a.example" needs a port (host:port)'
	refute_output --partial s3cr3t
}

@test "auth, tls and limits naming a relay that no pool has: a warning only" {
	echo 'p1 failover a.example:587' > "$E/pools"
	printf 'b.example:587 user pw\na.example:587 user pw\n' > "$E/auth"
	chmod 600 "$E/auth"
	printf 'b.example:465 verify smtps\nexample.org verify\n' > "$E/tls"
	printf '[::1]:25 rate=1/s\n' > "$E/limits"
	run relay-config -d "$RELAY_HOME"
	assert_success
	assert_line 'relay-config: warning: etc/auth:1: b.example:587 is not a member of any pool'
	assert_line 'relay-config: warning: etc/tls:1: b.example:465 is not a member of any pool'
	assert_line 'relay-config: warning: etc/limits:1: [::1]:25 is not a member of any pool'
	refute_output --partial 'auth:2'
	refute_output --partial 'example.org'
}

@test "tls: bad modes and options" {
	check_with tls 'a.example:25 required' 'a.example:26 may smtps' 'a.example:27 encrypt ca=x.pem' \
		'a.example:28 verify dane' 'a.example:0 verify'
	assert_failure 100
	assert_line 'relay-config: error: etc/tls:1: unknown tls mode "required" (want none, may, encrypt, verify, dane or dane-only)'
	assert_line 'relay-config: error: etc/tls:2: smtps needs mode encrypt, verify, dane or dane-only'
	assert_line 'relay-config: error: etc/tls:3: ca= needs mode verify'
	assert_line 'relay-config: error: etc/tls:4: unknown tls option "dane" (want smtps or ca=FILE)'
	assert_line 'relay-config: error: etc/tls:5: bad port "0" (want 1..65535)'
}

@test "dkim: repeated domain allowed, repeated selector and bad algorithm refused, missing key warned" {
	check_with dkim 'example.com s1 /k1' 'example.com s2 /k2 ed25519-sha256' 'example.com S1 /k3' 'example.org s1 /k4 rsa-sha1'
	assert_failure 100
	assert_line 'relay-config: error: etc/dkim:3: duplicate selector "s1" for example.com (first on line 1)'
	assert_line 'relay-config: error: etc/dkim:4: unknown algorithm "rsa-sha1" (want rsa-sha256 or ed25519-sha256)'
	assert_line 'relay-config: warning: etc/dkim:1: key file "/k1" does not exist'
	touch "$E/key.pem" && chmod 640 "$E/key.pem"
	check_with dkim 'example.com s1 key.pem'
	assert_success
	assert_output 'relay-config: warning: etc/dkim:1: key file "key.pem" is readable by group or others (mode 0640)'
}

@test "limits: bad values" {
	check_with limits 'a.example:25 rate=10/w' 'a.example:26 concurrency=0' 'a.example:27' 'a.example:28 speed=3'
	assert_failure 100
	assert_line 'relay-config: error: etc/limits:1: bad rate "10/w" (want N/s, N/m, N/h or N/d, N 1..1000000)'
	assert_line 'relay-config: error: etc/limits:2: bad concurrency "0" (want 1..100000)'
	assert_line 'relay-config: error: etc/limits:3: no limit given (want concurrency=N, rate=N/s|N/m|N/h|N/d, quota= or ramp=)'
	assert_line 'relay-config: error: etc/limits:4: unknown limit "speed=3" (want concurrency=N, rate=N/s|N/m|N/h|N/d, quota=N/h|N/d, ramp=DATE:LIST or mx=GLOB,...)'
}

@test "retry: bad durations" {
	check_with retry 'a schedule=1m,5x' 'b lifetime=3' 'c schedule=1m,,5m' 'd lifetime=0s' 'e expire=1d' 'f lifetime=1m schedule=1h'
	assert_failure 100
	assert_line 'relay-config: error: etc/retry:1: bad duration "5x" (want a number and s, m, h, d or w)'
	assert_line 'relay-config: error: etc/retry:2: bad duration "3" (want a number and s, m, h, d or w)'
	assert_line 'relay-config: error: etc/retry:3: empty interval in schedule'
	assert_line 'relay-config: error: etc/retry:4: lifetime must be positive'
	assert_line 'relay-config: error: etc/retry:5: unknown retry field "expire=1d" (want schedule= or lifetime=)'
	assert_line 'relay-config: error: etc/retry:6: lifetime is shorter than the first retry interval'
}

@test "settings: unknown keys, duplicates, bad values" {
	printf 'colour blue\nhostname other.test\nmaxsize 10M\nsuppression_expiry 0s\npostmaster nobody\n' >> "$E/settings"
	run relay-config -d "$RELAY_HOME" check
	assert_failure 100
	n=$(grep -c '' "$E/settings")
	assert_line "relay-config: error: etc/settings:$((n-4)): unknown setting \"colour\""
	assert_line "relay-config: error: etc/settings:$((n-3)): duplicate key \"hostname\" (first on line $((n-5)))"
	assert_line "relay-config: error: etc/settings:$((n-2)): maxsize: bad size \"10M\" (want bytes, 1024..2^40)"
	assert_line "relay-config: error: etc/settings:$((n-1)): suppression_expiry: duration must be positive"
	assert_line "relay-config: error: etc/settings:$n: postmaster: bad address \"nobody\" (want user@domain)"
}

@test "over-long lines, NUL bytes, control characters and CRLF are errors" {
	long=$(head -c 5000 /dev/zero | tr '\0' a)
	printf 'p1 failover a.example\np2 failover %s\np3 failover b\0.example\np4 failover c.example\r\np5 failover d\x1b.example\n' "$long" > "$E/pools"
	run relay-config -d "$RELAY_HOME" check
	assert_failure 100
	assert_line 'relay-config: error: etc/pools:2: line longer than 4096 bytes'
	assert_line 'relay-config: error: etc/pools:3: NUL byte in line'
	assert_line 'relay-config: error: etc/pools:4: control character 0x0d in line (a CRLF line ending?)'
	assert_line 'relay-config: error: etc/pools:5: control character 0x1b in line'
	printf 'p1 failover \xc3\xa9.example\n' > "$E/pools"
	run relay-config -d "$RELAY_HOME" check
	assert_failure 100
	assert_line 'relay-config: error: etc/pools:1: non-ASCII byte in line'
}

@test "a line of exactly 4096 bytes is accepted, 4097 is not; the last line needs no newline" {
	sp() { head -c "$1" /dev/zero | tr '\0' ' '; }
	printf 'p1 failover%sa.example\np2 failover b.example' "$(sp 4077)" > "$E/pools"
	[ "$(head -1 "$E/pools" | wc -c)" -eq 4098 ]
	run relay-config -d "$RELAY_HOME"
	assert_failure 100
	assert_output 'relay-config: error: etc/pools:1: line longer than 4096 bytes
relay-config: 1 error; no table was written'
	printf 'p1 failover%sa.example\np2 failover b.example' "$(sp 4076)" > "$E/pools"
	[ "$(head -1 "$E/pools" | wc -c)" -eq 4097 ]
	run relay-config -d "$RELAY_HOME"
	assert_success
	run T_CONF dump "$RELAY_HOME" pools
	assert_output "$(printf '%s\n' $'p1\tfailover a.example:25' $'p2\tfailover b.example:25')"
}

@test "every error in every table is reported in one run" {
	echo 'p1 fastest a.example' > "$E/pools"
	echo 'default nopool' > "$E/routes"
	echo 'x.example:1 bogus' > "$E/tls"
	echo 'colour blue' >> "$E/settings"
	run relay-config -d "$RELAY_HOME"
	assert_failure 100
	assert_line --partial 'etc/pools:1: unknown strategy'
	assert_line --partial 'etc/routes:1: no pool "nopool"'
	assert_line --partial 'etc/tls:1: unknown tls mode'
	assert_line --partial 'etc/settings:'
	assert_line 'relay-config: 4 errors; no table was written'
}

@test "a failed compile leaves every old CDB untouched and no temp files" {
	good_config
	relay-config -d "$RELAY_HOME"
	before=$(cdb_sums)
	echo 'p9 fastest a.example' >> "$E/pools"
	echo 'extra.example:1 none' >> "$E/tls"
	run relay-config -d "$RELAY_HOME"
	assert_failure 100
	[ "$(cdb_sums)" = "$before" ]
	[ -z "$(ls "$E" | grep tmp)" ]
}

@test "check writes nothing" {
	good_config
	before=$(cdb_sums)
	run relay-config -d "$RELAY_HOME" check
	assert_success
	[ "$(cdb_sums)" = "$before" ]
	[ -z "$(ls "$E" | grep tmp)" ]
}

@test "a missing table file is an empty table" {
	rm "$E/limits" "$E/dkim"
	run relay-config -d "$RELAY_HOME"
	assert_success
	[ -f "$E/limits.cdb" ]
	run T_CONF dump "$RELAY_HOME" limits
	assert_success
	assert_output ""
}

@test "an fsync failure exits 111 and leaves the old CDBs" {
	good_config
	relay-config -d "$RELAY_HOME"
	before=$(cdb_sums)
	echo 'p9 failover z.example' >> "$E/pools"
	RELAY_FAIL_FSYNC=1 run relay-config -d "$RELAY_HOME"
	assert_failure 111
	assert_output --partial 'relay-config: warning: unable to write etc/pools.cdb.tmp'
	[ "$(cdb_sums)" = "$before" ]
	[ -z "$(ls "$E" | grep tmp)" ]
}

@test "killed between renames: every CDB is whole, old or new" {
	good_config
	relay-config -d "$RELAY_HOME"
	echo 'p9 failover z.example' >> "$E/pools"
	RELAY_CRASH_AT=config-rename run relay-config -d "$RELAY_HOME"
	[ "$status" -eq 137 ]
	for t in pools routes auth tls dkim limits retry settings; do
		T_CONF dump "$RELAY_HOME" $t >/dev/null
	done
	T_CONF dump "$RELAY_HOME" pools | grep -q '^p9'
	# the temp files left by the kill are ignored and overwritten later
	run relay-config -d "$RELAY_HOME"
	assert_success
}

@test "usage errors exit 100; a missing home exits 111" {
	run relay-config bogus
	assert_failure 100
	assert_output --partial 'usage:'
	run relay-config init
	assert_failure 100
	run relay-config -x
	assert_failure 100
	run relay-config -d "$RELAY_HOME" init "$RELAY_HOME"
	assert_failure 100
	run relay-config -d "$BATS_TEST_TMPDIR/nonesuch"
	assert_failure 111
	assert_output --partial 'unable to use'
}

@test "run as root, each CDB gets the owner and group of its text file" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	chown 1234:5678 "$E/auth"
	run relay-config -d "$RELAY_HOME"
	assert_success
	[ "$(stat -c '%u:%g %a' "$E/auth.cdb")" = "1234:5678 600" ]
	[ "$(stat -c '%u' "$E/pools.cdb")" = "$(stat -c '%u' "$E/pools")" ]
}

@test "a table that is not a regular file (a FIFO, a directory) is an error, not a hang" {
	rm "$E/limits" && mkfifo "$E/limits"
	rm "$E/retry" && mkdir "$E/retry"
	run timeout 10 relay-config -d "$RELAY_HOME" check
	assert_failure 100
	assert_line 'relay-config: error: etc/limits: not a regular file'
	assert_line 'relay-config: error: etc/retry: not a regular file'
}
