#!/usr/bin/env bats
# not tested: DNS key lookup in verify (libunbound; needs a resolver), the relay-send end-to-end path (tests/dkim-e2e.bats), signing under a separate uid, Ed25519 with Mail::DKIM (this Mail::DKIM has no Ed25519).
load helper

D="$BATS_TEST_DIRNAME/data/dkim"
TOOLS="$BATS_TEST_DIRNAME/dkim"
PY=/usr/bin/python3
ED8463="v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
RSA8463="v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB"
APPC="v=DKIM1; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDwIRP/UC3SBsEmGqZ9ZJW3/DkMoGeLnQg1fWn7/zYtIxN2SnFCjxOCKG9v3b4jYfcTNh5ijSsq631uBItLa7od+v/RtdC2UzJ1lWT947qR+Rcac2gbto/NMqJ0fzfVjH4OuKhitdY9tf6mcwGjaNBcWToIMmPSPDdQPNUYckcQ2QIDAQAB"

# Keys for the corpus, made once: relay-dkim keygen and openssl.
setup_file() {
	K="$BATS_FILE_TMPDIR/keys"
	mkdir -p "$K"
	cd "$K"
	relay-dkim keygen -a rsa -d example.org -s r1 -o rsa.key > rsa.txt
	relay-dkim keygen -a ed25519 -d example.org -s e1 -o ed.key > ed.txt
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out ossl-rsa.key 2>/dev/null
	openssl genpkey -algorithm ed25519 -out ossl-ed.key 2>/dev/null
	chmod 600 ossl-rsa.key ossl-ed.key
	openssl rsa -in ossl-rsa.key -pubout -outform DER 2>/dev/null | base64 -w0 > ossl-rsa.p
	openssl pkey -in ossl-ed.key -pubout -outform DER | tail -c 32 | base64 -w0 > ossl-ed.p
	$PY "$TOOLS/corpus.py" "$BATS_FILE_TMPDIR/corpus"
}

# The record in a keygen zone line: the quoted strings joined.
record() { grep -o '"[^"]*"' "$1" | tr -d '"\n'; }

# b= of the nth (0-based) DKIM-Signature, unfolded
bval() {
	$PY -c '
import re, sys
m = sys.stdin.buffer.read().replace(b"\r\n ", b" ").replace(b"\n ", b" ")
f = [l for l in m.splitlines() if l.lower().startswith(b"dkim-signature:")][int(sys.argv[1])]
print(re.sub(rb"\s", b"", re.search(rb"\bb=([^;]*)", f).group(1)).decode())' "$1"
}

keys() { K="$BATS_FILE_TMPDIR/keys"; }

@test "RFC 8463 A.3: sign reproduces both published b= values byte for byte" {
	cp "$D/rfc8463-ed25519.pem" "$D/rfc8463-rsa.key" "$BATS_TEST_TMPDIR/"
	chmod 600 "$BATS_TEST_TMPDIR"/rfc8463-*
	$PY -c 'import sys; d=open(sys.argv[1],"rb").read(); sys.stdout.buffer.write(d[d.index(b"From: Joe"):])' \
		"$D/rfc8463-signed.eml" > "$BATS_TEST_TMPDIR/msg.eml"
	run relay-dkim sign -d football.example.com -i @football.example.com -t 1528637909 \
		-h from:to:subject:date:message-id:from:subject:date \
		-s brisbane -k "$BATS_TEST_TMPDIR/rfc8463-ed25519.pem" -a ed25519-sha256 \
		-s test -k "$BATS_TEST_TMPDIR/rfc8463-rsa.key" -a rsa-sha256 < "$BATS_TEST_TMPDIR/msg.eml"
	[ "$status" -eq 0 ]
	relay-dkim sign -d football.example.com -i @football.example.com -t 1528637909 \
		-h from:to:subject:date:message-id:from:subject:date \
		-s brisbane -k "$BATS_TEST_TMPDIR/rfc8463-ed25519.pem" -a ed25519-sha256 \
		-s test -k "$BATS_TEST_TMPDIR/rfc8463-rsa.key" -a rsa-sha256 \
		< "$BATS_TEST_TMPDIR/msg.eml" > "$BATS_TEST_TMPDIR/out.eml" 2>/dev/null
	run bval 0 < "$BATS_TEST_TMPDIR/out.eml"
	assert_output "/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11BusFa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw=="
	run bval 1 < "$BATS_TEST_TMPDIR/out.eml"
	assert_output "F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2JzdA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8="
	# the original message follows unchanged
	tail -c "$(wc -c < "$BATS_TEST_TMPDIR/msg.eml")" "$BATS_TEST_TMPDIR/out.eml" | cmp - "$BATS_TEST_TMPDIR/msg.eml"
	# and the 1024-bit key drew a warning
	run relay-dkim sign -d football.example.com -s test -k "$BATS_TEST_TMPDIR/rfc8463-rsa.key" < "$BATS_TEST_TMPDIR/msg.eml"
	assert_output --partial "warning: key"
	assert_output --partial "1024 bits"
}

