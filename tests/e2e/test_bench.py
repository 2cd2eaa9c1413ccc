"""The bench runs and writes its files: every figure issue 8 names, the plots and the
report (it checks that the bench works, not speeds). A short form of `make bench`:
the embedded profile, small sizes, on the tests' own Redis shards."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from podium.tools.bench import NAMED

pytestmark = pytest.mark.e2e

PNG = b"\x89PNG\r\n\x1a\n"


def bench(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "podium", "bench", "--no-progress", *args],
        env={"PODIUM_DATA": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_short_bench_writes_every_named_figure_and_the_plots(tmp_path: Path, redis_shards: list[str]) -> None:
    out = tmp_path / "bench"
    done = bench(
        "--quick", "--users", "3000", "--bucket-members", "500", "--seconds", "0.5", "--samples", "50",
        "--redis", ",".join(redis_shards), "--out", str(out), tmp_path=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report = orjson.loads((out / "bench.json").read_bytes())
    assert report["profile"] == "embedded"
    figures = {f["name"]: f for f in report["figures"]}
    assert set(NAMED) <= set(figures)
    for f in report["figures"]:
        assert set(f) == {"name", "value", "unit", "baseline", "ratio", "detail"}
    # What the embedded profile cannot measure says why; everything else is measured.
    not_here = {
        "ingest_batch_vs_raw_kafka",
        "workers_2_vs_1",
        "cores_per_million_scores_per_s_new",
        "cores_per_million_scores_per_s_returning",
        "db_stage_vs_raw_cassandra",
    }
    for name in not_here:
        assert figures[name]["value"] is None and figures[name]["detail"]["skipped"]
    for name in set(NAMED) - not_here:
        assert figures[name]["value"] is not None and figures[name]["value"] > 0, name
        if name.startswith(("e2e_",)) or name == "redis_rank_cpu_us_per_score":  # no raw engine under these
            continue
        assert figures[name]["baseline"] > 0 and figures[name]["ratio"] > 0, name
    e2e = figures["e2e_p50_ms"]
    assert e2e["detail"]["samples"] == 50
    assert e2e["value"] <= figures["e2e_p99_ms"]["value"]
    assert figures["rank_query_vs_zrevrank"]["detail"]["buckets"] >= 4
    assert figures["e2e_p99_ms"]["detail"]["target"] == "value <= 20"
    assert figures["rank_apply_sharded_vs_raw_zadd"]["detail"]["target"] == "ratio >= 0.5"
    assert "target" not in figures["workers_2_vs_1"]["detail"]  # retired by issue 19
    markdown = (out / "bench.md").read_text()
    for name in NAMED:
        assert name in markdown
    assert report["plots"] == ["throughput.png", "latency_cdf.png", "scaling.png"]
    for plot in report["plots"]:
        assert (out / plot).read_bytes().startswith(PNG)
        assert f"]({plot})" in markdown


def test_index_only_bench_on_given_shards(tmp_path: Path, redis_shards: list[str]) -> None:
    """`podium bench --index URLS`: only the index figures, on those servers."""
    out = tmp_path / "bench-index"
    done = bench("--index", ",".join(redis_shards), "--users", "2000", "--out", str(out), tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = {f["name"]: f for f in orjson.loads((out / "bench.json").read_bytes())["figures"]}
    for name in ("rank_query_vs_zrevrank", "top_page_vs_zrevrange", "around_query_vs_zrevrange"):
        for layout in ("", "_1_bucket"):
            assert figures[name + layout]["ratio"] > 0 and figures[name + layout]["baseline"] > 0
    assert figures["rank_apply_sharded_vs_raw_zadd"]["ratio"] > 0
    assert figures["redis_bytes_per_user"]["value"] > 0
    cpu = figures["redis_rank_cpu_us_per_score"]
    assert cpu["value"] > 0 and cpu["detail"]["replicas_us_per_score"] > 0 and cpu["detail"]["buckets"] > 1
    assert figures["e2e_p50_ms"]["value"] is None  # not run
