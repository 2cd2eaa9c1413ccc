"""Shared helpers for the CDC spike scripts (run with /work/spike-venv/bin/python)."""
import threading
import time

import orjson
from cassandra.cluster import Cluster, ExecutionProfile, EXEC_PROFILE_DEFAULT
from cassandra.policies import DCAwareRoundRobinPolicy
from confluent_kafka import Consumer, TopicPartition

BOOTSTRAP = "127.0.0.1:9092"
TOPIC = "cdc.podium.totals"


def cass_session():
    prof = ExecutionProfile(load_balancing_policy=DCAwareRoundRobinPolicy(local_dc="datacenter1"),
                            request_timeout=20)
    cluster = Cluster(["127.0.0.1"], port=9042, protocol_version=5,
                      execution_profiles={EXEC_PROFILE_DEFAULT: prof})
    return cluster, cluster.connect("podium")


class TailConsumer:
    """Consumes TOPIC from the current end (or from the beginning) in a background thread.

    Every event is stored as dict(recv=wall time, key=..., value=..., partition, offset).
    """

    def __init__(self, from_beginning=False, group="spike"):
        self.c = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": f"{group}-{time.time_ns()}",
                           "enable.auto.commit": False, "fetch.wait.max.ms": 10,
                           "fetch.min.bytes": 1, "socket.nagle.disable": True,
                           "log_level": 2})  # quiet librdkafka's reconnect noise during restart tests
        md = self.c.list_topics(TOPIC, timeout=10)
        parts = sorted(md.topics[TOPIC].partitions)
        tps = []
        for p in parts:
            lo, hi = self.c.get_watermark_offsets(TopicPartition(TOPIC, p), timeout=10)
            tps.append(TopicPartition(TOPIC, p, lo if from_beginning else hi))
        self.c.assign(tps)
        self.events = []
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while not self._stop.is_set():
            m = self.c.poll(0.05)
            if m is None:
                continue
            now = time.time()
            if m.error():
                print("consumer error:", m.error())
                continue
            ev = dict(recv=now, partition=m.partition(), offset=m.offset(),
                      key=orjson.loads(m.key()) if m.key() else None,
                      value=orjson.loads(m.value()) if m.value() else None,
                      raw_value=m.value())
            with self.lock:
                self.events.append(ev)

    def snapshot(self):
        with self.lock:
            return list(self.events)

    def wait_for(self, pred, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            hits = [e for e in self.snapshot() if pred(e)]
            if hits:
                return hits
            time.sleep(0.01)
        return []

    def close(self):
        self._stop.set()
        self.t.join(2)
        self.c.close()


def cell(ev, col):
    """Value of column `col` in the event's `after` (None if the column was not in the mutation)."""
    a = (ev.get("value") or {}).get("after") or {}
    c = a.get(col)
    return None if c is None else c.get("value")


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * p / 100.0
    f = int(k)
    c = min(f + 1, len(xs) - 1)
    return xs[f] + (xs[c] - xs[f]) * (k - f)
