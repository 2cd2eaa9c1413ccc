"""A start that fails part-way closes what it opened: no SQLite thread, worker task or
key store outlives it, and the next start in the same data directory works."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from podium import bootstrap
from podium.log.sqlite import SqliteLog
from podium.settings import Settings
from podium.usecases.api_keys import Keys


class Refused(Exception):
    pass


def refuse(*args: Any, **kwargs: Any) -> Any:
    raise Refused("refused by the test")


async def refuse_async(*args: Any, **kwargs: Any) -> Any:
    raise Refused("refused by the test")


async def log_opens_then_fails(log: SqliteLog) -> None:
    """An open that fails half-way: its connection (and thread) exists already."""
    await OPEN_LOG(log)
    raise Refused("refused by the test")


OPEN_LOG = SqliteLog.open

# Where the start fails: in an adapter's open, in the index's fill, in the key store's
# first read (once the workers run), or at the very end.
FAILURES = {
    "log open": (SqliteLog, "open", log_opens_then_fails),
    "index fill": (bootstrap, "_rebuild", refuse_async),
    "key store read": (Keys, "records", refuse_async),
    "after the keys": (bootstrap, "Friends", refuse),
}


@pytest.mark.parametrize("where", FAILURES)
async def test_a_failed_start_closes_what_it_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    settings = Settings(data=tmp_path / "data", auth="on")
    threads_before = set(threading.enumerate())
    tasks_before = asyncio.all_tasks()
    owner, name, replacement = FAILURES[where]
    with monkeypatch.context() as patched:
        patched.setattr(owner, name, replacement)
        with pytest.raises(Refused):
            async with bootstrap.open_api(settings):
                pytest.fail("the start should have failed")

    left = [t.name for t in threading.enumerate() if t not in threads_before and t.is_alive()]
    assert left == [], f"threads left running: {left}"
    tasks_left = [t.get_name() for t in asyncio.all_tasks() - tasks_before if not t.done()]
    assert tasks_left == [], f"tasks left running: {tasks_left}"

    # Nothing holds the data directory: the next start opens it and serves.
    async with bootstrap.open_api(settings) as services:
        assert all(w.name for w in services.workers)
    left = [t.name for t in threading.enumerate() if t not in threads_before and t.is_alive()]
    assert left == [], f"threads left running after a clean stop: {left}"
