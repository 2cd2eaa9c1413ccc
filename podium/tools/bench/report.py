"""What a bench run writes: DIR/bench.json (the figures, as a list of {name, value, unit,
baseline, ratio, detail}, with the profile, the machine and the run's settings) and
DIR/bench.md (the same as a table, with the issue's targets, and the plots)."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from podium.tools.bench import NAMED, Figure, meets, target


@dataclass
class Results:
    profile: str
    figures: list[Figure] = field(default_factory=list)
    # For the plots: latency samples (ms) by label, and throughput by label and x.
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    scaling: dict[str, dict[str, dict[int, float]]] = field(default_factory=dict)
    run: dict[str, Any] = field(default_factory=dict)
    plots: list[str] = field(default_factory=list)


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    except (OSError, StopIteration):
        mem_kb = 0
    redis = ""
    if shutil.which("redis-server"):
        redis = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.split()[2][2:]
    return {
        "cpus": os.cpu_count() or 0,
        "cpu_model": model,
        "memory_gib": round(mem_kb / 2**20, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "redis": redis,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def with_targets(figure: Figure, profile: str) -> dict[str, Any]:
    row = asdict(figure)
    goal = target(figure.name, profile)
    if goal is not None:
        row["detail"] = {**row["detail"], "target": f"{goal[0]} {goal[1]} {goal[2]:g}", "meets": meets(figure, profile)}
    return row


def write(out: Path, results: Results) -> None:
    out.mkdir(parents=True, exist_ok=True)
    report = {
        "profile": results.profile,
        "machine": machine(),
        "run": {**results.run, "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")},
        "figures": [with_targets(f, results.profile) for f in results.figures],
        "plots": results.plots,
    }
    (out / "bench.json").write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    (out / "bench.md").write_text(markdown(report))


def _num(x: Any) -> str:
    if x is None:
        return ""
    if isinstance(x, float) and x >= 100:
        return f"{x:,.0f}"
    if isinstance(x, int | float):
        return f"{x:,}" if abs(x) >= 1000 else f"{x:g}"
    return str(x)


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        f"# podium bench ({report['profile']})",
        "",
        f"{m['cpus']} cores ({m['cpu_model']}), {m['memory_gib']} GiB, {m['platform']}, Python {m['python']}, "
        f"Redis {m['redis']}; load average at the end {', '.join(map(str, m['load_average']))}.",
        "",
        f"Run: `{report['run'].get('command', 'podium bench')}`, {report['run'].get('started_at', '')} "
        f"to {report['run']['finished_at']}.",
        "",
        "| figure | value | unit | baseline (raw engine, same run) | ratio | target | met |",
        "|---|---|---|---|---|---|---|",
    ]
    named = [f for f in report["figures"] if f["name"] in NAMED]
    others = [f for f in report["figures"] if f["name"] not in NAMED]
    for f in named + others:
        d = f["detail"]
        if f["value"] is None:
            lines.append(
                f"| {f['name']} | skipped: {d.get('skipped', '')} | {f['unit']} | | | {d.get('target', '')} | |"
            )
            continue
        met = {True: "yes", False: "**no**"}.get(d.get("meets"), "")
        lines.append(
            f"| {f['name']} | {_num(f['value'])} | {f['unit']} | {_num(f['baseline'])} | {_num(f['ratio'])} "
            f"| {d.get('target', '')} | {met} |"
        )
    lines += ["", "## Details", ""]
    for f in report["figures"]:
        shown = {k: v for k, v in f["detail"].items() if k not in ("target", "meets")}
        lines.append(f"- `{f['name']}`: {orjson.dumps(shown).decode()}")
    if report["plots"]:
        lines += ["", "## Plots", ""]
        lines += [f"![{p}]({p})" for p in report["plots"]]
    return "\n".join(lines) + "\n"
