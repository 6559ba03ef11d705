#!/usr/bin/python3
# Strict check of the DKIM-Signature fields at the top of the message on
# stdin: lines of at most 78 octets, continuation lines start with WSP,
# a clean tag list (RFC 6376 3.2), no l=, no rsa-sha1, h= has From and
# never X-Relay-Class, b= and bh= strict base64 with nothing after the
# padding, and the decoded lengths right for the algorithm.
# An argument N checks only the first N fields (ours; older ones follow).
import base64, re, sys
msg = sys.stdin.buffer.read()
eol = b"\r\n" if b"\r\n" in msg else b"\n"
lines = msg.split(eol)
fields, cur = [], None
for ln in lines:
    if ln.lower().startswith(b"dkim-signature:"):
        cur = [ln]
        fields.append(cur)
    elif cur is not None and ln[:1] in (b" ", b"\t"):
        cur.append(ln)
    else:
        cur = None
        if not ln:
            break
def fail(why):
    print("syntax-check: " + why)
    sys.exit(1)
if not fields:
    fail("no DKIM-Signature")
if len(sys.argv) > 1:
    fields = fields[:int(sys.argv[1])]
B64 = re.compile(rb"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")
for f in fields:
    for ln in f:
        if len(ln) > 78:
            fail("line longer than 78: %r" % ln)
        if b"\r" in ln or b"\n" in ln:
            fail("bare CR or LF")
        if ln.rstrip(b" \t") != ln:
            fail("trailing white space: %r" % ln)
    value = b"".join(f).split(b":", 1)[1]
    tags = {}
    specs = value.split(b";")
    if specs[-1].strip() == b"":
        specs.pop()
    for spec in specs:
        m = re.fullmatch(rb"\s*([A-Za-z][A-Za-z0-9_]*)\s*=(.*)", spec, re.S)
        if not m:
            fail("bad tag spec %r" % spec)
        k, v = m.group(1).decode(), m.group(2).strip()
        if k in tags:
            fail("tag %s twice" % k)
        tags[k] = v
    for k in ("v", "a", "b", "bh", "d", "h", "s", "t"):
        if k not in tags:
            fail("missing %s=" % k)
    if "l" in tags:
        fail("l= present")
    if tags["v"] != b"1":
        fail("v= not 1")
    if tags["a"] not in (b"rsa-sha256", b"ed25519-sha256"):
        fail("a= %r" % tags["a"])
    h = [x.strip().lower() for x in tags["h"].split(b":")]
    if b"from" not in h:
        fail("From not in h=")
    if b"x-relay-class" in h:
        fail("X-Relay-Class in h=")
    for k in ("b", "bh"):
        v = re.sub(rb"[ \t]", b"", tags[k])
        if not B64.match(v):
            fail("%s= is not strict base64: %r" % (k, v))
    if len(base64.b64decode(re.sub(rb"\s", b"", tags["bh"]))) != 32:
        fail("bh= not 32 bytes")
    blen = len(base64.b64decode(re.sub(rb"\s", b"", tags["b"])))
    if tags["a"] == b"ed25519-sha256" and blen != 64:
        fail("Ed25519 b= not 64 bytes")
    if tags["a"] == b"rsa-sha256" and blen < 128:
        fail("RSA b= too short")
    if not re.fullmatch(rb"[0-9]+", tags["t"]):
        fail("t= not a number")
print("syntax-check: %d field(s) ok" % len(fields))
