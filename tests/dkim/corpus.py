#!/usr/bin/python3
# Write awkward messages (CRLF) into the directory given: corpus.py DIR.
import os, sys
d = sys.argv[1]
os.makedirs(d, exist_ok=True)
H = b"From: Joe <joe@example.org>\r\nTo: a@example.net\r\nSubject: hi\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <1@example.org>\r\n"
msgs = {
    "plain": H + b"\r\nHello.\r\n",
    "folded": b"From: Joe\r\n <joe@example.org>\r\nTo: a@example.net,\r\n\tb@example.net\r\nSubject: a long\r\n   folded   subject \t \r\n\r\nbody\r\n",
    "empty-header": H + b"X-Empty:\r\nX-Blank:    \r\nCc:\r\n\r\nbody\r\n",
    "trailing-ws": H + b"X-T: value   \t\r\n\r\nline with trailing  \t \r\n  \r\nend \r\n\r\n\r\n",
    "empty-body": H + b"\r\n",
    "no-body-no-separator": H,
    "no-final-newline": H + b"\r\nlast line without newline",
    "8bit": H + b"Content-Type: text/plain; charset=utf-8\r\nX-Cafe: \xc3\xa9t\xc3\xa9 caf\xc3\xa9\r\n\r\nGr\xc3\xbc\xc3\x9fe, \xe2\x82\xac 10\r\n\xff\xfe raw bytes\r\n",
    "long-lines": H + b"\r\n" + b"x" * 998 + b"\r\n" + (b"word " * 190) + b"\r\n",
    "repeated": b"Received: from a\r\nReceived: from b\r\n" + H + b"To: second@example.net\r\nCc: c1@example.net\r\nCc: c2@example.net\r\nComments: one\r\nComments: two\r\n\r\nbody\r\n",
    "existing-dkim": b"DKIM-Signature: v=1; a=rsa-sha256; d=other.test; s=x; h=from; bh=AAAA; b=AAAA\r\n" + H + b"\r\nbody\r\n",
    "blank-lines": H + b"\r\n\r\n\r\nfirst\r\n\r\n\r\nsecond\r\n\r\n\r\n\r\n",
    "wsp-body": H + b"\r\n \t \r\n\t\r\n  x  y\t\tz  \r\n",
    "relay-class": H + b"X-Relay-Class: bulk\r\n\r\nbody\r\n",
    "tabs-in-header": b"From:\tJoe\t<joe@example.org>\r\nSubject:\t\ttabbed\t\r\n\r\nb\r\n",
    "dots": H + b"\r\n.\r\n..\r\n.foo\r\n",
    "big": H + b"\r\n" + b"".join(b"line %d of a longer body with some text\r\n" % i for i in range(30000)),
}
for name, m in msgs.items():
    with open(os.path.join(d, name + ".eml"), "wb") as f:
        f.write(m)
