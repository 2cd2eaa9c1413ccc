"""Duplicates / loss across a Debezium connector (or Kafka broker) restart (stack.sh down+up debezium = SIGTERM, which
behaves like a crash: the standalone connector has no shutdown hook).

Writes --n updates (unique (user, version)) at --rate/s; after --restart-at writes it restarts the
connector (writes keep going while it is down), then waits and counts events per (user, version).
Also counts snapshot (source.snapshot=true) events seen after the restart.
Usage: /work/spike-venv/bin/python infra/spike/restart_dups.py [-n 400] [--rate 20] [--restart-at 150] [--kill9]
       [--component debezium|kafka]
"""
import argparse
import collections
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

from _common import TailConsumer, cass_session, cell

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ap = argparse.ArgumentParser()
ap.add_argument("-n", type=int, default=400)
ap.add_argument("--rate", type=float, default=20)
ap.add_argument("--restart-at", type=int, default=150)
ap.add_argument("--kill9", action="store_true", help="SIGKILL the component instead of stack.sh down")
ap.add_argument("--component", default="debezium", choices=["debezium", "kafka"],
                help="what to restart while writing (kafka: the connector keeps running)")
ap.add_argument("--timeout", type=float, default=60)
args = ap.parse_args()

cluster, s = cass_session()
cons = TailConsumer()
time.sleep(0.5)
run = uuid.uuid4().hex[:6]
board = f"dup-{run}"
upd = s.prepare("UPDATE totals SET total = ?, version = ? WHERE board = ? AND user_id = ?")
restart_info = {}


def restart():
    t0 = time.time()
    if args.kill9:
        pid = int(open(os.path.join(ROOT, f"var/run/{args.component}.pid")).read())
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
    subprocess.run([os.path.join(ROOT, "infra/stack.sh"), "down", args.component], check=True)
    t1 = time.time()
    subprocess.run([os.path.join(ROOT, "infra/stack.sh"), "up", args.component], check=True)
    restart_info.update(down_at=t0, stopped_in=t1 - t0, up_in=time.time() - t1, ready_at=time.time())


th = None
t_start = time.time()
for i in range(args.n):
    if i == args.restart_at:
        th = threading.Thread(target=restart)
        th.start()
    s.execute(upd, (i, i, board, f"u{i % 10}"))
    d = t_start + (i + 1) / args.rate - time.time()
    if d > 0:
        time.sleep(d)
if th:
    th.join()
deadline = time.time() + args.timeout
while time.time() < deadline:
    seen = {cell(e, "version") for e in cons.snapshot() if (e["key"] or {}).get("board") == board}
    if len(seen) >= args.n:
        break
    time.sleep(0.2)
time.sleep(3)
evs = cons.snapshot()
cons.close()
cluster.shutdown()
mine = [e for e in evs if (e["key"] or {}).get("board") == board]
cnt = collections.Counter((e["key"]["user_id"], cell(e, "version")) for e in mine)
dup_keys = {k: c for k, c in cnt.items() if c > 1}
missing = [i for i in range(args.n) if (f"u{i % 10}", i) not in cnt]
snap_after = [e for e in evs if e["value"]["source"].get("snapshot") == "true"]
print(f"writes={args.n} restart_at={args.restart_at} mode={'SIGKILL' if args.kill9 else 'SIGTERM (stack.sh down)'} "
      f"restarted={args.component} stop={restart_info.get('stopped_in', 0):.1f}s start={restart_info.get('up_in', 0):.1f}s")
print(f"events for run: {len(mine)}  distinct (user,version): {len(cnt)}  missing: {len(missing)} "
      f"duplicated writes: {len(dup_keys)}  extra events: {len(mine) - len(cnt)}")
if dup_keys:
    vs = sorted(v for _, v in dup_keys)
    print(f"duplicated versions: {vs[:10]}{'...' if len(vs) > 10 else ''} (range {vs[0]}..{vs[-1]})")
if missing:
    print(f"missing versions: {missing[:20]}")
print(f"snapshot events (source.snapshot=true) seen during run (all boards): {len(snap_after)}")
# how long after the connector came back did the backlog drain?
if restart_info and mine:
    backlog = [e for e in mine if e["recv"] >= restart_info["down_at"]]
    if backlog:
        print(f"last event received {max(e['recv'] for e in backlog) - restart_info['ready_at']:.1f}s after the restarted component was ready")
sys.exit(0 if not missing else 1)
