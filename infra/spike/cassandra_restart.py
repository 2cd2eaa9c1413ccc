"""Cassandra restart with the connector running: write, stop Cassandra (stack.sh down cassandra =
SIGTERM, graceful), report the connector's process/health while Cassandra is down, start Cassandra
again, write again, and check that every write (before and after) arrives exactly / at least once.
Usage: /work/spike-venv/bin/python infra/spike/cassandra_restart.py [-n 50] [--timeout 90] [--kill9]
"""
import argparse
import collections
import os
import subprocess
import sys
import time
import urllib.request
import uuid

from _common import TailConsumer, cass_session, cell

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
STACK = os.path.join(ROOT, "infra/stack.sh")
ap = argparse.ArgumentParser()
ap.add_argument("-n", type=int, default=50)
ap.add_argument("--timeout", type=float, default=90)
ap.add_argument("--kill9", action="store_true", help="SIGKILL Cassandra (crash) instead of a graceful stop")
args = ap.parse_args()


def health():
    try:
        with urllib.request.urlopen("http://127.0.0.1:8089/health", timeout=2) as r:
            return f"{r.status} {r.read()[:160].decode()}"
    except Exception as e:  # noqa: BLE001
        return f"ERR {e}"


def dbz_alive():
    try:
        pid = int(open(os.path.join(ROOT, "var/run/debezium.pid")).read())
        os.kill(pid, 0)
        return True
    except Exception:  # noqa: BLE001
        return False


cons = TailConsumer()
run = uuid.uuid4().hex[:6]
board = f"crs-{run}"


def write_batch(start, n):
    cluster, s = cass_session()
    upd = s.prepare("UPDATE totals SET total = ?, version = ? WHERE board = ? AND user_id = ?")
    for i in range(start, start + n):
        s.execute(upd, (i, i, board, f"u{i % 5}"))
        time.sleep(0.02)
    cluster.shutdown()


def wait_versions(vs, timeout):
    t0 = time.time()
    while time.time() - t0 < timeout:
        seen = {cell(e, "version") for e in cons.snapshot() if (e["key"] or {}).get("board") == board}
        if set(vs) <= seen:
            return time.time() - t0
        time.sleep(0.1)
    return None


write_batch(0, args.n)
t = wait_versions(range(args.n), 20)
print(f"phase 1: {args.n} writes before restart, all received: {t is not None}")
t0 = time.time()
if args.kill9:
    import signal
    os.kill(int(open(os.path.join(ROOT, "var/run/cassandra.pid")).read()), signal.SIGKILL)
    time.sleep(1)
subprocess.run([STACK, "down", "cassandra"], check=True)
print(f"cassandra {'SIGKILLed' if args.kill9 else 'stopped'} in {time.time() - t0:.1f}s; connector alive={dbz_alive()} health={health()}")
time.sleep(5)
print(f"after 5s down: connector alive={dbz_alive()} health={health()}")
t0 = time.time()
subprocess.run([STACK, "up", "cassandra"], check=True)
print(f"cassandra up in {time.time() - t0:.1f}s; connector alive={dbz_alive()} health={health()}")
time.sleep(3)
print(f"3s later: connector alive={dbz_alive()} health={health()}")
write_batch(args.n, args.n)
t = wait_versions(range(args.n, 2 * args.n), args.timeout)
print(f"phase 2: {args.n} writes after restart: received={'yes after %.1fs' % t if t is not None else 'NO (timeout %ss)' % args.timeout}")
time.sleep(2)
mine = [e for e in cons.snapshot() if (e["key"] or {}).get("board") == board]
cons.close()
cnt = collections.Counter(cell(e, "version") for e in mine)
missing = [v for v in range(2 * args.n) if v not in cnt]
print(f"events={len(mine)} distinct={len(cnt)} missing={len(missing)} duplicates={sum(c - 1 for c in cnt.values())}")
print(f"connector alive={dbz_alive()} health={health()}")
sys.exit(0 if not missing else 1)
