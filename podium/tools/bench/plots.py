"""The bench's PNG plots: throughput per stage (ours beside the raw engine), latency
CDFs, and scaling (connections, worker processes). matplotlib is a bench dependency
(`pip install -e '.[bench]'`), imported only here and only when plotting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from podium.tools.bench.report import Results

OURS, RAW, ONE_BUCKET = "#1f6feb", "#9aa4ad", "#e8912d"


def write(out: Path, results: Results) -> list[str]:
    """Draw the plots into `out`; returns their file names."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    made = []
    for name, draw in (("throughput.png", _throughput), ("latency_cdf.png", _latency), ("scaling.png", _scaling)):
        fig = draw(plt, results)
        fig.savefig(out / name, dpi=110, bbox_inches="tight")
        plt.close(fig)
        made.append(name)
    return made


def _throughput(plt: Any, results: Results) -> Any:
    rows = [f for f in results.figures if f.unit.endswith("/s") and f.value is not None and f.baseline]
    for f in results.figures:  # the rank-worker's stages, each against the same raw ZADD rate
        if f.name == "rank_apply_vs_raw_zadd" and f.value is not None:
            for key, label in (
                ("index_only_per_s", "index apply alone"),
                ("worker_without_live_per_s", "worker, no live hub"),
            ):
                if key in f.detail:
                    rows.append(type(f)(f"  rank apply: {label}", f.detail[key], f.unit, f.baseline))
    fig, ax = plt.subplots(figsize=(9, 0.55 * max(len(rows), 1) + 1.2))
    if not rows:
        ax.text(0.5, 0.5, "no throughput figure in this run", ha="center", va="center")
        ax.set_axis_off()
        return fig
    y = list(range(len(rows)))
    ax.barh([i + 0.2 for i in y], [r.value for r in rows], height=0.4, color=OURS, label="Podium")
    ax.barh([i - 0.2 for i in y], [r.baseline for r in rows], height=0.4, color=RAW, label="raw engine / other")
    for i, r in enumerate(rows):
        ax.text(r.value, i + 0.2, f" {r.value:,.0f} {r.unit}", va="center", fontsize=7)
    ax.set_yticks(y, [r.name for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("per second (log scale)")
    ax.set_title(f"Throughput per stage vs the raw engine, same run ({results.profile})")
    ax.legend(loc="lower right", fontsize=8)
    return fig


def _latency(plt: Any, results: Results) -> Any:
    import matplotlib.ticker

    groups: dict[str, dict[str, list[float]]] = {}
    for label, values in results.latencies_ms.items():
        groups.setdefault(label.split()[0], {})[label] = values
    order = ["e2e", "rank", "window", "page"]
    panels = sorted(groups, key=lambda p: order.index(p) if p in order else len(order)) or ["none"]
    columns = min(len(panels), 2)
    rows = (len(panels) + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(5.5 * columns, 3.6 * rows), squeeze=False)
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_axis_off()
    for ax, panel in zip(axes.flat, panels, strict=False):
        for label, values in sorted(groups.get(panel, {}).items()):
            ordered = sorted(values)
            n = len(ordered)
            color = RAW if "plain" in label else ONE_BUCKET if "1_bucket" in label else OURS
            ax.plot(ordered, [(i + 1) / n for i in range(n)], label=label, lw=1.4, color=color)
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: f"{x:g}"))
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("ms (log scale)")
        ax.set_ylabel("share of requests")
        ax.set_title({"e2e": "submit → visible", "rank": "rank of a user", "page": "page of 100",
                      "window": "around (11)"}.get(panel, panel), fontsize=10)  # fmt: skip
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    fig.suptitle(f"Latency CDFs ({results.profile})")
    fig.tight_layout()
    return fig


def _scaling(plt: Any, results: Results) -> Any:
    panels = sorted(results.scaling) or ["none"]
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.6), squeeze=False)
    for ax, panel in zip(axes[0], panels, strict=True):
        lines = results.scaling.get(panel, {})
        for label, points in lines.items():
            xs = sorted(points)
            color = OURS if "podium" in label else ONE_BUCKET if "stage" in label else RAW
            ax.plot(xs, [points[x] for x in xs], marker="o", label=label, color=color)
        if panel == "worker processes" and lines:
            points = next(iter(lines.values()))
            if 1 in points:
                ax.plot(sorted(points), [points[1] * x for x in sorted(points)], ls="--", color=RAW, label="linear")
        ax.set_xlabel(panel)
        ax.set_ylabel("per second")
        ax.set_xscale("log", base=2)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        titles = {"connections": "single submissions vs connections",
                  "worker processes": "pipeline scores/s vs worker processes"}  # fmt: skip
        ax.set_title(titles.get(panel, panel), fontsize=10)
    fig.suptitle(f"Scaling ({results.profile})")
    fig.tight_layout()
    return fig
