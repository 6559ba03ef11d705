#!/usr/bin/python3
# Drive "relay-dkim serve" (started here as a child) over its fds 0/1:
#   serve-client.py HOME OUTDIR [--exec CMD | MSG]...
# sends each MSG as one netstring and writes the response payload to
# OUTDIR/N.resp (N counts messages from 0); --exec runs a shell command
# between messages (to change the config while the server runs).
import os, subprocess, sys
home, outdir = sys.argv[1], sys.argv[2]
args = sys.argv[3:]
p = subprocess.Popen(["relay-dkim", "serve", "-d", home], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE)
def ns_read(f):
    n = b""
    while True:
        c = f.read(1)
        if not c:
            raise SystemExit("serve-client: EOF from server")
        if c == b":":
            break
        n += c
    data = f.read(int(n))
    assert f.read(1) == b","
    return data
i = 0
while args:
    a = args.pop(0)
    if a == "--exec":          # run a shell command between messages
        subprocess.check_call(args.pop(0), shell=True)
        continue
    m = open(a, "rb").read()
    p.stdin.write(b"%d:" % len(m) + m + b",")
    p.stdin.flush()
    r = ns_read(p.stdout)
    with open(os.path.join(outdir, "%d.resp" % i), "wb") as f:
        f.write(r)
    i += 1
p.stdin.close()
sys.exit(p.wait())
