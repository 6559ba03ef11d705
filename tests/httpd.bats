#!/usr/bin/env bats
# not tested: TLS (relay-httpd has none: a TLS proxy in front, relay-httpd.8); GET /v1/messages/ID of a held message; the 24-hour ring past one sample a second (it is a ring in memory: tests/c would reach it, bench/ would fill it).
load helper
load smtp_helper
load httpd_helper

setup() { httpd_home; }
teardown() { httpd_stop; stop_servers; }

# the queued message (the data after the envelope) of the newest queue file
queued_msg() { python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); sys.stdout.buffer.write(d.split(b"\n\n",1)[1])' "$(queue_last)"; }

@test "relay-config apikey prints a token alone on stdout, stores only its SHA-256; bad fields and bad lines are file:line errors" {
	run relay-config -d "$RELAY_HOME" apikey app1 from=@example.com,x@example.org class=bulk rate=10/m
	assert_success
	assert_output --regexp '^rk_[0-9a-f]{64}$'
	tok=$output
	digest=$(printf '%s' "$tok" | sha256sum | cut -d' ' -f1)
	grep -qx "app1 $digest from=@example.com,x@example.org class=bulk rate=10/m" "$RELAY_HOME/etc/apikeys"
	! grep -q "${tok#rk_}" "$RELAY_HOME/etc/apikeys"
	! grep -aq "${tok#rk_}" "$RELAY_HOME/etc/apikeys.cdb"
	grep -aq "$digest" "$RELAY_HOME/etc/apikeys.cdb"
	run relay-config -d "$RELAY_HOME" apikey app2 from=nodomain
	assert_failure 100
	assert_output --partial 'from=: bad pattern "nodomain"'
	run relay-config -d "$RELAY_HOME" apikey app2 colour=blue
	assert_failure 100
	echo 'app3 1234' >> "$RELAY_HOME/etc/apikeys"
	run relay-config -d "$RELAY_HOME"
	assert_failure 100
	assert_line --partial "etc/apikeys:5: missing or bad token digest"
	# a broken table elsewhere: no key is added (and none printed)
	run relay-config -d "$RELAY_HOME" apikey app4
	assert_failure 100
	refute_output --regexp 'rk_'
	! grep -q '^app4 ' "$RELAY_HOME/etc/apikeys"
}

@test "relay-httpd refuses to run as root" {
	run relay-httpd -l 127.0.0.1:1
	assert_failure 100
	assert_output --partial 'refusing to run as root'
}

