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


def test_index_bench_writes_ratios_against_plain_sorted_sets(tmp_path: Path, redis_shards: list[str]) -> None:
    out = tmp_path / "bench-index"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "podium",
            "bench",
            "--index",
            ",".join(redis_shards),
            "--users",
            "3000",
            "--bucket-members",
            "500",
            "--out",
            str(out),
        ],
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    figures = {f["name"]: f for f in orjson.loads((out / "bench.json").read_bytes())["figures"]}
    for name in ("rank_query_vs_zrevrank", "top_page_vs_zrevrange", "around_query_vs_zrevrange"):
        for layout in ("1_bucket", "sharded"):
            figure = figures[f"{name}_{layout}"]
            assert figure["ratio"] > 0 and figure["baseline"] > 0
    assert figures["rank_query_vs_zrevrank_sharded"]["detail"]["buckets"] >= 6
    assert figures["rank_apply_sharded_vs_raw_zadd"]["ratio"] > 0
