"""End-to-end CDC proof: INSERT, UPDATE, soft-delete UPDATE, DELETE on podium.totals from Python and
check each change event arrives on Kafka topic cdc.podium.totals. Prints one full envelope per op.

Usage: /work/spike-venv/bin/python infra/spike/e2e_cdc.py [--timeout 10]
"""
import argparse
import sys
import time
import uuid

import orjson

from _common import TailConsumer, cass_session, cell

ap = argparse.ArgumentParser()
ap.add_argument("--timeout", type=float, default=10.0)
args = ap.parse_args()

cluster, s = cass_session()
cons = TailConsumer()
time.sleep(0.5)
board, user = "e2e", f"u-{uuid.uuid4().hex[:8]}"
ins = s.prepare("INSERT INTO totals (board, user_id, total, version, reached_at_us, log_partition, log_offset, deleted) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, false)")
upd = s.prepare("UPDATE totals SET total = ?, version = ?, reached_at_us = ? WHERE board = ? AND user_id = ?")
soft = s.prepare("UPDATE totals SET deleted = true, version = ? WHERE board = ? AND user_id = ?")
dele = s.prepare("DELETE FROM totals WHERE board = ? AND user_id = ?")

steps = [
    ("insert", ins, (board, user, 100, 1, time.time_ns() // 1000, 0, 41), "i"),
    ("update", upd, (250, 2, time.time_ns() // 1000, board, user), "u"),
    ("soft-delete", soft, (3, board, user), "u"),
    ("delete", dele, (board, user), "d"),
]
ok = True
for name, stmt, params, want_op in steps:
    t0 = time.time()
    s.execute(stmt, params)
    t_ack = time.time()
    n_before = len([e for e in cons.snapshot() if (e["key"] or {}).get("user_id") == user])
    hits = cons.wait_for(lambda e: (e["key"] or {}).get("user_id") == user and e["value"]["op"] == want_op
                         and e["recv"] >= t0, args.timeout)
    hits = [h for h in hits if h["recv"] >= t0]
    if not hits:
        print(f"FAIL {name}: no op={want_op} event within {args.timeout}s")
        ok = False
        continue
    ev = hits[-1]
    v = ev["value"]
    print(f"== {name}: op={v['op']} latency submit->consumer {1000*(ev['recv']-t0):.0f} ms "
          f"(ack {1000*(t_ack-t0):.1f} ms; writetime->connector ts_ms {v['ts_ms'] - v['source']['ts_us']/1000:.0f} ms) "
          f"partition={ev['partition']} offset={ev['offset']}")
    print("key:  ", orjson.dumps(ev["key"]).decode())
    print("value:", orjson.dumps(v, option=orjson.OPT_INDENT_2).decode())
    if name == "update" and not (cell(ev, "total") == 250 and cell(ev, "version") == 2):
        print("FAIL update: unexpected cells"); ok = False
    if name == "insert" and not (cell(ev, "total") == 100 and cell(ev, "deleted") is False):
        print("FAIL insert: unexpected cells"); ok = False
    if name == "soft-delete" and not (cell(ev, "deleted") is True):
        print("FAIL soft-delete: unexpected cells"); ok = False
time.sleep(1.0)
evs = [e for e in cons.snapshot() if (e["key"] or {}).get("user_id") == user]
print(f"total events for {user}: {len(evs)} ops={[e['value']['op'] for e in evs]}")
cons.close()
cluster.shutdown()
print("E2E", "OK" if ok and len(evs) == len(steps) else "FAILED")
sys.exit(0 if ok else 1)