@test "RFC 8463 and RFC 6376 App. C signed messages verify (relay-dkim, dkimpy, Mail::DKIM)" {
	run relay-dkim verify -r "$ED8463" -r "$RSA8463" < "$D/rfc8463-signed.eml"
	[ "$status" -eq 0 ]
	assert_line "pass a=ed25519-sha256 d=football.example.com s=brisbane"
	assert_line "pass a=rsa-sha256 d=football.example.com s=test"
	run relay-dkim verify -r "$APPC" < "$D/rfc6376-appC-signed.eml"
	[ "$status" -eq 0 ]
	# LF line endings are read as the CRLF the wire carries
	run relay-dkim verify -r "$APPC" < "$D/rfc6376-appC-signed.eml.lf"
	[ "$status" -eq 0 ]
	run $PY "$TOOLS/dkimpy-verify.py" "brisbane=$ED8463" "test=$RSA8463" < "$D/rfc8463-signed.eml"
	[ "$status" -eq 0 ]
	# one byte changed in the body: fail, exit 100
	sed 's/hungry/HUNGRY/' "$D/rfc8463-signed.eml" > "$BATS_TEST_TMPDIR/bad.eml"
	run relay-dkim verify -r "$ED8463" -r "$RSA8463" < "$BATS_TEST_TMPDIR/bad.eml"
	[ "$status" -eq 100 ]
	assert_output --partial "body hash mismatch"
	# no record for the algorithm
	run relay-dkim verify -r "$RSA8463" < "$D/rfc8463-signed.eml"
	[ "$status" -eq 100 ]
}

@test "RFC 6376 App. C: simple/simple sign reproduces bh=, verifies with both verifiers" {
	cp "$D/rfc6376-appC.key" "$BATS_TEST_TMPDIR/k"
	chmod 600 "$BATS_TEST_TMPDIR/k"
	$PY -c 'import sys; d=open(sys.argv[1],"rb").read(); sys.stdout.buffer.write(d[d.index(b"Received:"):])' \
		"$D/rfc6376-appC-signed.eml" > "$BATS_TEST_TMPDIR/m.eml"
	relay-dkim sign -c simple/simple -d example.com -s brisbane -i joe@football.example.com \
		-h Received:From:To:Subject:Date:Message-ID -k "$BATS_TEST_TMPDIR/k" \
		< "$BATS_TEST_TMPDIR/m.eml" > "$BATS_TEST_TMPDIR/s.eml" 2>/dev/null
	grep -q 'bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;' "$BATS_TEST_TMPDIR/s.eml"
	grep -q 'c=simple/simple;' "$BATS_TEST_TMPDIR/s.eml"
	run $PY "$TOOLS/dkimpy-verify.py" "brisbane=$APPC" < "$BATS_TEST_TMPDIR/s.eml"
	[ "$status" -eq 0 ]
	run perl "$TOOLS/maildkim-verify.pl" "$APPC" < "$BATS_TEST_TMPDIR/s.eml"
	[ "$status" -eq 0 ]
	run relay-dkim verify -r "$APPC" < "$BATS_TEST_TMPDIR/s.eml"
	[ "$status" -eq 0 ]
}

