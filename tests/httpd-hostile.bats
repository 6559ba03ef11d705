#!/usr/bin/env bats
# not tested: memory under many slow clients at once (bench/ territory); TLS-level abuse (relay-httpd has no TLS; the proxy in front does).
load helper
load httpd_helper

setup() {
	httpd_home
	newkey app1
}
teardown() { httpd_stop; }

# raw PYTHON-CODE: run it with PORT and TOK set; sock() opens a connection
raw() {
	PORT=$HPORT TOK=$TOK python3 -c "
import os, socket, sys, time
PORT = int(os.environ['PORT']); TOK = os.environ['TOK']
def sock():
    s = socket.create_connection(('127.0.0.1', PORT)); s.settimeout(120); return s
def answer(s):
    d = b''
    while b'\r\n\r\n' not in d:
        b = s.recv(65536)
        if not b: break
        d += b
    return d
$1"
}
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$HTTPD_PID/status"; }
still_serving() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")" = 200 ]; }

@test "a 100 MB body: 413 from its Content-Length before the body is read; chunked, it is cut at the limit; memory stays small, others are served" {
	relay_setting maxsize 10000
	httpd_start
	run raw "
s = sock()
s.sendall(b'POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ' + TOK.encode() + b'\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n\r\n' + b'{' * 1000)
print(answer(s).split(b'\r\n')[0].decode())"
	assert_output --regexp '^HTTP/1.1 413 '
	run raw "
s = sock()
s.sendall(b'POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ' + TOK.encode() + b'\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n')
import select
chunk = b'%x\r\n' % 4096 + b' ' * 4096 + b'\r\n'
got = b''
try:
    for i in range(25600):   # 100 MB, unless the server answers first
        s.sendall(chunk)
        if select.select([s], [], [], 0)[0]:
            break
    got = answer(s)
except (BrokenPipeError, ConnectionResetError):
    pass
print(got.split(b'\r\n')[0].decode() or 'closed')"
	# the answer, unless the server's close (with our data unread) reset it
	assert_output --regexp '^(HTTP/1.1 413 .*|closed)$'
	[ "$(rss_kb)" -lt 30000 ]
	still_serving
	[ "$(queue_count)" = 0 ]
}

@test "JSON nested 100,000 deep and invalid UTF-8: 400, the server keeps serving" {
	httpd_start
	python3 -c 'print("[" * 100000 + "]" * 100000)' > "$HT/deep.json"
	post "$(cat "$HT/deep.json")"
	[ "$CODE" = 400 ]
	[[ "$BODY" == *"nested too deep"* ]]
	printf '{"from": "a@example.com", "to": "r@example.net", "text": "\xc3\x28 \xed\xa0\x80"}' > "$HT/bad.json"
	post "$(cat "$HT/bad.json")"
	[ "$CODE" = 400 ]
	[[ "$BODY" == *"malformed JSON"* ]]
	still_serving
}

@test "headers of 1 MB: refused (431) within the connection memory limit; bad chunked encoding: 400; the server keeps serving" {
	relay_setting maxsize 10000
	httpd_start
	run raw "
s = sock()
try:
    s.sendall(b'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ' + b'a' * (1 << 20) + b'\r\n\r\n')
except (BrokenPipeError, ConnectionResetError):
    pass
try:
    print(answer(s).split(b'\r\n')[0].decode() or 'closed')
except ConnectionResetError:
    print('closed')"
	assert_output --regexp '^(HTTP/1.1 431 .*|closed)$'
	run raw "
s = sock()
s.sendall(b'POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ' + TOK.encode() + b'\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n')
print(answer(s).split(b'\r\n')[0].decode() or 'closed')"
	assert_output --regexp '^(HTTP/1.1 400 .*|closed)$'
	run raw "
s = sock()
s.sendall(b'POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ' + TOK.encode() + b'\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nabc\r\n')
print(answer(s).split(b'\r\n')[0].decode() or 'closed')"
	assert_output --regexp '^(HTTP/1.1 (400|413) .*|closed)$'
	[ "$(rss_kb)" -lt 30000 ]
	still_serving
}

@test "slowloris: a client that sends half a request is closed after the idle timeout (-t), and others are served meanwhile" {
	httpd_start -t 2
	raw "
s = sock()
s.sendall(b'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ')
open('$HT/slow-open', 'w').close()
while s.recv(100):
    pass
open('$HT/slow-closed', 'w').close()" &
	slow=$!
	wait_for test -e "$HT/slow-open"
	still_serving
	wait_for test -e "$HT/slow-closed"
	wait "$slow"
}

@test "too many connections: past -c the server refuses the next, and serves again once they go" {
	httpd_start -c 3
	raw "
held = [sock() for i in range(3)]
# each held connection sends half a request, so it stays open; once the
# server has taken all three (a wait on the condition, not on time),
# the next one is refused
for h in held:
    h.sendall(b'GET /healthz HTTP/1.1\r\nHost: x\r\n')
r = b'x'
for i in range(100):
    s = sock()
    try:
        s.sendall(b'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
        r = s.recv(100)
    except (ConnectionResetError, BrokenPipeError):
        r = b''
    s.close()
    if not r:
        break
    time.sleep(0.1)
print('refused' if not r else r.split(b'\r\n')[0].decode())
for h in held:
    h.close()" > "$HT/out"
	run cat "$HT/out"
	assert_output refused
	wait_for still_serving
}
