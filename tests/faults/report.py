"""The fault suite's record: one JSON file of rows per fault under var/faults/, and
docs/reliability.md rendered from all of them.

    .venv/bin/python -m tests.faults.report    # re-render docs/reliability.md
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
FAULTS_DIR = ROOT / "var" / "faults"
RELIABILITY_MD = ROOT / "docs" / "reliability.md"


@dataclass(frozen=True)
class FaultRow:
    fault: str
    profile: str
    acked: int
    in_flight: int  # submissions sent and not yet acknowledged at the fault
    lost: int
    double_counted: int
    converge_s: float | None  # from the last acknowledgement to the exact state; None: never
    ranks_exact: bool = True
    notes: str = ""
    recorded_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def exact(self) -> bool:
        return self.lost == 0 and self.double_counted == 0 and self.ranks_exact and self.converge_s is not None


def append_row(row: FaultRow, directory: Path = FAULTS_DIR) -> Path:
    """Add a run to var/faults/<fault>.json (written whole, then renamed into place)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{re.sub(r'[^a-z0-9]+', '-', row.fault.lower()).strip('-')}.json"
    rows = json.loads(path.read_text()) if path.exists() else []
    rows.append(asdict(row))
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
    with os.fdopen(fd, "w") as out:
        json.dump(rows, out, indent=1)
    os.replace(tmp, path)
    return path


ROW_FIELDS = frozenset(FaultRow.__dataclass_fields__)


def load_rows(directory: Path = FAULTS_DIR) -> tuple[list[FaultRow], dict[str, Any]]:
    """The rows of every file, and apart (by file name) what a file holds in another shape."""
    rows: list[FaultRow] = []
    others: dict[str, Any] = {}
    for path in sorted(directory.glob("*.json")):
        data = json.loads(path.read_text())
        if isinstance(data, list) and all(isinstance(r, dict) and set(r) <= ROW_FIELDS for r in data):
            try:
                rows += [FaultRow(**r) for r in data]
                continue
            except TypeError:  # a field missing
                pass
        others[path.name] = data
    return rows, others


METHOD = """\
How these figures are made (`tests/faults/`): several threads act as game
servers, each owning its users and sending `POST /v1/boards/{board}/scores`
with a unique idempotency key per submission; on a connection error, a
time-out or a 5xx they retry the same submission with the same key until it is
acknowledged, as a real game server would. While they run, one fault is
injected. *In flight* is how many submissions had been sent and not yet
acknowledged at the fault (for a repeated fault, the most at any one of them).
Once the load stops, the checker computes each user's expected total from the
acknowledged submissions and polls the rank index until it equals them and
stays unchanged for a second; *time to converge* runs from the last
acknowledgement to the first read of that final state. It then compares the
store's totals, the rank index's totals (top pages, each user's entry and the
window around each user) and every rank with a plain sorted list using the tie
rule of docs/architecture.md. *Lost* and *double-counted* count submissions
(each user's submissions all have the same score, so a wrong total divides
into whole submissions). Each row is the latest run of that fault; *runs*
counts every recorded run and how many were not exact.
"""


def render(rows: list[FaultRow], others: dict[str, Any] | None = None) -> str:
    latest: dict[tuple[str, str], FaultRow] = {}
    runs: dict[tuple[str, str], list[FaultRow]] = {}
    for row in sorted(rows, key=lambda r: r.recorded_at):
        latest[(row.fault, row.profile)] = row
        runs.setdefault((row.fault, row.profile), []).append(row)
    lines = [
        "# Reliability: exactly once under faults",
        "",
        "Written by the fault suite (`tests/faults/report.py`); do not edit by hand.",
        "",
        "| fault | profile | acked | in flight | lost | double-counted | ranks | time to converge | runs | notes |",
        "|---|---|---:|---:|---:|---:|---|---:|---|---|",
    ]
    for key, row in sorted(latest.items()):
        bad = sum(not r.exact for r in runs[key])
        converge = f"{row.converge_s:.3f} s" if row.converge_s is not None else "never"
        lines.append(
            f"| {row.fault} | {row.profile} | {row.acked} | {row.in_flight} | {row.lost} | {row.double_counted} "
            f"| {'exact' if row.ranks_exact else 'WRONG'} | {converge} | {len(runs[key])} ({bad} not exact) "
            f"| {row.notes} |"
        )
    lines += ["", "## Method", "", METHOD]
    if others:
        lines += ["## Other records", "", "Files in var/faults/ not in the row format above, as they are:", ""]
        for name, data in sorted(others.items()):
            lines += [f"`{name}`:", "", "```json", json.dumps(data, indent=1), "```", ""]
    return "\n".join(lines)


def write_reliability(directory: Path = FAULTS_DIR, out: Path = RELIABILITY_MD) -> str:
    text = render(*load_rows(directory))
    out.write_text(text)
    return text


def record(row: FaultRow, directory: Path = FAULTS_DIR, out: Path = RELIABILITY_MD) -> None:
    """Append the row and re-render the document."""
    append_row(row, directory)
    write_reliability(directory, out)


if __name__ == "__main__":
    print(write_reliability())
