#!/usr/bin/env bats
# not tested: prose that no program or table can check (what a paragraph claims about behaviour); the comments relay-config init writes into etc/settings; the dependency lists of INSTALL and scripts/install-deps against each other.
load helper

# The docs against the code: each test reads what the code knows (its
# usage line, its tables, the events it logs, the files that exist) and
# fails when a doc leaves it out or names what is not there. lib/ is
# searched recursively, so code may move between files of a wing.

ROOT="$BATS_TEST_DIRNAME/.."

# The settings table: NAME DEFAULT (or "-" for none), one a line, from
# every { "name", TYPE, "default" | NULL } row in lib/ (the table of
# etc/settings in conf/; wherever it moves, its rows keep that form).
code_settings() {
	python3 - "$ROOT/lib" <<'EOF'
import re, sys, pathlib
row = re.compile(r'\{\s*"([a-z][a-z0-9_]*)"\s*,\s*[A-Z][A-Z0-9_]*\s*,\s*(NULL|"([^"]*)")')
seen = {}
for f in sorted(pathlib.Path(sys.argv[1]).rglob("*.c")):
    for m in row.finditer(f.read_text(errors="replace")):
        seen.setdefault(m.group(1), m.group(3) if m.group(3) is not None else "-")
for k, v in seen.items():
    print(k, v)
EOF
}

# The entries of relay-config.8's etc/settings section: NAME<TAB>TEXT.
man_settings() {
	python3 - "$ROOT/doc/relay-config.8" <<'EOF'
import re, sys
s = open(sys.argv[1]).read()
sec = s[s.index(".SS etc/settings"):]
sec = sec[:sec.index("\n.SS", 1)]
for e in sec.split("\n.TP\n")[1:]:
    lines = e.split("\n")
    name = re.sub(r"^\.B\s+", "", lines[0]).strip()
    text = " ".join(l for l in lines[1:] if not l.startswith(".") or l.startswith((".B", ".I")))
    text = re.sub(r"\\f[BIRP]", "", re.sub(r"^\.[BI]+ ", "", text))
    print(name + "\t" + re.sub(r"\s+", " ", text))
EOF
}

@test "every setting the code knows is in relay-config.8 with its real default, and no other" {
	run code_settings
	assert_success
	echo "$output"
	[ "$(echo "$output" | wc -l)" -ge 8 ]   # the table was found ...
	echo "$output" | grep -q '^hostname -$'  # ... and it is this table
	code="$output"
	run man_settings
	assert_success
	man="$output"
	while read -r name dflt; do
		entry=$(echo "$man" | awk -F'\t' -v n="$name" '$1 == n {print $2}')
		[ -n "$entry" ] || { echo "relay-config.8 lacks the setting $name"; return 1; }
		echo "$entry" | grep -q 'Default' || { echo "$name: no default documented"; return 1; }
		if [ "$dflt" != - ]; then
			echo "$entry" | grep -Eq "Default:? $dflt([^0-9a-z]|\$)" ||
				{ echo "$name: the code's default is $dflt; relay-config.8 says: $entry"; return 1; }
		fi
	done <<< "$code"
	while IFS=$'\t' read -r name _; do
		echo "$code" | grep -q "^$name " || { echo "relay-config.8 documents $name, which the code does not know"; return 1; }
	done <<< "$man"
}

@test "every setting's default is a value relay-config accepts" {
	relay_home
	while read -r name dflt; do
		[ "$dflt" = - ] && continue
		printf '%s %s\n' "$name" "$dflt" >> "$RELAY_HOME/etc/settings"
	done <<< "$(code_settings)"
	run relay-config -d "$RELAY_HOME" check
	assert_success
}

