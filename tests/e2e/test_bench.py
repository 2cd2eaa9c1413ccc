"""The bench runs and writes its files (it checks that the bench works, not speeds)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

pytestmark = pytest.mark.e2e


def test_quick_bench_writes_its_figures(tmp_path: Path) -> None:
    out = tmp_path / "bench"
    done = subprocess.run(
        [sys.executable, "-m", "podium", "bench", "--quick", "--out", str(out)],
        env={"PODIUM_DATA": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = orjson.loads((out / "bench.json").read_bytes())
    figures = {f["name"]: f for f in report["figures"]}
    assert {"e2e_p50_ms", "e2e_p99_ms"} <= set(figures)
    assert figures["e2e_p50_ms"]["detail"]["samples"] == 200
    assert 0 < figures["e2e_p50_ms"]["value"] <= figures["e2e_p99_ms"]["value"]
    assert "e2e_p99_ms" in (out / "bench.md").read_text()
