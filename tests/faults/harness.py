"""The fault-suite harness, one import for a fault test in either profile.

- `LoadGenerator` (load.py): game servers that retry each submission with its own
  key until acknowledged, recording every ack and how many are in flight.
- `Checker` (check.py): expected totals from the acks; store, rank index and
  every rank compared once the pipeline is quiet; lost and doubled as numbers.
- `FaultProxy` (proxy.py): drops the answer of every k-th request after the
  server did the work.
- `record` / `write_reliability` (report.py): var/faults/<fault>.json rows and
  docs/reliability.md.

A fault test injects its fault between `LoadGenerator.start()` and
`finish(...)`; the base URL and whatever kills or restarts a process are the
test's own, so the same pieces serve the distributed profile.
"""

from __future__ import annotations

from pathlib import Path

from tests.faults.check import (
    Checker,
    CheckResult,
    StoredTotal,
    StoreReader,
    expected_totals,
    sqlite_store_reader,
)
from tests.faults.friends import FriendGraph
from tests.faults.load import Ack, LoadGenerator, Submission
from tests.faults.proxy import FaultProxy
from tests.faults.report import FAULTS_DIR, RELIABILITY_MD, FaultRow, record, write_reliability

__all__ = [
    "Ack",
    "CheckResult",
    "Checker",
    "FaultProxy",
    "FaultRow",
    "FriendGraph",
    "LoadGenerator",
    "StoreReader",
    "StoredTotal",
    "Submission",
    "expected_totals",
    "finish",
    "record",
    "sqlite_store_reader",
    "write_reliability",
]


def finish(
    fault: str,
    profile: str,
    load: LoadGenerator,
    checker: Checker,
    *,
    notes: str = "",
    timeout_s: float = 60.0,
    friends: FriendGraph | None = None,
    faults_dir: Path = FAULTS_DIR,
    reliability_md: Path = RELIABILITY_MD,
) -> CheckResult:
    """Stop the load (every submission in flight retried until acknowledged), wait
    until the pipeline is quiet, check it, and record the run."""
    load.stop()
    assert not load.crashed, f"a game server crashed: {load.crashed}"
    assert not load.refused, f"submissions refused: {load.refused[:3]}"
    assert not load.abandoned, f"{len(load.abandoned)} submissions never acknowledged"
    result = checker.wait_and_check(load.acked, timeout_s=timeout_s)
    if friends is not None:
        # Every user's friends board too, against the ranking just checked.
        wrong = friends.wait_exact(load.board)
        if wrong:
            result.errors.append(f"friends boards differ from the reference for {len(wrong)} users: {wrong[:5]}")
        verdict = "exact" if not wrong else f"{len(wrong)} wrong"
        notes = f"{notes}; friends boards of {len(friends.lists)} users {verdict}".lstrip("; ")
    in_flight = max((n for _, n in load.faults), default=0)
    row = FaultRow(
        fault=fault,
        profile=profile,
        acked=result.acked,
        in_flight=in_flight,
        lost=max(result.lost, result.store_lost or 0),
        double_counted=max(result.doubled, result.store_doubled or 0),
        converge_s=None if result.converge_s is None else round(result.converge_s, 3),
        ranks_exact=not result.errors,
        notes=notes,
    )
    record(row, faults_dir, reliability_md)
    print(f"{fault} ({profile}): {result.summary()}; in flight at the fault {in_flight}; retries {load.retries}")
    return result