@test "relay-qctl: every command of its usage is in relay-qctl.8; none is called planned" {
	run relay-qctl
	assert_failure 100
	usage=${output#*usage: relay-qctl}
	cmds=$(echo "$usage" | sed 's/\[[^]]*\]//g' | tr '| ' '\n\n' | grep -E '^[a-z]+$' | sort -u)
	[ "$(echo "$cmds" | wc -l)" -ge 7 ]
	for c in $cmds; do
		grep -Eq "^\.BI? \"?$c\b" "$ROOT/doc/relay-qctl.8" ||
			{ echo "relay-qctl.8 does not describe $c"; return 1; }
	done
	! grep -qi 'planned' "$ROOT/doc/relay-qctl.8"
	! grep -qi 'changes nothing' "$ROOT/doc/relay-qctl.8"
}

@test "every option in a program's usage is in its man page" {
	for p in relay-config relay-qctl relay-bounce relay-dkim relay-health relay-send; do
		run "$p" --no-such-option
		[ "$status" -ne 0 ]    # 100, or 3 (UNKNOWN) for relay-health
		opts=$(echo "$output" | grep -oE '(^|[[ ])--?[a-zA-Z0-9][a-z0-9-]*' | sed 's/^[[ ]//' | sort -u)
		for o in $opts; do
			roff=$(printf '%s' "$o" | sed 's/-/\\\\-/g')
			grep -q -- "$roff" "$ROOT/doc/$p.8" || grep -q -- "$o" "$ROOT/doc/$p.8" ||
				{ echo "doc/$p.8 does not mention $o"; return 1; }
		done
	done
}

# Every event name relay-send can log: the literals given to ev_begin(),
# and, where ev_begin() gets a parameter, the literals its callers pass.
code_events() {
	python3 - "$ROOT/lib" <<'EOF'
import re, sys, pathlib
src = {f: f.read_text(errors="replace") for f in pathlib.Path(sys.argv[1]).rglob("*.c")}
lit = re.compile(r'"([a-z][a-z0-9_]*)"')
events, wrappers = set(), set()
for f, s in src.items():
    for m in re.finditer(r'\bev_begin\s*\(([^;]*)\)\s*;', s):
        arg = m.group(1).strip()
        found = lit.findall(arg)
        if found:
            events.update(found)
        elif re.fullmatch(r'[A-Za-z_]\w*', arg):
            head = s[:m.start()]
            d = list(re.finditer(r'\n\w[^\n;]*?\b(\w+)\s*\([^)]*\bconst\s+char\s*\*\s*' + arg + r'\b', head))
            if d:
                wrappers.add(d[-1].group(1))
for w in wrappers:
    for s in src.values():
        for m in re.finditer(r'\b' + w + r'\s*\(([^,;]*),', s):
            events.update(lit.findall(m.group(1)))
print("\n".join(sorted(events)))
EOF
}

@test "every event relay-send logs is in relay-send.8" {
	run code_events
	assert_success
	echo "$output"
	[ "$(echo "$output" | wc -l)" -ge 15 ]   # the events were found
	# the paragraph that lists them, without font changes
	para=$(sed -n '/^\.B Events\./,/^\.\(PP\|SH\)/p' "$ROOT/doc/relay-send.8" | sed 's/\\f[BIRP]//g')
	[ -n "$para" ]
	for e in $output; do
		echo "$para" | grep -Eq "(^|[^a-z_])$e([^a-z_]|\$)" ||
			{ echo "the Events paragraph of relay-send.8 does not list $e"; return 1; }
	done
}

# Every "item N", "items N, M", "items N-M" and "promise PN" cited in the
# repository, one a line (N or PN).
citations() {
	python3 - "$ROOT" <<'EOF'
import re, sys, pathlib
root = pathlib.Path(sys.argv[1])
files = [root / "README", root / "INSTALL"]
for d in ("lib", "cmd", "tests", "scripts", "doc", "fuzz", "bench"):
    files += [p for p in (root / d).rglob("*") if p.is_file() and "data" not in p.relative_to(root).parts]
out = set()
for f in files:
    try:
        s = f.read_text()
    except (UnicodeDecodeError, OSError):
        continue
    for m in re.finditer(r'\bitems? ([0-9]+(?:\s*(?:,|-|and)\s*[0-9]+)*)', s):
        for part in re.split(r'\s*(?:,|and)\s*', m.group(1)):
            if "-" in part:
                a, b = (int(x) for x in part.split("-"))
                out.update(str(i) for i in range(a, b + 1))
            else:
                out.add(part.strip())
    for m in re.finditer(r'\bpromises? (P[0-9]+(?:\s*(?:,|and)\s*P[0-9]+)*)', s):
        out.update(re.findall(r'P[0-9]+', m.group(1)))
print("\n".join(sorted(out, key=lambda x: (x[0] == "P", int(x.lstrip("P"))))))
EOF
}

@test "every catalogue item cited in the repository is a heading of doc/hostile-inputs.md" {
	run citations
	assert_success
	[ "$(echo "$output" | wc -l)" -ge 30 ]   # the citations were found
	for n in $output; do
		grep -q "^### $n\. " "$ROOT/doc/hostile-inputs.md" ||
			{ echo "doc/hostile-inputs.md has no item $n"; return 1; }
	done
}

@test "doc/hostile-inputs.md numbers items 1..79 and P1..P4 once each, and names only tests that exist" {
	f="$ROOT/doc/hostile-inputs.md"
	[ "$(grep -cE '^### [0-9]+\. ' "$f")" -eq 79 ]
	for n in $(seq 79) P1 P2 P3 P4; do
		[ "$(grep -c "^### $n\. " "$f")" -eq 1 ] || { echo "item $n: not exactly one heading"; return 1; }
	done
	grep -oE '^- tests/[a-z0-9-]+\.bats: "[^"]+"' "$f" | sort -u > "$BATS_TEST_TMPDIR/named"
	[ "$(wc -l < "$BATS_TEST_TMPDIR/named")" -ge 50 ]
	while IFS= read -r line; do
		file=${line#- }; file=${file%%:*}
		name=${line#*: \"}; name=${name%\"}
		grep -qF "@test \"$name\" {" "$ROOT/$file" || { echo "no such test in $file: $name"; return 1; }
	done < "$BATS_TEST_TMPDIR/named"
}

@test "every lib/, tests/ and scripts/ path named in doc/, README and INSTALL exists" {
	cd "$ROOT"
	# a path of the source tree, not a system path such as /usr/lib/sendmail
	paths=$(grep -ohE '(^|[^/A-Za-z0-9_.-])(lib|tests|scripts)/[A-Za-z0-9_./-]*[A-Za-z0-9_/]' doc/* README INSTALL |
		sed -E 's#^[^lts]*##' | sort -u)
	[ -n "$paths" ]
	for p in $paths; do
		[ -e "$p" ] || { echo "named in the docs but missing: $p ($(grep -lF "$p" doc/* README INSTALL | tr '\n' ' '))"; return 1; }
	done
}
