"""CDC latency: N updates to podium.totals, submit (client) -> event received by a confluent-kafka consumer.

Events are matched on (user_id, version). Reports p50/p90/p99/max of:
  submit->consumer, writetime(source.ts_us)->connector(ts_ms), connector(ts_ms)->consumer.
Usage: /work/spike-venv/bin/python infra/spike/latency.py [-n 200] [--interval 0.05] [--users 20] [--timeout 15]
  --interval 0  => back-to-back async burst
"""
import argparse
import sys
import time
import uuid

from _common import TailConsumer, cass_session, cell, pct

ap = argparse.ArgumentParser()
ap.add_argument("-n", type=int, default=200)
ap.add_argument("--interval", type=float, default=0.05, help="seconds between submits")
ap.add_argument("--users", type=int, default=20)
ap.add_argument("--timeout", type=float, default=15.0)
args = ap.parse_args()

cluster, s = cass_session()
cons = TailConsumer()
time.sleep(0.5)
run = uuid.uuid4().hex[:6]
board = f"lat-{run}"
users = [f"u{i}-{run}" for i in range(args.users)]
upd = s.prepare("UPDATE totals SET total = ?, version = ?, reached_at_us = ?, log_partition = 0, log_offset = ? "
                "WHERE board = ? AND user_id = ?")
sent = {}  # (user, version) -> submit time
futs = []
t_start = time.time()
for i in range(args.n):
    u = users[i % len(users)]
    t0 = time.time()
    sent[(u, i)] = t0
    futs.append(s.execute_async(upd, (i * 10, i, time.time_ns() // 1000, i, board, u)))
    if args.interval:
        nxt = t_start + (i + 1) * args.interval
        d = nxt - time.time()
        if d > 0:
            time.sleep(d)
for f in futs:
    f.result()
t_sent = time.time()
deadline = time.time() + args.timeout
got = {}
while time.time() < deadline and len(got) < len(sent):
    for e in cons.snapshot():
        k = e["key"] or {}
        if k.get("board") != board:
            continue
        key = (k.get("user_id"), cell(e, "version"))
        if key in sent:
            got.setdefault(key, []).append(e)
    time.sleep(0.05)
time.sleep(0.5)
allev = [e for e in cons.snapshot() if (e["key"] or {}).get("board") == board]
cons.close()
cluster.shutdown()

lat, dbz, deliver = [], [], []
for key, evs in got.items():
    e = evs[0]
    lat.append(1000 * (e["recv"] - sent[key]))
    v = e["value"]
    dbz.append(v["ts_ms"] - v["source"]["ts_us"] / 1000)
    deliver.append(1000 * e["recv"] - v["ts_ms"])
missing = len(sent) - len(got)
dups = len(allev) - len(got)


def line(name, xs):
    return (f"{name:32s} p50={pct(xs,50):7.1f}  p90={pct(xs,90):7.1f}  p99={pct(xs,99):7.1f}  "
            f"max={max(xs) if xs else float('nan'):7.1f} ms")


print(f"updates={args.n} interval={args.interval}s users={args.users} send_duration={t_sent - t_start:.2f}s "
      f"received={len(got)} missing={missing} extra(dup)={dups}")
print(line("submit -> consumer", lat))
print(line("writetime -> connector ts_ms", dbz))
print(line("connector ts_ms -> consumer", deliver))
sys.exit(0 if missing == 0 else 1)
