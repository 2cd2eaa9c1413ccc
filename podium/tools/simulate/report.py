"""The simulation's figures: a table on stdout, a JSON file, and the same table written
into docs/global.md between its markers."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from podium.tools.simulate.global_run import PHASES, Options, Outcome, staleness_ms

BEGIN = "<!-- podium simulate global: begin -->"
END = "<!-- podium simulate global: end -->"


def percentile(values: list[float], share: float) -> float | None:
    """Nearest rank: the smallest value at or above `share` of them."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def miscounted(expected: dict[str, int], found: dict[str, int], points: dict[str, int]) -> tuple[int, int]:
    """Scores lost and scores counted twice: each player scores the same points every match,
    so a wrong total divides into whole scores."""
    lost = doubled = 0
    for user in expected.keys() | found.keys():
        diff = found.get(user, 0) - expected.get(user, 0)
        lost += max(0, -diff) // points[user]
        doubled += max(0, diff) // points[user]
    return lost, doubled


def summarize(options: Options, outcome: Outcome, command: str) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for a in outcome.accepted:
        counts[a.user_id] = counts.get(a.user_id, 0) + 1
    expected = {user: n * outcome.points[user] for user, n in counts.items()}
    delays = staleness_ms(outcome)
    rows = []
    for phase in PHASES:
        for region in options.regions:
            row: dict[str, Any] = {"phase": phase, "region": region}
            for whose in ("own", "others"):
                found = delays.get((phase, region, whose), [])
                row[whose] = {
                    "p50_ms": _ms(percentile(found, 0.5)),
                    "p99_ms": _ms(percentile(found, 0.99)),
                    "samples": len(found),
                }
            rows.append(row)
    checks = {}
    for where, totals in outcome.totals.items():
        lost, doubled = miscounted(expected, totals, outcome.points)
        checks[where] = {"lost": lost, "doubled": doubled, "same_ranking": outcome.same_ranking.get(where, True)}
    exact = outcome.converge_s is not None and all(
        c["lost"] == 0 and c["doubled"] == 0 and c["same_ranking"] for c in checks.values()
    )
    return {
        "command": command,
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "home": options.home,
        "one_way_ms": options.one_way_ms,
        "players_per_region": options.players,
        "matches_per_player_s": options.matches_per_player_s,
        "phases_s": {"steady": options.steady_s, "partition": options.partition_s, "healed": options.healed_s},
        "cut": options.cut,
        "accepted": len(outcome.accepted),
        "accepted_in_cut_region_during_partition": sum(
            a.region == options.cut and a.phase == "partition" for a in outcome.accepted
        ),
        "rows": rows,
        "checks": checks,
        "exact": exact,
        "converge_s": None if outcome.converge_s is None else round(outcome.converge_s, 3),
        "mirrored": outcome.mirrored,
        "messages_lost_on_links": outcome.link_losses,
    }


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _pair(cell: dict[str, Any]) -> str:
    if not cell["samples"]:
        return "–"
    return f"{cell['p50_ms']:,.0f} / {cell['p99_ms']:,.0f}"


def table(result: dict[str, Any]) -> str:
    """The figures as a Markdown table and the totals check under it."""
    cut, phases = result["cut"], result["phases_s"]
    delays = ", ".join(f"{result['home']}↔{r} {ms:g} ms" for r, ms in result["one_way_ms"].items())
    lines = [
        f"Run: `{result['command']}`, {result['recorded_at']}. Home `{result['home']}`; one-way delays {delays}; "
        f"{result['players_per_region']} players a region, {result['matches_per_player_s']:g} score a second each; "
        f"{phases['steady']:g} s steady, then `{cut}` cut off for {phases['partition']:g} s, "
        f"then {phases['healed']:g} s healed.",
        "",
        "Staleness: from a score's acceptance (its region's log acknowledged it) to its region's index showing it, "
        "p50 / p99 in ms. *Own*: a player's own scores in its own region (its own rank); *others'*: everyone "
        "else's scores as that region sees them (the global top).",
        "",
        "| phase | region | own p50 / p99 ms | others' p50 / p99 ms | own scores |",
        "|---|---|---:|---:|---:|",
    ]
    for row in result["rows"]:
        region = row["region"] + (" (home)" if row["region"] == result["home"] else "")
        region += " (cut off)" if row["phase"] == "partition" and row["region"] == cut else ""
        samples = row["own"]["samples"]
        lines.append(f"| {row['phase']} | {region} | {_pair(row['own'])} | {_pair(row['others'])} | {samples:,} |")
    checks = result["checks"]
    wrong = {w: c for w, c in checks.items() if c["lost"] or c["doubled"] or not c["same_ranking"]}
    lines += [
        "",
        f"Totals: {result['accepted']:,} scores accepted, {result['accepted_in_cut_region_during_partition']:,} of "
        f"them in `{cut}` while it was cut off. "
        + (
            f"**Exact**: the store and every region's index equal a plain sum of the accepted scores "
            f"(0 lost, 0 counted twice) and every region ranks as home does, {result['converge_s']} s after the "
            "players stopped."
            if result["exact"]
            else f"**NOT EXACT**: {json.dumps(wrong)}; converged: {result['converge_s']}."
        ),
        "Mirror: "
        + ", ".join(
            f"{r} copied {m['copied']:,}, fetched again and skipped {m['skipped']:,}"
            for r, m in result["mirrored"].items()
        )
        + "; messages lost on the links: "
        + ", ".join(f"{link} {n}" for link, n in result["messages_lost_on_links"].items())
        + ".",
    ]
    return "\n".join(lines)


def write_json(result: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n")


def write_doc(result: dict[str, Any], path: Path) -> None:
    """Replace what is between the markers in `path` with the figures."""
    text = path.read_text()
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"{path} has no {BEGIN} … {END} markers")
    note = "<!-- written by `podium simulate global --doc`; do not edit by hand -->"
    path.write_text(text[: start + len(BEGIN)] + f"\n{note}\n\n{table(result)}\n\n" + text[end:])
