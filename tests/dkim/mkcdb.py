#!/usr/bin/python3
# Write a CDB (D. J. Bernstein's format, as tinycdb reads it) from lines
# "key<TAB>value" on stdin: mkcdb.py OUT. Repeated keys are kept.
import struct, sys, os

def h(k):
    v = 5381
    for c in k:
        v = (((v << 5) + v) & 0xffffffff) ^ c
    return v

recs = []
for line in sys.stdin.buffer.read().split(b"\n"):
    if line:
        k, v = line.split(b"\t", 1)
        recs.append((k, v))
out = bytearray(2048)
tables = [[] for _ in range(256)]
for k, v in recs:
    tables[h(k) & 255].append((h(k), len(out)))
    out += struct.pack("<II", len(k), len(v)) + k + v
head = []
for t in tables:
    n = 2 * len(t)
    slots = [(0, 0)] * n
    for hv, pos in t:
        i = (hv >> 8) % n
        while slots[i][1]:
            i = (i + 1) % n
        slots[i] = (hv, pos)
    head.append((len(out), n))
    for hv, pos in slots:
        out += struct.pack("<II", hv, pos)
out[0:2048] = b"".join(struct.pack("<II", p, n) for p, n in head)
tmp = sys.argv[1] + ".tmp"
with open(tmp, "wb") as f:
    f.write(out)
os.rename(tmp, sys.argv[1])
