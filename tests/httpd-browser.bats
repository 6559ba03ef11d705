#!/usr/bin/env bats
# not tested: the page's look; the 24 h plots after real hours (relay-send's minutes are faked: RELAY_HISTORY_TIME) (a screenshot is kept, not compared); the 10 s refresh (it would need time: the DOM after the first poll is checked).
load helper
load httpd_helper
load smtp_helper

setup() {
	command -v chromium >/dev/null || skip "needs chromium (Debian chromium)"
	httpd_home
	newkey app1
}
teardown() { stop_servers; httpd_stop; }

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
	httpd_start
	for i in 1 2; do
		post '{"from": "a@example.com", "to": ["r@example.net"], "text": "hi"}'
		[ "$CODE" = 202 ]
	done
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
# issue 13: no relay-send ran, so no state/history/: the 24 h plots are empty
assert names == ["queued", "in flight", "delivered", "deferred"], names
assert p.series[0][1] == 0 and p.series[2][1] == 60, p.series
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

# dom_history DOM RELAY: the 24 h plots in the DOM, as "queue-points relay-series-points distinct-y-of-delivered"
dom_history() {
	python3 - "$1" "$2" <<'PY'
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(s):
        super().__init__(); s.svg = None; s.series = {}
    def handle_starttag(s, t, a):
        a = dict(a)
        if t == "svg": s.svg = a.get("data-relay") or a.get("id")
        if t == "polyline" and a.get("class") == "series":
            s.series.setdefault(s.svg, []).append((a["data-name"], int(a["data-points"]), a["points"]))
p = P(); p.feed(open(sys.argv[1]).read())
q = p.series["plot-queue"]; r = p.series[sys.argv[2]]
assert [x[0] for x in q] == ["queued", "in flight"], q
assert [x[0] for x in r] == ["delivered", "deferred", "failed"], r
ys = {pt.split(",")[1] for pt in r[0][2].split()}
print(q[0][1], r[0][1], r[1][1], r[2][1], len(ys))
PY
}

@test "issue 13: the 24 h plots come from relay-send's state/history/ (queue and each relay per minute) and are the same after relay-httpd restarts" {
	start_server
	echo "main failover 127.0.0.1:$PORT" >> "$RELAY_HOME/etc/pools"
	echo "default main" >> "$RELAY_HOME/etc/routes"
	relay-config -d "$RELAY_HOME" >/dev/null
	httpd_start
	m=$(( $(date +%s) / 60 ))
	for i in 1 2; do
		post '{"from": "a@example.com", "to": ["r@example.net"], "text": "hi"}'
		[ "$CODE" = 202 ]
	done
	# two hours ago two delivered, a minute ago one (faked minutes)
	RELAY_HISTORY_TIME=$(( (m - 120) * 60 + 5 )) run relay-send -1
	assert_success
	post '{"from": "a@example.com", "to": ["r@example.net"], "text": "hi"}'
	[ "$CODE" = 202 ]
	RELAY_HISTORY_TIME=$(( (m - 1) * 60 + 5 )) run relay-send -1
	assert_success
	[ "$(msgs)" -eq 3 ]
	chown -R 65534:65534 "$RELAY_HOME/queue" "$RELAY_HOME/state"
	curl -sf "$URL/v1/status" > "$HT/st.json"
	python3 - "$HT/st.json" "$m" "127.0.0.1:$PORT" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); m = int(sys.argv[2])
assert s["history"] == [[(m - 120) * 60, 2, 0, 2], [(m - 1) * 60, 1, 0, 1]], s["history"]
assert s["relay_history"] == [{"name": sys.argv[3], "per_minute": [[(m - 120) * 60, 2, 0, 0], [(m - 1) * 60, 1, 0, 0]]}], s["relay_history"]
PY
	browse --dump-dom "$URL/" > "$HT/dom1.html"
	# 2 queue samples; 1440 minutes per relay series; delivered at 0, 1 and 2
	[ "$(dom_history "$HT/dom1.html" "127.0.0.1:$PORT")" = "2 1440 1440 1440 3" ]
	# relay-httpd restarted: the same plots (nothing of them was in its memory)
	kill "$HTTPD_PID"
	wait_for gone "$HTTPD_PID"
	httpd_start
	browse --dump-dom "$URL/" > "$HT/dom2.html"
	[ "$(dom_history "$HT/dom2.html" "127.0.0.1:$PORT")" = "2 1440 1440 1440 3" ]
	# a torn and a truncated file after the restart: missing minutes, no error
	printf 'xx' | dd of="$RELAY_HOME/state/history/queue" bs=1 seek=$(( 64 * ((m - 1) % 1440 + 1) + 3 )) conv=notrunc 2>/dev/null
	truncate -s 100 "$RELAY_HOME/state/history/relay/127.0.0.1:$PORT"
	curl -sf "$URL/v1/status" > "$HT/st2.json"
	python3 - "$HT/st2.json" "$m" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); m = int(sys.argv[2])
assert s["history"] == [[(m - 120) * 60, 2, 0, 2]], s["history"]
assert s["relay_history"][0]["per_minute"] == [], s["relay_history"]
PY
	browse --dump-dom "$URL/" > "$HT/dom3.html"
	[ "$(dom_history "$HT/dom3.html" "127.0.0.1:$PORT")" = "1 1440 1440 1440 1" ]
	browse --screenshot="$HT/page24.png" --window-size=900,1400 "$URL/"
	a=${RELAY_ARTEFACTS:-$RELAY_BUILD/artefacts}
	mkdir -p "$a" && cp "$HT/page24.png" "$a/httpd-status-page-24h.png"
}
