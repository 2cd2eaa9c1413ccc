"""Fixtures several integration modules share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from podium.store.sqlite import SqliteStore


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    """A fresh embedded store of the test's own (a module may define its own `store`)."""
    s = SqliteStore(tmp_path / "store.db")
    await s.open()
    yield s
    await s.close()
