#!/usr/bin/python3
# Verify every DKIM-Signature of the message on stdin with dkimpy, the
# key records given as arguments "selector=record" (no DNS).
# With DKIM_D set, only signatures with that d= count (a message may carry
# someone else's old signature). Exit 0 if at least one counts and all pass.
import os, re, sys, dkim
recs = dict(a.split("=", 1) for a in sys.argv[1:])
want_d = os.environ.get("DKIM_D", "").encode()
def dnsfunc(name, timeout=5):
    sel = name.decode().split(".")[0]
    return recs.get(sel, "").encode()
msg = sys.stdin.buffer.read()
headers, _ = dkim.rfc822_parse(msg)
sigs = [v for k, v in headers if k.lower() == b"dkim-signature"]
d = dkim.DKIM(msg)
ok, n = True, 0
for i, v in enumerate(sigs):
    m = re.search(rb"(?:^|;)\s*d\s*=\s*([^;\s]+)", v)
    if want_d and (not m or m.group(1) != want_d):
        continue
    n += 1
    r = d.verify(idx=i, dnsfunc=dnsfunc)
    print("dkimpy: signature %d: %s" % (i, "pass" if r else "fail"))
    ok = ok and r
sys.exit(0 if ok and n else 1)
