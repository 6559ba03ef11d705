#!/usr/bin/env bats
# not tested: the page's look (a screenshot is kept, not compared); the 10 s refresh (it would need time: the DOM after the first poll is checked).
load helper
load httpd_helper

setup() {
	command -v chromium >/dev/null || skip "needs chromium (Debian chromium)"
	httpd_home
	newkey app1
}
teardown() { httpd_stop; }

# chromium as root needs --no-sandbox; a profile of its own per test
browse() {
	timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run \
		--user-data-dir="$HT/profile" --virtual-time-budget=5000 "$@" 2>/dev/null
}

@test "the status page in headless Chromium: after its script ran, the plots have their series, the relay table its rows, the queue its numbers, the oldest message and the last events; a screenshot is kept" {
	mkdir -p "$RELAY_HOME/state/health" "$RELAY_HOME/state/counters/relay"
	now=$(date +%s)
	printf 'RH1 %s 60\nmain 127.0.0.1:2525 up %s ok\nmain 127.0.0.1:2526 down %s connect\n' "$now" "$now" "$now" \
		> "$RELAY_HOME/state/health/status"
	printf 'RC1\n%s 4 1 0\n%s 9 3 1\n' $((now / 60 - 2)) $((now / 60)) > "$RELAY_HOME/state/counters/relay/127.0.0.1:2525"
	httpd_start -i 1
	for i in 1 2; do
		post '{"from": "a@example.com", "to": ["r@example.net"], "text": "hi"}'
		[ "$CODE" = 202 ]
	done
	# two samples in the ring, the second one after the messages
	wait_for sh -c "curl -s '$URL/v1/status' | python3 -c 'import json,sys; h=json.load(sys.stdin)[\"history\"]; sys.exit(not (len(h) >= 2 and h[-1][1] == 2))'"
	browse --dump-dom "$URL/" > "$HT/dom.html"
	python3 - "$HT/dom.html" <<'PY'
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(s):
        super().__init__(); s.series = []; s.rows = []; s.ids = {}; s.cur = None; s.tr = None
    def handle_starttag(s, t, a):
        a = dict(a)
        if t == "polyline" and a.get("class") == "series":
            s.series.append((a["data-name"], int(a["data-points"]), a["points"]))
        if t == "tr" and a.get("class") in ("relay", "throughput"):
            s.tr = [a["class"]]; s.rows.append(s.tr)
        if t == "span" and "id" in a:
            s.cur = a["id"]
        if t == "td" and s.tr is not None:
            s.cur = "td"
    def handle_endtag(s, t):
        if t == "tr": s.tr = None
        s.cur = None
    def handle_data(s, d):
        if s.cur == "td" and s.tr is not None: s.tr.append(d)
        elif s.cur: s.ids[s.cur] = d
p = P(); p.feed(open(sys.argv[1]).read())
names = [x[0] for x in p.series]
assert names == ["queued", "deferred", "delivered", "deferred", "127.0.0.1:2525"], names
assert p.series[4][1] == 60, p.series[4]
assert p.series[0][1] >= 2 and p.series[2][1] == 60, p.series
assert p.ids["queued"] == "2" and p.ids["deferred"] == "0", p.ids
relays = [r for r in p.rows if r[0] == "relay"]
assert [r[2] for r in relays] == ["127.0.0.1:2525", "127.0.0.1:2526"] and [r[3] for r in relays] == ["up", "down"], relays
tp = [r for r in p.rows if r[0] == "throughput"]
assert tp == [["throughput", "127.0.0.1:2525", "13", "4", "1"]], tp
PY
	# the oldest message and the last events: relay-send defers both (a
	# closed port) and spools its events; the page lists them
	id=$(ls "$RELAY_HOME"/queue/msg/*/ | grep -E "^[0-9a-f]{13}\." | sort | head -1)
	mkdir -p "$RELAY_HOME/state/events"
	echo "main failover 127.0.0.1:1" >> "$RELAY_HOME/etc/pools"
	echo "default main" >> "$RELAY_HOME/etc/routes"
	relay-config -d "$RELAY_HOME" >/dev/null
	run relay-send -1
	chown -R 65534:65534 "$RELAY_HOME/queue" "$RELAY_HOME/state"
	wait_for sh -c "curl -s '$URL/v1/status' | python3 -c 'import json,sys; e=json.load(sys.stdin)[\"events\"]; sys.exit(not [x for x in e if x.get(\"event\") == \"deferred\"])'"
	browse --dump-dom "$URL/" > "$HT/dom2.html"
	python3 - "$HT/dom2.html" "$id" <<'PY'
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(s):
        super().__init__(); s.rows = []; s.tr = None; s.td = False; s.span = None; s.ids = {}
    def handle_starttag(s, t, a):
        a = dict(a)
        if t == "tr" and a.get("class") == "event": s.tr = []; s.rows.append(s.tr)
        if t == "td" and s.tr is not None: s.td = True; s.tr.append("")
        if t == "span" and "id" in a: s.span = a["id"]
    def handle_endtag(s, t):
        if t == "tr": s.tr = None
        s.td = False; s.span = None
    def handle_data(s, d):
        if s.td and s.tr is not None: s.tr[-1] += d
        elif s.span: s.ids[s.span] = d
p = P(); p.feed(open(sys.argv[1]).read())
assert p.ids["oldest"].startswith(sys.argv[2] + ", "), (p.ids["oldest"], sys.argv[2])
def_rows = [r for r in p.rows if r[1] == "deferred"]
assert len(def_rows) == 2 and {r[3] for r in def_rows} == {"r@example.net"}, p.rows
assert len(p.rows) <= 20
PY
	# the artefact: $RELAY_ARTEFACTS (default build/artefacts)/httpd-status-page.png
	browse --screenshot="$HT/page.png" --window-size=900,1000 "$URL/"
	[ -s "$HT/page.png" ]
	a=${RELAY_ARTEFACTS:-$RELAY_BUILD/artefacts}
	mkdir -p "$a" && cp "$HT/page.png" "$a/httpd-status-page.png"
}
