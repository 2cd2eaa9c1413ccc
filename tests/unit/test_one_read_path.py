"""Every surface that shows a rank reads it through `Standings` (podium/usecases/standings.py), never
through the raw rank index: the tie rule lives where no reader can go around it. The
friends board and the live stream once read the raw index and numbered equals 1, 2, 3
on a `dense` board; this keeps any reader from doing that again."""

from __future__ import annotations

import ast
from pathlib import Path

import podium

ROOT = Path(podium.__file__).parent

# The modules that show ranks to players, and the rank-reading calls none of them may make
# on the index itself.
READERS = [
    "api/reads.py",
    "api/scores.py",
    "api/friends.py",
    "api/live.py",
    "api/users.py",
    "api/boards.py",
    "usecases/friends.py",
    "usecases/live_session.py",
    "usecases/users.py",
    "usecases/cohorts.py",
    "api/cohort_reads.py",
]
# `unplaced` too: its entries carry no rank (0) until Standings ranks them among themselves.
RANK_READS = {"entry", "entries", "unplaced", "page", "count_before", "counts_before", "groups_before"}


def index_reads(tree: ast.AST) -> list[str]:
    """Calls of a rank read on anything named `index` or `_index` (svc.index.page(...))."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in RANK_READS:
            owner = node.func.value
            name = owner.attr if isinstance(owner, ast.Attribute) else owner.id if isinstance(owner, ast.Name) else ""
            if name in ("index", "_index"):
                found.append(f"line {node.lineno}: {ast.unparse(node.func)}")
    return found


def test_no_reader_reads_the_raw_rank_index() -> None:
    for module in READERS:
        source = (ROOT / module).read_text()
        tree = ast.parse(source)
        assert index_reads(tree) == [], f"{module} reads the rank index around the tie rule"
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names}
        assert "RankIndex" not in imported, f"{module} takes a RankIndex: give it a Standings"
        assert "ranks" not in imported, f"{module} numbers ranks itself: read them from Standings"


def test_the_check_finds_a_raw_read() -> None:
    tree = ast.parse("async def f(svc):\n    return await svc.index.page(board, 1, 10)\n")
    assert index_reads(tree) == ["line 2: svc.index.page"]
