#!/usr/bin/env python3
"""bench/paced: SMTP at a fixed rate, for latencies (smtp-source has no
rate option). Sends N messages at RATE msg/s over CONNS connections kept
open (message i on connection i % CONNS, due at t0 + i/RATE), each with
"Subject: TAG-I" (TAG: lat), and writes "SENT_NS TAG-I" to LOG just before the final
dot goes out (CLOCK_REALTIME, as bench/sink logs its end of DATA). A
message whose 250 has not come by the time the next is due on the same
connection makes that one late (more than 5 ms past its time): the
lateness is counted, not hidden.
    paced HOST PORT RATE N CONNS LOG [TAG]
Prints "sent=N refused=R late=L" on stdout."""
import smtplib, sys, threading, time

host, port, rate, n, conns, log = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
tag = sys.argv[7] if len(sys.argv) > 7 else "lat"
body = ("x" * 70 + "\r\n") * 25
out, lock = [], threading.Lock()
stats = {"refused": 0, "late": 0}

def worker(k, t0):
    s = smtplib.SMTP(host, port, timeout=120)
    s.ehlo("paced.test")
    for i in range(k, n, conns):
        due = t0 + i / rate
        d = due - time.time()
        if d > 0:
            time.sleep(d)
        elif d < -0.005:
            with lock:
                stats["late"] += 1
        s.mail("bench@sender.test")
        s.rcpt("sink@rcpt.test")
        code, _ = s.docmd("DATA")
        if code != 354:
            with lock:
                stats["refused"] += 1
            s.rset()
            continue
        msg = "Subject: %s-%d\r\nFrom: bench@sender.test\r\nTo: sink@rcpt.test\r\n\r\n%s" % (tag, i, body)
        s.send(msg.encode())
        sent = time.time_ns()
        s.send(b".\r\n")
        code, _ = s.getreply()
        with lock:
            if code == 250:
                out.append("%d %s-%d\n" % (sent, tag, i))
            else:
                stats["refused"] += 1
    s.quit()

t0 = time.time() + 0.5
th = [threading.Thread(target=worker, args=(k, t0)) for k in range(conns)]
for t in th:
    t.start()
for t in th:
    t.join()
with open(log, "w") as f:
    f.writelines(out)
print("sent=%d refused=%d late=%d" % (len(out), stats["refused"], stats["late"]))
