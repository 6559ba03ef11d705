#!/usr/bin/env bats
# not tested: that the commands of INSTALL run as written (tests/install-e2e.bats follows them as root); prose that names a user without a command.
load helper

# What INSTALL and the manual pages tell an operator to type about users
# and cron must match the installed tree: every user they name is in the
# layout table of doc/security.md, and a cron line runs relay-health at
# the interval it records (-i, default 60 s), else state/health/status
# goes stale between runs (it is trusted for 3 intervals).
# Needs no root: it reads files only.

DOCS="$BATS_TEST_DIRNAME/../doc"
INSTALL="$BATS_TEST_DIRNAME/../INSTALL"

# the users and groups of the table (the block install-tree reads)
table_names() {
	awk '/^<!-- install-tree reads the next code block/ { armed = 1; next }
		armed && /^```/ { if (inblock) exit; inblock = 1; next }
		inblock && ($1 == "user" || $1 == "group") { print $2 }' "$DOCS/security.md"
}

# USER from each command that names one: chown USER[:GROUP], chgrp GROUP,
# setpriv --reuid USER, chpst -u USER, setuidgid USER, s6-setuidgid USER
named_users() {
	sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/"//g' "$@" |
		grep -oE '(chown( -[a-zA-Z]+)* |chgrp( -[a-zA-Z]+)* |--reuid[ =]|--regid[ =]|chpst -u |s6-setuidgid |setuidgid )[a-z_][a-z0-9_:-]*' |
		awk '{ n = $NF; sub(/^--re[ug]id=/, "", n); split(n, a, ":"); print a[1]; if (a[2] != "") print a[2] }'
}

# the cron lines: five time fields, then (system crontab) a user or the
# command; prints "STEP_SECONDS INTERVAL USER" for each line running relay-health
cron_lines() {
	sed -e 's/\\-/-/g' -e 's/\\(em/-/g' "$@" | awk '
		$0 ~ /relay-health/ && $1 ~ /^(\*|\*\/[0-9]+|[0-9,]+)$/ && $2 ~ /^[*0-9]/ && $5 ~ /^[*0-9]/ {
			step = $1 == "*" ? 60 : $1 ~ /^\*\// ? substr($1, 3) * 60 : 3600
			i = 60; user = "-"
			if ($6 !~ /relay-health/) user = $6
			for (k = 6; k <= NF; k++) if ($k == "-i") i = $(k + 1)
			print step, i, user
		}'
}

@test "every user or group a command in INSTALL or the manual pages names is in the layout table" {
	names=$(table_names)
	[ -n "$names" ]
	bad=""
	for u in $(named_users "$INSTALL" "$DOCS"/*.8); do
		[ "$u" = root ] && continue
		printf '%s\n' "$names" | grep -qx "$u" || bad="$bad $u"
	done
	[ -z "$bad" ] || { echo "not in doc/security.md's table:$bad"; false; }
}

@test "the cron lines run relay-health at least as often as the interval they record, as a user of the table" {
	names=$(table_names)
	run cron_lines "$INSTALL" "$DOCS"/*.8
	assert_success
	[ -n "$output" ]   # INSTALL has one
	while read -r step i user; do
		[ "$step" -le "$i" ] || { echo "cron every ${step}s but -i $i: state/health goes stale"; false; }
		[ "$user" = - ] || printf '%s\n' "$names" | grep -qx "$user" || { echo "cron user $user is not in the table"; false; }
	done <<< "$output"
}

@test "the cron lines name relay-health by its full path (cron's PATH has no /usr/local/bin)" {
	run sh -c 'sed "s/\\\\-/-/g" "$@" | grep -E "^[[:space:]]*(\*|\*/[0-9]+)( [^ ]+){4} .*relay-health"' sh "$INSTALL" "$DOCS"/*.8
	assert_success
	while read -r line; do
		[[ "$line" =~ [[:space:]]/[^[:space:]]*/relay-health ]] || { echo "no full path: $line"; false; }
	done <<< "$output"
}
