"""Fixtures several integration modules share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from podium.log.sqlite import SqliteLog
from podium.store.sqlite import SqliteStore


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    """A fresh embedded store of the test's own (a module may define its own `store`)."""
    s = SqliteStore(tmp_path / "store.db")
    await s.open()
    yield s
    await s.close()


@pytest.fixture
async def log(tmp_path: Path) -> AsyncIterator[SqliteLog]:
    """A fresh embedded log of the test's own."""
    log = SqliteLog(tmp_path / "log.db")
    await log.open()
    yield log
    await log.close()
