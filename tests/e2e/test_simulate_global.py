"""`podium simulate global`, the short form: three regions, one cut off for 3 s. Every total
exact afterwards, staleness sane, and the figures written into docs/global.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from podium.cli import main
from podium.tools.simulate.report import BEGIN, END

GLOBAL_MD = Path(__file__).resolve().parents[2] / "docs" / "global.md"


def cell(result: dict[str, Any], phase: str, region: str, whose: str) -> dict[str, Any]:
    [row] = [r for r in result["rows"] if r["phase"] == phase and r["region"] == region]
    found: dict[str, Any] = row[whose]
    assert found["samples"] > 0, (phase, region, whose)
    return found


def test_the_short_simulation_is_exact_and_its_staleness_sane(tmp_path: Path) -> None:
    code = main(["simulate", "global", "--quick", "--no-progress", "--out", str(tmp_path), "--doc", str(GLOBAL_MD)])
    result = json.loads((tmp_path / "global.json").read_text())
    assert code == 0 and result["exact"], result["checks"]
    assert all(c == {"lost": 0, "doubled": 0, "same_ranking": True} for c in result["checks"].values())
    # Scores accepted in the cut-off region while it was cut off were applied once, after the heal.
    assert result["accepted_in_cut_region_during_partition"] > 0
    cut, home = result["cut"], result["home"]
    steady = {r: cell(result, "steady", r, "own") for r in (home, "eu", "ap")}
    # A score from away crosses the link twice (home, then back to the replica): at least a round trip.
    for region, one_way_ms in result["one_way_ms"].items():
        assert steady[region]["p50_ms"] >= 2 * one_way_ms
    assert steady[home]["p50_ms"] < steady["eu"]["p50_ms"] < steady["ap"]["p50_ms"]
    # Cut off, a region sees neither its own scores nor anyone else's until the heal.
    during = cell(result, "partition", cut, "own")
    assert during["p50_ms"] > steady[cut]["p99_ms"]
    assert cell(result, "partition", cut, "others")["p50_ms"] > cell(result, "steady", cut, "others")["p99_ms"]
    # Without the partition nothing waits anywhere near as long as the cut lasted.
    assert max(s["p99_ms"] for s in steady.values()) < result["phases_s"]["partition"] * 1000
    text = GLOBAL_MD.read_text()
    assert result["recorded_at"] in text[text.index(BEGIN) : text.index(END)]