@test "POST /v1/messages JSON: 202 with the queue id; Python's email reads text, html, a UTF-8 subject and names, a PDF whose bytes are equal; Bcc only in the envelope; no line over 998" {
	newkey app1 from=@example.com
	httpd_start
	head -c 30000 /dev/urandom > "$HT/doc.pdf"
	long=$(printf 'x%.0s' $(seq 1 3000))
	python3 - "$HT/doc.pdf" "$long" > "$HT/msg.json" <<'PY'
import base64, json, sys
pdf = open(sys.argv[1], "rb").read()
print(json.dumps({"from": "Jörg Ünal <app@example.com>", "to": ["Zoë <r1@example.net>", "r2@example.net"],
  "cc": "c@example.net", "bcc": ["hidden@example.net"], "reply_to": "Help <help@example.com>",
  "subject": "Grüße — order № 42 " + "long words " * 20, "text": "Hello Zoë,\nline two\n" + sys.argv[2] + "\n",
  "html": "<p>Hello <b>Zoe</b></p>\r\n--=_relay_a--\r\n--=_relay_m--\r\n", "headers": {"X-Campaign": "spring", "X-Note": "café au lait"},
  "attachments": [{"filename": "invoice.pdf", "content_type": "application/pdf",
                   "content": base64.b64encode(pdf).decode()},
                  {"filename": "résumé.txt", "content_type": "text/plain", "content": base64.b64encode(b"cv\n").decode()}]}))
PY
	post "$(cat "$HT/msg.json")"
	[ "$CODE" = 202 ]
	[[ "$BODY" =~ ^\{\"id\":\ \"[0-9a-f]{13}\.[0-9a-f]{8}\"\}$ ]]
	id=$(printf '%s' "$BODY" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
	f=$(queue_last)
	[[ "$f" == *"$id" ]]
	grep -qx 'Fapp@example.com' "$f"
	grep -qx 'Thidden@example.net' "$f"
	grep -qx 'Tc@example.net' "$f"
	queued_msg > "$HT/m.eml"
	python3 - "$HT/m.eml" "$HT/doc.pdf" "$long" <<'PY'
import email, email.policy, sys
raw = open(sys.argv[1], "rb").read()
assert all(len(l) <= 998 for l in raw.split(b"\r\n")), "a line over 998"
assert all(len(l) <= 78 for l in raw.split(b"\r\n\r\n", 1)[1].split(b"\r\n")), "a body line over 78"
assert b"hidden@" not in raw and b"\r\nBcc:" not in raw.split(b"\r\n\r\n", 1)[0]
assert all(b < 128 for b in raw), "8-bit in the message"
m = email.message_from_bytes(raw, policy=email.policy.default)
assert m["Subject"].startswith("Grüße — order № 42 long words"), m["Subject"]
assert m["From"].addresses[0].display_name == "Jörg Ünal" and m["From"].addresses[0].addr_spec == "app@example.com"
assert [a.addr_spec for a in m["To"].addresses] == ["r1@example.net", "r2@example.net"]
assert m["To"].addresses[0].display_name == "Zoë"
assert m["Cc"].addresses[0].addr_spec == "c@example.net"
assert m["Reply-To"].addresses[0].addr_spec == "help@example.com"
assert m["X-Note"] == "café au lait" and m["X-Campaign"] == "spring"
assert m["Message-ID"] and m["Date"] and m["MIME-Version"] == "1.0"
assert m.get_content_type() == "multipart/mixed"
parts = list(m.iter_parts())
assert parts[0].get_content_type() == "multipart/alternative"
alt = list(parts[0].iter_parts())
assert alt[0].get_content_type() == "text/plain" and alt[0].get_content_charset() == "utf-8"
assert alt[0].get_content() .replace("\r\n", "\n") == "Hello Zoë,\nline two\n" + sys.argv[3] + "\n", repr(alt[0].get_content()[:40])
assert alt[1].get_content_type() == "text/html" and alt[1].get_content().replace("\r\n", "\n") == "<p>Hello <b>Zoe</b></p>\n--=_relay_a--\n--=_relay_m--\n"
assert parts[1].get_content_type() == "application/pdf" and parts[1].get_filename() == "invoice.pdf"
assert parts[1].get_content() == open(sys.argv[2], "rb").read(), "attachment bytes differ"
assert parts[2].get_filename() == "résumé.txt" and parts[2].get_content() == "cv\n"
PY
	grep -q "queued $id key app1 from <app@example.com> rcpts 4" "$HT/httpd.log"
}

@test "POST message/rfc822 with the envelope in the query: queued as given (Bcc dropped, Date and Message-ID added); the key's from= applies to the From: header too" {
	newkey app1 from=@example.com
	httpd_start
	printf 'From: a@example.com\r\nBcc: secret@example.net\r\nSubject: raw\r\n\r\nbody line\r\n' > "$HT/m"
	CODE=$(curl -s -o "$HT/resp" -w '%{http_code}' -H "Authorization: Bearer $TOK" -H 'Content-Type: message/rfc822' \
		--data-binary @"$HT/m" "$URL/v1/messages?from=a@example.com&to=r1@example.net&to=r2%40example.net")
	[ "$CODE" = 202 ]
	f=$(queue_last)
	grep -qx 'Tr1@example.net' "$f"
	grep -qx 'Tr2@example.net' "$f"
	! grep -q 'secret' "$f"
	grep -q '^Message-ID: ' "$f"
	grep -q $'^body line\r$' "$f"
	n=$(queue_count)
	printf 'From: other@evil.example\r\nSubject: raw\r\n\r\nx\r\n' > "$HT/m"
	CODE=$(curl -s -o "$HT/resp" -w '%{http_code}' -H "Authorization: Bearer $TOK" -H 'Content-Type: message/rfc822' \
		--data-binary @"$HT/m" "$URL/v1/messages?from=a@example.com&to=r1@example.net")
	[ "$CODE" = 403 ]
	grep -q 'other@evil.example' "$HT/resp"
	CODE=$(curl -s -o "$HT/resp" -w '%{http_code}' -H "Authorization: Bearer $TOK" -H 'Content-Type: message/rfc822' \
		--data-binary @"$HT/m" "$URL/v1/messages?from=a@example.com")
	[ "$CODE" = 400 ]
	grep -q '"field": "to"' "$HT/resp"
	[ "$(queue_count)" = "$n" ]
}

@test "every error has its status, names the field, and queues nothing: 400 401 403 413 415 429 503" {
	newkey app1 from=@example.com rate=3/m
	good=$TOK
	newkey other from=@other.example
	other=$TOK
	relay_setting maxsize 20000
	httpd_start
	TOK=$good
	ok='{"from": "a@example.com", "to": ["r@example.net"], "text": "hi"}'
	check() {   # check CODE FIELD-or-TEXT JSON [curl args]
		local want=$1 what=$2 json=$3; shift 3
		post "$json" "$@"
		[ "$CODE" = "$want" ] || { echo "want $want got $CODE: $BODY for $json"; return 1; }
		[[ "$BODY" == *"$what"* ]] || { echo "want $what in $BODY"; return 1; }
	}
	check 400 '"field": "message"' '{"from": '
	check 400 '"field": "to[1]"' '{"from": "a@example.com", "to": ["r@example.net", "not an address"], "text": "x"}'
	check 400 '"field": "from"' '{"to": ["r@example.net"], "text": "x"}'
	check 400 '"field": "to"' '{"from": "a@example.com", "text": "x"}'
	check 400 '"field": "attachments[0].content"' '{"from": "a@example.com", "to": "r@example.net", "attachments": [{"filename": "a", "content": "%%%not base64"}]}'
	check 400 '"field": "subject"' '{"from": "a@example.com", "to": "r@example.net", "text": "x", "subject": "hi\r\nBcc: victim@example.net"}'
	check 400 '"field": "headers.X-A"' '{"from": "a@example.com", "to": "r@example.net", "text": "x", "headers": {"X-A": "v\nBcc: victim@example.net"}}'
	check 400 '"field": "headers.Bcc"' '{"from": "a@example.com", "to": "r@example.net", "text": "x", "headers": {"Bcc": "victim@example.net"}}'
	check 400 '"field": "headers.X-A: B"' '{"from": "a@example.com", "to": "r@example.net", "text": "x", "headers": {"X-A: B": "v"}}'
	check 400 '"field": "colour"' '{"from": "a@example.com", "to": "r@example.net", "text": "x", "colour": "blue"}'
	check 400 '"field": "to[0]"' '{"from": "a@example.com", "to": ["r@example.net>\r\nRCPT TO:<x@y.z"], "text": "x"}'
	check 400 '"field": "message"' "$(printf '{"from": "a@example.com", "to": "r@example.net", "text": "\xff\xfe"}')"
	TOK=rk_0000000000000000000000000000000000000000000000000000000000000000
	check 401 'bearer token' "$ok"
	TOK=${good}x
	check 401 'bearer token' "$ok"
	TOK=$good
	CODE=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "$ok" "$URL/v1/messages")
	[ "$CODE" = 401 ]
	check 403 '"field": "from"' '{"from": "a@example.org", "to": ["r@example.net"], "text": "x"}'
	TOK=$other
	check 403 'may not send as <a@example.com>' "$ok"
	TOK=$good
	CT=text/plain check 415 'Content-Type' "$ok"
	CT='application/json; charset=utf-8' check 202 '"id"' "$ok"
	n=1
	big=$(python3 -c 'import json; print(json.dumps({"from": "a@example.com", "to": "r@example.net", "text": "y" * 100000}))')
	check 413 '"field": "message"' "$big"
	check 413 '"field": "message"' '{"from": "a@example.com", "to": "r@example.net", "text": "'"$(head -c 19000 /dev/zero | tr '\0' z)"'"}'
	[ "$(queue_count)" = 1 ]
	# the rate: three go, the fourth waits (the refusals above were given back)
	for i in 1 2; do check 202 '"id"' "$ok"; done
	check 429 'rate' "$ok"
	grep -qi '^Retry-After: [1-9]' "$HT/hdrs"
	[ "$(queue_count)" = 3 ]
}

@test "a temporary queue failure is 503 with Retry-After; a permanent one 500; nothing queued" {
	newkey app1
	mkdir "$HT/fq" && chown 65534 "$HT/fq"
	HTTPD_ENV="RELAYQUEUE=$TESTS/fake-relay-queue FAKEQ_DIR=$HT/fq FAKEQ_EXIT=53" httpd_start
	post '{"from": "a@example.com", "to": ["r@example.net"], "text": "hi"}'
	[ "$CODE" = 503 ]
	grep -qi '^Retry-After: 60' "$HT/hdrs"
	[[ "$BODY" == *"temporary queue failure"* ]]
	grep -q 'queue write error' "$HT/httpd.log"
	httpd_stop
	httpd_home
	newkey app1
	mkdir "$HT/fq" && chown 65534 "$HT/fq"
	HTTPD_ENV="RELAYQUEUE=$TESTS/fake-relay-queue FAKEQ_DIR=$HT/fq FAKEQ_EXIT=31" httpd_start
	post '{"from": "a@example.com", "to": ["r@example.net"], "text": "hi"}'
	[ "$CODE" = 500 ]
	[ "$(queue_count)" = 0 ]
}

@test "GET /healthz, /v1/status (JSON), /metrics (Prometheus text, parsed), / (the page); unknown routes 404, wrong methods 405" {
	newkey app1
	mkdir -p "$RELAY_HOME/state/health"
	printf 'RH1 %s 60\nmain 127.0.0.1:2525 up %s ok\nmain 127.0.0.1:2526 down %s connect\n' "$(date +%s)" "$(date +%s)" "$(date +%s)" \
		> "$RELAY_HOME/state/health/status"
	printf '# HELP relay_queue_messages Messages in the queue by state and class\n# TYPE relay_queue_messages gauge\nrelay_queue_messages{state="queued",class="default"} 7\n' \
		> "$RELAY_HOME/state/health/metrics.prom"
	mkdir -p "$RELAY_HOME/state/counters/relay"
	printf 'RC1\n%s 5 2 1\n' $(( $(date +%s) / 60 )) > "$RELAY_HOME/state/counters/relay/127.0.0.1:2525"
	httpd_start
	post '{"from": "a@example.com", "to": ["r@example.net"], "text": "hi"}'
	[ "$CODE" = 202 ]
	run curl -sf "$URL/healthz"
	assert_output ok
	curl -sf "$URL/v1/status" > "$HT/st.json"
	python3 - "$HT/st.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["queue"]["queued"] == 1, s["queue"]
assert s["history"] == [] and s["relay_history"] == []   # no relay-send ran: no state/history/
assert s["health"]["fresh"] is True
assert [m["state"] for m in s["health"]["members"]] == ["up", "down"]
r = s["relays"][0]
assert r["name"] == "127.0.0.1:2525" and r["last_hour"] == {"delivered": 5, "deferred": 2, "bounced": 1}
assert len(r["per_minute"]) == 60 and r["per_minute"][-1][1:] == [5, 2, 1]
assert s["api"]["accepted"] == 1
PY
	curl -sf -D "$HT/mh" "$URL/metrics" > "$HT/metrics"
	grep -qi '^Content-Type: text/plain; version=0.0.4' "$HT/mh"
	python3 "$TESTS/promparse.py" "$HT/metrics"
	grep -qx 'relay_queue_messages{state="queued",class="default"} 7' "$HT/metrics"
	grep -qx 'relay_httpd_messages_accepted_total 1' "$HT/metrics"
	grep -qx 'relay_relay_events_last_hour{relay="127.0.0.1:2525",type="delivered"} 5' "$HT/metrics"
	if python3 -c 'import prometheus_client' 2>/dev/null; then
		python3 -c 'import sys; from prometheus_client.parser import text_string_to_metric_families as p; print(len(list(p(open(sys.argv[1]).read()))))' "$HT/metrics"
	fi
	curl -sf "$URL/" > "$HT/page.html"
	grep -q '<svg id="plot-queue"' "$HT/page.html"
	! grep -qiE '<script[^>]+src=|https?://[a-z]' <(grep -v 'www.w3.org/2000/svg' "$HT/page.html")
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/nothing")" = 404 ]
	[ "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$URL/v1/messages")" = 405 ]
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/messages")" = 405 ]
}

@test "end to end: a JSON message through relay-send to the test relay arrives byte for byte as queued" {
	newkey app1
	start_server
	echo "main failover 127.0.0.1:$PORT" >> "$RELAY_HOME/etc/pools"
	echo "default main" >> "$RELAY_HOME/etc/routes"
	relay-config -d "$RELAY_HOME"
	httpd_start
	post '{"from": "App <a@example.com>", "to": ["r@example.net"], "subject": "e2e ✓", "text": ".leading dot\n.\nkäse\n", "html": "<p>x</p>", "attachments": [{"filename": "b.bin", "content": "AAECAwQF/w=="}]}'
	[ "$CODE" = 202 ]
	queued_msg > "$HT/queued.eml"
	run relay-send -1
	assert_success
	assert_line --partial 'event=delivered'
	python3 - "$HT/queued.eml" "$SRV/rec/0001.eml" <<'PY'
import email, email.policy, sys
q = open(sys.argv[1], "rb").read(); g = open(sys.argv[2], "rb").read()
assert g.endswith(q), (g[-300:], q[-300:])
m = email.message_from_bytes(g, policy=email.policy.default)
assert m["Subject"] == "e2e ✓"
parts = list(m.iter_parts())
assert list(parts[0].iter_parts())[0].get_content().replace("\r\n", "\n") == ".leading dot\n.\nkäse\n"
assert parts[1].get_content() == bytes([0, 1, 2, 3, 4, 5, 255])
PY
}

@test "the service directory under runsv: relay-httpd runs as the service user (not root), logs through log/run, stops on sv down" {
	command -v runsv >/dev/null || skip "needs runit's runsv"
	newkey app1
	SVC="$HT/svc"
	mkdir -p "$SVC/log" "$SVC/env"
	cp "$TESTS/../scripts/service/relay-httpd/run" "$SVC/run"
	cp "$TESTS/../scripts/service/relay-httpd/log/run" "$SVC/log/run"
	HPORT=$(free_port)
	URL="http://127.0.0.1:$HPORT"
	echo "$RELAY_HOME" > "$SVC/env/RELAY_HOME"
	echo "$RELAY_BUILD/bin" > "$SVC/env/RELAY_BIN"
	echo "127.0.0.1:$HPORT" > "$SVC/env/RELAY_HTTPD_LISTEN"
	echo nobody > "$SVC/env/RELAY_HTTPD_USER"
	runsv "$SVC" > /dev/null 2>&1 &
	RUNSV=$!
	wait_for sh -c "curl -sf '$URL/healthz' >/dev/null"
	pid=$(sv status "$SVC" | sed -n 's/^run: [^(]*(pid \([0-9]*\)).*/\1/p')
	[ "$(ps -o user= -p "$pid")" = nobody ]
	post '{"from": "a@example.com", "to": ["r@example.net"], "text": "supervised"}'
	[ "$CODE" = 202 ]
	wait_for grep -q 'relay-httpd: queued' "$SVC/log/main/current"
	sv down "$SVC"
	wait_for gone "$pid"
	sv exit "$SVC"
	wait_for gone "$RUNSV"
}

@test "GET /v1/messages/ID: the state of each recipient (queued, then delivered and deferred with the next attempt); 404 for another key's mail, an unknown id, or a message gone; 401 without a token" {
	newkey app1 from=@example.com
	mine=$TOK
	newkey other from=@other.example
	other=$TOK
	start_server --rcpt-reply 'r2@example.net=451 4.2.0 try later'
	echo "main failover 127.0.0.1:$PORT" >> "$RELAY_HOME/etc/pools"
	echo "default main" >> "$RELAY_HOME/etc/routes"
	relay-config -d "$RELAY_HOME"
	httpd_start
	TOK=$mine
	post '{"from": "a@example.com", "to": ["r1@example.net", "r2@example.net"], "text": "hi"}'
	[ "$CODE" = 202 ]
	id=$(printf '%s' "$BODY" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
	get() { CODE=$(curl -s -o "$HT/resp" -w '%{http_code}' -H "Authorization: Bearer $1" "$URL/v1/messages/$2"); BODY=$(cat "$HT/resp"); }
	get "$mine" "$id"
	[ "$CODE" = 200 ] || { echo "$CODE $BODY"; cat "$HT/httpd.log"; return 1; }
	printf '%s' "$BODY" | python3 -c '
import json, sys
m = json.load(sys.stdin)
assert m["state"] == "queued" and m["sender"] == "a@example.com" and m["attempts"] == 0, m
assert [(r["address"], r["state"]) for r in m["recipients"]] == [("r1@example.net", "queued"), ("r2@example.net", "queued")], m'
	get "$other" "$id"
	[ "$CODE" = 404 ]
	get "$mine" 0000000000000.00000000
	[ "$CODE" = 404 ]
	get "$mine" ../../etc
	[ "$CODE" = 404 ]
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/messages/$id")" = 401 ]
	run relay-send -1
	# relay-send ran as root here: give the info file back to nobody
	chown -R 65534:65534 "$RELAY_HOME/queue"
	get "$mine" "$id"
	[ "$CODE" = 200 ] || { echo "$CODE $BODY"; return 1; }
	printf '%s' "$BODY" | python3 -c '
import json, sys
m = json.load(sys.stdin)
st = {r["address"]: r for r in m["recipients"]}
assert m["attempts"] == 1, m
assert st["r1@example.net"]["state"] == "delivered", m
assert st["r2@example.net"]["state"] == "deferred" and m["next_attempt"] > m["arrival"], m'
}

@test "/metrics: delivery latency per relay as a Prometheus histogram, kept by relay-send in state/counters/latency (parsed with prometheus_client)" {
	newkey app1
	start_server
	echo "main failover 127.0.0.1:$PORT" >> "$RELAY_HOME/etc/pools"
	echo "default main" >> "$RELAY_HOME/etc/routes"
	relay-config -d "$RELAY_HOME"
	httpd_start
	post '{"from": "a@example.com", "to": ["r1@example.net", "r2@example.net"], "subject": "l", "text": "x\n"}'
	[ "$CODE" = 202 ]
	run relay-send -1
	assert_success
	f="$RELAY_HOME/state/counters/latency/127.0.0.1:$PORT"
	head -1 "$f" | grep -qx RL1
	[ "$(sed -n 2p "$f" | cut -d' ' -f1)" = 2 ]
	curl -sf "$URL/metrics" > "$HT/metrics"
	python3 "$TESTS/promparse.py" "$HT/metrics"   # the histogram's _bucket, _sum and _count too
	/usr/bin/python3 -c 'import prometheus_client' || skip "needs Debian's python3-prometheus-client"
	/usr/bin/python3 - "$HT/metrics" "127.0.0.1:$PORT" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families as parse
fams = {f.name: f for f in parse(open(sys.argv[1]).read())}
h = fams["relay_delivery_latency_seconds"]
assert h.type == "histogram", h.type
s = [x for x in h.samples if x.labels.get("relay") == sys.argv[2]]
b = [(x.labels["le"], x.value) for x in s if x.name.endswith("_bucket")]
assert b[-1] == ("+Inf", 2.0), b
assert all(b[i][1] <= b[i + 1][1] for i in range(len(b) - 1)), b
assert [x.value for x in s if x.name.endswith("_count")] == [2.0]
assert 0 <= [x.value for x in s if x.name.endswith("_sum")][0] < 600
PY
	# a second run adds to the same counters
	chown -R 65534:65534 "$RELAY_HOME/queue" "$RELAY_HOME/state"
	post '{"from": "a@example.com", "to": ["r3@example.net"], "subject": "l", "text": "x\n"}'
	run relay-send -1
	[ "$(sed -n 2p "$f" | cut -d' ' -f1)" = 3 ]
	curl -sf "$URL/metrics" | grep -qx "relay_delivery_latency_seconds_count{relay=\"127.0.0.1:$PORT\"} 3"
}
