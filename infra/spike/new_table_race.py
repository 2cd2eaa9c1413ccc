"""What happens to writes into a CDC table created while the connector is running?
Creates keyspace podium_race_<id> + table (cdc=true), writes one row every 100 ms from the moment the
DDL returns, and reports for each write whether it arrived as a streaming event (snapshot=false), only
through the connector's periodic snapshot of new tables (snapshot=true), or not at all. Drops the
keyspace at the end. Topic cdc.<ks>.totals is auto-created by the broker (auto.create.topics.enable).
Usage: /work/spike-venv/bin/python infra/spike/new_table_race.py [-n 100] [--wait 30] [--ks-pause 0]
"""
import argparse
import time
import uuid

from confluent_kafka import Consumer, TopicPartition

import orjson
from _common import BOOTSTRAP, cass_session, cell

ap = argparse.ArgumentParser()
ap.add_argument("-n", type=int, default=100)
ap.add_argument("--wait", type=float, default=30)
ap.add_argument("--ks-pause", type=float, default=0.0, help="seconds between CREATE KEYSPACE and CREATE TABLE")
args = ap.parse_args()
ks = f"podium_race_{uuid.uuid4().hex[:6]}"
cluster, s = cass_session()
t0 = time.time()
s.execute(f"CREATE KEYSPACE {ks} WITH replication = {{'class':'SimpleStrategy','replication_factor':1}}")
time.sleep(args.ks_pause)
s.execute(f"CREATE TABLE {ks}.totals (board text, user_id text, total bigint, version bigint, "
          f"PRIMARY KEY ((board), user_id)) WITH cdc = true")
cluster.control_connection.wait_for_schema_agreement()
print(f"DDL done in {time.time() - t0:.2f}s; writing {args.n} rows, 1 per 100 ms")
ins = s.prepare(f"INSERT INTO {ks}.totals (board, user_id, total, version) VALUES ('b', ?, ?, ?)")
wt = {}
for i in range(args.n):
    wt[i] = time.time() - t0
    s.execute(ins, (f"u{i}", i, i))
    time.sleep(0.1)
time.sleep(args.wait)
topic = f"cdc.{ks}.totals"
c = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": f"race-{ks}", "enable.auto.commit": False})
md = c.list_topics(topic, timeout=10)
got = {}
if topic in md.topics and md.topics[topic].error is None:
    c.assign([TopicPartition(topic, p, 0) for p in md.topics[topic].partitions])
    end = time.time() + 5
    while time.time() < end:
        m = c.poll(0.2)
        if m is None or m.error():
            continue
        v = orjson.loads(m.value())
        ev = {"value": v}
        got.setdefault(cell(ev, "version"), []).append(v["source"]["snapshot"])
c.close()
stream = sorted(i for i in wt if "false" in got.get(i, []))
snap_only = sorted(i for i in wt if i in got and "false" not in got[i])
lost = sorted(i for i in wt if i not in got)
print(f"topic exists: {topic in md.topics}; streamed: {len(stream)}  snapshot-only: {len(snap_only)}  lost: {len(lost)}")
if stream:
    print(f"first streamed write #{stream[0]} at +{wt[stream[0]]:.1f}s after DDL start")
if snap_only:
    print(f"snapshot-only writes: #{snap_only[0]}..#{snap_only[-1]} (+{wt[snap_only[0]]:.1f}s..+{wt[snap_only[-1]]:.1f}s)")
if lost:
    print(f"LOST writes: {lost[:10]}{'...' if len(lost) > 10 else ''}")
s.execute(f"DROP KEYSPACE {ks}")
cluster.shutdown()
