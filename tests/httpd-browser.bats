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

@test "the status page in headless Chromium: after its script ran, the plots have their series, the relay table its rows, the queue its numbers; a screenshot is kept" {
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
assert names == ["queued", "deferred", "delivered", "deferred"], names
assert p.series[0][1] >= 2 and p.series[2][1] == 60, p.series
assert p.ids["queued"] == "2" and p.ids["deferred"] == "0", p.ids
relays = [r for r in p.rows if r[0] == "relay"]
assert [r[2] for r in relays] == ["127.0.0.1:2525", "127.0.0.1:2526"] and [r[3] for r in relays] == ["up", "down"], relays
tp = [r for r in p.rows if r[0] == "throughput"]
assert tp == [["throughput", "127.0.0.1:2525", "13", "4", "1"]], tp
PY
	# the artefact: $RELAY_ARTEFACTS (default build/artefacts)/httpd-status-page.png
	browse --screenshot="$HT/page.png" --window-size=900,1000 "$URL/"
	[ -s "$HT/page.png" ]
	a=${RELAY_ARTEFACTS:-$RELAY_BUILD/artefacts}
	mkdir -p "$a" && cp "$HT/page.png" "$a/httpd-status-page.png"
}
