"""The bench's e2e stage on the distributed stack runs the pipeline as it is deployed: the
api, the db-worker and the rank-worker each a process of its own (README, "In production
each stage is its own process"), the bench's client apart from them. It checks the stage
works and what it ran, not its speed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

pytestmark = pytest.mark.distributed


def test_e2e_stage_runs_a_process_for_each_stage(tmp_path: Path) -> None:
    out = tmp_path / "bench"
    done = subprocess.run(
        [sys.executable, "-m", "podium", "bench", "--profile", "distributed", "--quick", "--no-progress",
         "--stages", "e2e", "--samples", "40", "--out", str(out)],
        env={**os.environ, "PODIUM_PROFILE": "distributed"},
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    figures = {f["name"]: f for f in orjson.loads((out / "bench.json").read_bytes())["figures"]}
    p99 = figures["e2e_p99_ms"]
    assert p99["detail"]["samples"] == 40
    assert 0 < figures["e2e_p50_ms"]["value"] <= p99["value"]
    assert p99["detail"]["path"].endswith("a process each")
    # Each stage ran in a process of its own, its log beside the report.
    logs = {path.name.split("-")[0] for path in (out / "logs").iterdir()}
    assert {"api", "db", "rank"} <= logs