@test "keygen: 0600, O_EXCL, DNS record; Ed25519 p= is the raw 32-byte key and OpenSSL reads the file" {
	keys
	cd "$BATS_TEST_TMPDIR"
	run relay-dkim keygen -a ed25519 -d example.org -s sel -o k.pem
	[ "$status" -eq 0 ]
	assert_output --regexp '^sel\._domainkey\.example\.org\. IN TXT \( "v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=" \)$'
	[ "$(stat -c %a k.pem)" = 600 ]
	head -1 k.pem | grep -q 'BEGIN PRIVATE KEY'
	p=$(echo "$output" | sed 's/.*p=\([^"]*\)".*/\1/')
	[ "$(echo "$p" | base64 -d | wc -c)" -eq 32 ]
	[ "$(openssl pkey -in k.pem -pubout -outform DER | tail -c 32 | base64 -w0)" = "$p" ]
	# never over an existing file
	run relay-dkim keygen -a ed25519 -d example.org -s sel -o k.pem
	[ "$status" -eq 100 ]
	assert_output --partial "File exists"
	# RSA: SPKI p=, strings of at most 255 bytes, size checks
	run relay-dkim keygen -a rsa -b 2048 -d example.org -s r -o r.pem
	[ "$status" -eq 0 ]
	[ "$(stat -c %a r.pem)" = 600 ]
	record_ok=$(echo "$output" | grep -o '"[^"]*"' | awk '{ if (length($0) > 257) bad=1 } END { print bad ? "no" : "yes" }')
	[ "$record_ok" = yes ]
	[ "$(openssl rsa -in r.pem -pubout -outform DER 2>/dev/null | base64 -w0)" = "$(echo "$output" | grep -o '"[^"]*"' | tr -d '"\n' | sed 's/.*p=//')" ]
	run relay-dkim keygen -a rsa -b 512 -d example.org -s r -o small.pem
	[ "$status" -eq 100 ]
	[ ! -e small.pem ]
	run relay-dkim keygen -a rsa -b 1024 -d example.org -s r -o r1024.pem
	[ "$status" -eq 0 ]
	assert_output --partial "warning"
	run relay-dkim keygen -a rsa-sha1 -d example.org -s r -o x.pem
	[ "$status" -eq 100 ]
}

@test "corpus: every signature verifies with dkimpy (both algorithms) and Mail::DKIM (RSA); strict syntax" {
	keys
	RREC=$(record "$K/rsa.txt"); EREC=$(record "$K/ed.txt")
	OR="v=DKIM1; k=rsa; p=$(cat "$K/ossl-rsa.p")"; OE="v=DKIM1; k=ed25519; p=$(cat "$K/ossl-ed.p")"
	export DKIM_D=example.org
	n=0
	for m in "$BATS_FILE_TMPDIR"/corpus/*.eml; do
		for c in relaxed/relaxed simple/simple relaxed/simple simple/relaxed; do
			out="$BATS_TEST_TMPDIR/s.eml"
			relay-dkim sign -c $c -d example.org -s e1 -k "$K/ed.key" -s r1 -k "$K/rsa.key" \
				-s e2 -k "$K/ossl-ed.key" -s r2 -k "$K/ossl-rsa.key" < "$m" > "$out" ||
				{ echo "sign failed: $m $c"; return 1; }
			# verified as the wire carries it: relay-send ends the last line
			# with CRLF (hostile-inputs 5); Mail::DKIM's simple body
			# canonicalization disagrees with dkimpy's without it
			[ -z "$(tail -c 1 "$out")" ] || printf '\r\n' >> "$out"
			$PY "$TOOLS/syntax-check.py" 4 < "$out" || { echo "syntax: $m $c"; return 1; }
			$PY "$TOOLS/dkimpy-verify.py" "e1=$EREC" "r1=$RREC" "e2=$OE" "r2=$OR" < "$out" ||
				{ echo "dkimpy: $m $c"; return 1; }
			perl "$TOOLS/maildkim-verify.pl" "r1=$RREC" "r2=$OR" < "$out" ||
				{ echo "Mail::DKIM: $m $c"; return 1; }
			relay-dkim verify -r "$RREC" -r "$EREC" -r "$OR" -r "$OE" < "$out" > "$BATS_TEST_TMPDIR/v" || true
			[ "$(grep -c '^pass .* d=example.org' "$BATS_TEST_TMPDIR/v")" -eq 4 ] ||
				{ echo "relay-dkim verify: $m $c"; cat "$BATS_TEST_TMPDIR/v"; return 1; }
			n=$((n + 1))
		done
	done
	[ "$n" -ge 60 ]
}

@test "over-signing: From, Subject, Date once more than present; an added one breaks the signature" {
	keys
	EREC=$(record "$K/ed.txt")
	relay-dkim sign -d example.org -s e1 -k "$K/ed.key" < "$BATS_FILE_TMPDIR/corpus/repeated.eml" > "$BATS_TEST_TMPDIR/s.eml"
	h=$(tr -d '\r\n' < "$BATS_TEST_TMPDIR/s.eml" | sed 's/.*; h=\([^;]*\);.*/\1/' | tr -d ' ')
	echo "h=$h"
	[ "$h" = "from:to:to:cc:cc:subject:date:message-id:from:subject:date" ]
	DKIM_D=example.org run $PY "$TOOLS/dkimpy-verify.py" "e1=$EREC" < "$BATS_TEST_TMPDIR/s.eml"
	[ "$status" -eq 0 ]
	for added in 'Subject: buy now' 'Date: Tue, 24 Nov 2026 10:00:00 +0000' 'To: evil@example.net'; do
		$PY -c 'import sys; d=open(sys.argv[1],"rb").read(); i=d.index(b"\r\n\r\n"); sys.stdout.buffer.write(d[:i]+b"\r\n"+sys.argv[2].encode()+d[i:])' \
			"$BATS_TEST_TMPDIR/s.eml" "$added" > "$BATS_TEST_TMPDIR/t.eml"
		run relay-dkim verify -r "$EREC" < "$BATS_TEST_TMPDIR/t.eml"
		[ "$status" -eq 100 ]
	done
	# -O adds to the over-signed names
	relay-dkim sign -O reply-to -d example.org -s e1 -k "$K/ed.key" < "$BATS_FILE_TMPDIR/corpus/plain.eml" > "$BATS_TEST_TMPDIR/o.eml"
	tr -d '\r\n' < "$BATS_TEST_TMPDIR/o.eml" | grep -q 'from : subject : date : reply-to;'
}

@test "X-Relay-Class is never signed; an h= without From or with X-Relay-Class is refused" {
	keys
	relay-dkim sign -d example.org -s e1 -k "$K/ed.key" < "$BATS_FILE_TMPDIR/corpus/relay-class.eml" > "$BATS_TEST_TMPDIR/s.eml"
	! sed '/^From:/,$d' "$BATS_TEST_TMPDIR/s.eml" | grep -qi 'x-relay-class'
	# relay-send removes X-Relay-Class; the signature still verifies
	grep -v '^X-Relay-Class:' "$BATS_TEST_TMPDIR/s.eml" > "$BATS_TEST_TMPDIR/t.eml"
	run relay-dkim verify -r "$(record "$K/ed.txt")" < "$BATS_TEST_TMPDIR/t.eml"
	[ "$status" -eq 0 ]
	run relay-dkim sign -h to:subject -d example.org -s e1 -k "$K/ed.key" < "$BATS_FILE_TMPDIR/corpus/plain.eml"
	[ "$status" -eq 100 ]
	assert_output --partial "must include From"
	run relay-dkim sign -h from:X-Relay-Class -d example.org -s e1 -k "$K/ed.key" < "$BATS_FILE_TMPDIR/corpus/plain.eml"
	[ "$status" -eq 100 ]
}

@test "refusals: two From fields, no From, malformed header; RSA key under 1024 bits; rsa-sha1" {
	keys
	printf 'From: a@example.org\r\nSubject: x\r\nfrom: b@example.org\r\n\r\nbody\r\n' > "$BATS_TEST_TMPDIR/two.eml"
	run relay-dkim sign -d example.org -s e1 -k "$K/ed.key" < "$BATS_TEST_TMPDIR/two.eml"
	[ "$status" -eq 100 ]
	assert_output --partial "2 From fields"
	printf 'To: a@example.org\r\n\r\nbody\r\n' | { run relay-dkim sign -d example.org -s e1 -k "$K/ed.key"; [ "$status" -eq 100 ]; }
	printf 'From: a@example.org\r\nX-Caf\xc3\xa9: 1\r\n\r\nb\r\n' > "$BATS_TEST_TMPDIR/8.eml"
	run relay-dkim sign -d example.org -s e1 -k "$K/ed.key" < "$BATS_TEST_TMPDIR/8.eml"
	[ "$status" -eq 100 ]
	assert_output --partial "outside 33..126"
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1023 -out "$BATS_TEST_TMPDIR/small.key" 2>/dev/null
	chmod 600 "$BATS_TEST_TMPDIR/small.key"
	run relay-dkim sign -d example.org -s s -k "$BATS_TEST_TMPDIR/small.key" < "$BATS_FILE_TMPDIR/corpus/plain.eml"
	[ "$status" -eq 100 ]
	assert_output --partial "fewer than 1024"
	run relay-dkim sign -a rsa-sha1 -d example.org -s s -k "$K/rsa.key" < "$BATS_FILE_TMPDIR/corpus/plain.eml"
	[ "$status" -eq 100 ]
	run relay-dkim sign -a ed25519-sha256 -d example.org -s s -k "$K/rsa.key" < "$BATS_FILE_TMPDIR/corpus/plain.eml"
	[ "$status" -eq 100 ]
	# a verifier refuses rsa-sha1 signatures
	$PY -c '
import dkim, sys
k = open(sys.argv[1], "rb").read()
m = open(sys.argv[2], "rb").read()
sys.stdout.buffer.write(dkim.sign(m, b"r1", b"example.org", k, signature_algorithm=b"rsa-sha1") + m)' \
		"$K/rsa.key" "$BATS_FILE_TMPDIR/corpus/plain.eml" > "$BATS_TEST_TMPDIR/sha1.eml"
	run relay-dkim verify -r "$(record "$K/rsa.txt")" < "$BATS_TEST_TMPDIR/sha1.eml"
	[ "$status" -eq 100 ]
	assert_output --partial "rsa-sha1 is not accepted"
}

@test "key files that group or other may read are refused (sign 100, serve Z)" {
	keys
	cp "$K/ed.key" "$BATS_TEST_TMPDIR/open.key"
	chmod 640 "$BATS_TEST_TMPDIR/open.key"
	run relay-dkim sign -d example.org -s e1 -k "$BATS_TEST_TMPDIR/open.key" < "$BATS_FILE_TMPDIR/corpus/plain.eml"
	[ "$status" -eq 100 ]
	assert_output --partial "accessible by group or other"
	mkdir -p "$BATS_TEST_TMPDIR/home/etc" "$BATS_TEST_TMPDIR/out"
	cp "$BATS_TEST_TMPDIR/open.key" "$BATS_TEST_TMPDIR/home/etc/e1.key"
	printf 'example.org\te1 e1.key ed25519-sha256\n' | $PY "$TOOLS/mkcdb.py" "$BATS_TEST_TMPDIR/home/etc/dkim.cdb"
	run $PY "$TOOLS/serve-client.py" "$BATS_TEST_TMPDIR/home" "$BATS_TEST_TMPDIR/out" "$BATS_FILE_TMPDIR/corpus/plain.eml"
	[ "$status" -eq 0 ]
	[ "$(head -c 1 "$BATS_TEST_TMPDIR/out/0.resp")" = Z ]
}

@test "verify: l= larger than the body is a permanent failure, read in bounds; l= within the body is honoured" {
	keys
	RREC=$(record "$K/rsa.txt")
	$PY -c '
import dkim, sys
k = open(sys.argv[1], "rb").read()
m = open(sys.argv[2], "rb").read()
sys.stdout.buffer.write(dkim.sign(m, b"r1", b"example.org", k, length=True) + m)' \
		"$K/rsa.key" "$BATS_FILE_TMPDIR/corpus/plain.eml" > "$BATS_TEST_TMPDIR/l.eml"
	grep -q 'l=' "$BATS_TEST_TMPDIR/l.eml"
	run relay-dkim verify -r "$RREC" < "$BATS_TEST_TMPDIR/l.eml"
	[ "$status" -eq 0 ]
	# text appended after l= bytes is not covered (why we never emit l=)
	printf 'appended\r\n' >> "$BATS_TEST_TMPDIR/l.eml"
	run relay-dkim verify -r "$RREC" < "$BATS_TEST_TMPDIR/l.eml"
	[ "$status" -eq 0 ]
	# body cut short: l= now exceeds it
	$PY -c 'import sys; d=open(sys.argv[1],"rb").read(); i=d.index(b"\r\n\r\n"); sys.stdout.buffer.write(d[:i+4]+b"Hi")' \
		"$BATS_TEST_TMPDIR/l.eml" > "$BATS_TEST_TMPDIR/short.eml"
	run relay-dkim verify -r "$RREC" < "$BATS_TEST_TMPDIR/short.eml"
	[ "$status" -eq 100 ]
	assert_output --partial "l= is larger than the body"
	# absurd l= values
	for l in 99999999999999999999 18446744073709551615 -1 1x; do
		sed "s/l=[0-9]*/l=$l/" "$BATS_TEST_TMPDIR/short.eml" > "$BATS_TEST_TMPDIR/x.eml"
		run relay-dkim verify -r "$RREC" < "$BATS_TEST_TMPDIR/x.eml"
		[ "$status" -eq 100 ]
	done
}

@test "sign: a Unix (LF) message gets an LF header, the signature covers the CRLF wire form" {
	keys
	tr -d '\r' < "$BATS_FILE_TMPDIR/corpus/trailing-ws.eml" > "$BATS_TEST_TMPDIR/lf.eml"
	relay-dkim sign -d example.org -s r1 -k "$K/rsa.key" < "$BATS_TEST_TMPDIR/lf.eml" > "$BATS_TEST_TMPDIR/s.eml"
	! grep -q $'\r' "$BATS_TEST_TMPDIR/s.eml"
	sed 's/$/\r/' "$BATS_TEST_TMPDIR/s.eml" > "$BATS_TEST_TMPDIR/crlf.eml"
	DKIM_D=example.org run $PY "$TOOLS/dkimpy-verify.py" "r1=$(record "$K/rsa.txt")" < "$BATS_TEST_TMPDIR/crlf.eml"
	[ "$status" -eq 0 ]
	run perl "$TOOLS/maildkim-verify.pl" "$(record "$K/rsa.txt")" < "$BATS_TEST_TMPDIR/crlf.eml"
	[ "$status" -eq 0 ]
}

@test "sign: t= fixed, x= optional and checked by verify" {
	keys
	relay-dkim sign -t 1000 -x 60 -d example.org -s e1 -k "$K/ed.key" < "$BATS_FILE_TMPDIR/corpus/plain.eml" > "$BATS_TEST_TMPDIR/s.eml"
	tr -d '\r\n' < "$BATS_TEST_TMPDIR/s.eml" | grep -q 't=1000; x=1060;'
	run relay-dkim verify -r "$(record "$K/ed.txt")" < "$BATS_TEST_TMPDIR/s.eml"
	[ "$status" -eq 100 ]
	assert_output --partial "expired"
	relay-dkim sign -x 3600 -d example.org -s e1 -k "$K/ed.key" < "$BATS_FILE_TMPDIR/corpus/plain.eml" > "$BATS_TEST_TMPDIR/s.eml"
	run relay-dkim verify -r "$(record "$K/ed.txt")" < "$BATS_TEST_TMPDIR/s.eml"
	[ "$status" -eq 0 ]
}

serve_home() {
	H="$BATS_TEST_TMPDIR/home"
	mkdir -p "$H/etc" "$BATS_TEST_TMPDIR/out"
	cp "$K/ed.key" "$H/etc/ed.key"
	cp "$K/rsa.key" "$BATS_TEST_TMPDIR/abs-rsa.key"
}

@test "serve: K with RSA and Ed25519 signatures, K empty for an unknown domain, D for two From, many per session" {
	keys; serve_home
	printf 'example.org\te1 ed.key ed25519-sha256\nexample.org\tr1 %s rsa-sha256\n' "$BATS_TEST_TMPDIR/abs-rsa.key" |
		$PY "$TOOLS/mkcdb.py" "$H/etc/dkim.cdb"
	printf 'From: a@other.test\r\n\r\nx\r\n' > "$BATS_TEST_TMPDIR/other.eml"
	printf 'From: a@example.org\r\nFrom: b@example.org\r\n\r\nx\r\n' > "$BATS_TEST_TMPDIR/two.eml"
	printf 'Subject: none\r\n\r\nx\r\n' > "$BATS_TEST_TMPDIR/nofrom.eml"
	C="$BATS_FILE_TMPDIR/corpus"
	run $PY "$TOOLS/serve-client.py" "$H" "$BATS_TEST_TMPDIR/out" "$C/plain.eml" "$BATS_TEST_TMPDIR/other.eml" \
		"$BATS_TEST_TMPDIR/two.eml" "$BATS_TEST_TMPDIR/nofrom.eml" "$C/big.eml" "$C/8bit.eml"
	[ "$status" -eq 0 ]
	assert_output --partial "relay-dkim: info: no key for domain other.test, not signed"
	O="$BATS_TEST_TMPDIR/out"
	[ "$(cat "$O/1.resp")" = K ]
	[ "$(head -c 1 "$O/2.resp")" = D ]
	grep -q 'From fields' "$O/2.resp"
	[ "$(head -c 1 "$O/3.resp")" = D ]
	export DKIM_D=example.org
	for i in 0:plain 4:big 5:8bit; do
		n=${i%%:*}; m=${i#*:}
		[ "$(head -c 1 "$O/$n.resp")" = K ]
		{ tail -c +2 "$O/$n.resp"; cat "$C/$m.eml"; } > "$BATS_TEST_TMPDIR/s.eml"
		[ "$(grep -c '^DKIM-Signature:' "$BATS_TEST_TMPDIR/s.eml")" -eq 2 ]
		$PY "$TOOLS/syntax-check.py" 2 < "$BATS_TEST_TMPDIR/s.eml"
		$PY "$TOOLS/dkimpy-verify.py" "e1=$(record "$K/ed.txt")" "r1=$(record "$K/rsa.txt")" < "$BATS_TEST_TMPDIR/s.eml"
		perl "$TOOLS/maildkim-verify.pl" "$(record "$K/rsa.txt")" < "$BATS_TEST_TMPDIR/s.eml"
	done
}

@test "serve: unreadable or missing key gives Z (never an unsigned send); cdb changes are picked up" {
	keys; serve_home
	printf 'example.org\te1 ed.key ed25519-sha256\n' | $PY "$TOOLS/mkcdb.py" "$H/etc/dkim.cdb"
	C="$BATS_FILE_TMPDIR/corpus"
	run $PY "$TOOLS/serve-client.py" "$H" "$BATS_TEST_TMPDIR/out" \
		"$C/plain.eml" \
		--exec "printf 'example.org\\te1 missing.key ed25519-sha256\\n' | $PY $TOOLS/mkcdb.py $H/etc/dkim.cdb; touch -d '+1 min' $H/etc/dkim.cdb" \
		"$C/plain.eml" \
		--exec "printf 'example.org\\te1 ed.key ed25519-sha256\\n' | $PY $TOOLS/mkcdb.py $H/etc/dkim.cdb; chmod 000 $H/etc/ed.key; touch -d '+2 min' $H/etc/dkim.cdb" \
		"$C/plain.eml" \
		--exec "chmod 600 $H/etc/ed.key; printf 'example.org\\te1 ed.key rsa-sha256\\n' | $PY $TOOLS/mkcdb.py $H/etc/dkim.cdb; touch -d '+3 min' $H/etc/dkim.cdb" \
		"$C/plain.eml" \
		--exec "printf 'example.org\\te1 ed.key ed25519-sha256\\n' | $PY $TOOLS/mkcdb.py $H/etc/dkim.cdb; touch -d '+4 min' $H/etc/dkim.cdb" \
		"$C/plain.eml" \
		--exec "rm $H/etc/dkim.cdb" \
		"$C/plain.eml"
	[ "$status" -eq 0 ]
	O="$BATS_TEST_TMPDIR/out"
	[ "$(head -c 1 "$O/0.resp")" = K ]
	grep -q 'DKIM-Signature' "$O/0.resp"
	[ "$(head -c 1 "$O/1.resp")" = Z ]
	grep -q 'missing.key' "$O/1.resp"
	if [ "$(id -u)" -ne 0 ]; then   # root reads mode 000 files anyway
		[ "$(head -c 1 "$O/2.resp")" = Z ]
	fi
	[ "$(head -c 1 "$O/3.resp")" = Z ]
	grep -q 'not rsa-sha256' "$O/3.resp"
	[ "$(head -c 1 "$O/4.resp")" = K ]
	grep -q 'DKIM-Signature' "$O/4.resp"
	[ "$(cat "$O/5.resp")" = K ]
}

@test "serve: bad framing exits 111; a clean EOF exits 0; RELAY_HOME is the default home" {
	keys; serve_home
	run sh -c 'printf "5:abc" | relay-dkim serve -d "$1"' sh "$H"
	[ "$status" -eq 111 ]
	run sh -c 'printf "x:" | relay-dkim serve -d "$1"' sh "$H"
	[ "$status" -eq 111 ]
	run sh -c 'printf "" | relay-dkim serve -d "$1"' sh "$H"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	printf 'example.org\te1 ed.key ed25519-sha256\n' | $PY "$TOOLS/mkcdb.py" "$H/etc/dkim.cdb"
	m=$(printf 'From: a@example.org\r\n\r\nx\r\n')
	out=$(printf '%d:%s,' "${#m}" "$m" | RELAY_HOME="$H" relay-dkim serve)
	case "$out" in *:KDKIM-Signature:*) ;; *) echo "$out"; return 1 ;; esac
}
