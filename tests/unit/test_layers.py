"""The layout's one direction (docs/architecture.md, "Where things are"): the domain, what
every part uses, and the ports with their adapters import nothing from the layers that use
them — the use cases, the pipeline's stages, the API, the tools, the composition root. A
port that needs something of a use case says it as a Protocol of its own (social/refill.py's
Progress) or is handed it by its caller (social/grow.py's boards)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "podium"
BELOW = ["domain", "plumbing", "log", "store", "cdc", "index", "social", "live", "visibility", "keystore",
         "jobstore", "limits"]  # fmt: skip
ABOVE = ("podium.usecases", "podium.pipeline", "podium.api", "podium.tools", "podium.bootstrap", "podium.cli")


def imported(path: Path) -> list[str]:
    """Every module `path` imports, at its top or inside a function."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            found += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return found


@pytest.mark.parametrize("part", BELOW)
def test_a_lower_layer_imports_nothing_above_it(part: str) -> None:
    files = sorted((PACKAGE / part).rglob("*.py"))
    assert files, part
    wrong = [
        f"{path.relative_to(PACKAGE)}: {name}" for path in files for name in imported(path) if name.startswith(ABOVE)
    ]
    assert wrong == []


def test_the_check_sees_an_import_from_above(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from podium.usecases.jobs import Job\n    return Job\n")
    assert [n for n in imported(module) if n.startswith(ABOVE)] == ["podium.usecases.jobs", "podium.usecases.jobs.Job"]
