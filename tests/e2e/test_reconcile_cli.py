"""`podium reconcile` against a real `podium serve` (embedded profile): clean at first;
then drift made behind the service's back (totals changed in store.db without the
change outbox, so the in-memory index never hears of them) is reported by a dry run,
which exits 1 and repairs nothing, and repaired by a real run, which exits 0. The
reports land where asked, or under the data directory."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import PodiumProcess

pytestmark = pytest.mark.e2e


def reconcile(server: PodiumProcess, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PODIUM_DATA": str(server.data)}
    command = [sys.executable, "-m", "podium", "reconcile", "--url", server.base_url, *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


def top(server: PodiumProcess, board: str) -> list[tuple[int, str, int]]:
    entries = httpx.get(f"{server.base_url}/v1/boards/{board}/top", params={"limit": 100}).json()["entries"]
    return [(e["rank"], e["user_id"], e["score"]) for e in entries]


def test_reconcile_cli_reports_then_repairs_drift(tmp_path: Path) -> None:
    with PodiumProcess(tmp_path / "data").start() as server:
        base = server.base_url
        assert httpx.put(f"{base}/v1/boards/arena", json={}).status_code == 201
        assert httpx.put(f"{base}/v1/boards/quiet", json={}).status_code == 201
        scores = [{"user_id": f"p{i}", "score": 10 * i} for i in range(1, 9)]
        answer = httpx.post(f"{base}/v1/boards/arena/scores/batch?wait=true", json={"scores": scores}, timeout=30)
        assert answer.status_code == 200

        clean = reconcile(server, "--dry-run", "--report", str(tmp_path / "clean.json"))
        assert clean.returncode == 0, clean.stderr
        report = json.loads((tmp_path / "clean.json").read_text())
        assert [b["board"] for b in report["boards"]] == ["arena", "quiet"]
        assert report["totals"]["checked_users"] == 8 and report["totals"]["drift"] == 0
        assert "2 board(s), 8 users checked, 0 drifted" in clean.stdout

        # Behind the service's back: the store's totals change, the outbox (so the index) never hears.
        with sqlite3.connect(server.data / "store.db", timeout=10) as db:
            db.execute("UPDATE totals SET total = 1000, version = version + 1 WHERE board = 'arena' AND user_id = 'p2'")
            db.execute("DELETE FROM totals WHERE board = 'arena' AND user_id = 'p5'")
            db.execute(
                "INSERT INTO totals (board, user_id, total, version, reached_at_us, log_partition, log_offset, "
                "removed, updated_at_us) SELECT board, 'newcomer', 45, 1, reached_at_us, log_partition, log_offset, "
                "removed, updated_at_us FROM totals WHERE board = 'arena' AND user_id = 'p1'"
            )
        before = top(server, "arena")

        dry = reconcile(server, "--dry-run", "--board", "arena", "--report", str(tmp_path / "dry.json"))
        assert dry.returncode == 1, dry.stdout + dry.stderr
        report = json.loads((tmp_path / "dry.json").read_text())
        [arena] = report["boards"]
        assert {d["user_id"]: d["kind"] for d in arena["drift"]} == {
            "p2": "wrong_score",
            "p5": "extra",
            "newcomer": "missing",
        }
        assert arena["repaired"] == 0 and report["dry_run"] is True
        assert "3 drifted (missing 1, extra 1, wrong_score 1); dry run, nothing repaired" in dry.stdout
        assert top(server, "arena") == before  # a dry run changes nothing

        fixed = reconcile(server, "--board", "arena")
        assert fixed.returncode == 0, fixed.stdout + fixed.stderr
        written = sorted((server.data / "reconcile").glob("report-*.json"))
        assert len(written) == 1 and str(written[0]) in fixed.stdout
        report = json.loads(written[0].read_text())
        assert report["totals"]["repaired"] == 3 and report["totals"]["remaining"] == 0
        want = sorted([(10 * i, f"p{i}") for i in (1, 3, 4, 6, 7, 8)] + [(1000, "p2"), (45, "newcomer")], reverse=True)
        assert top(server, "arena") == [(r + 1, u, s) for r, (s, u) in enumerate(want)]

        unknown = reconcile(server, "--board", "nope")
        assert unknown.returncode == 1 and "no board named 'nope'" in unknown.stderr
