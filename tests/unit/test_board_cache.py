"""The board cache: requests that find a board's cached settings run out share one read
of the store, and a change made in this process is never undone by a read begun
before it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from podium.domain.boards import Board, Reads
from podium.store.sqlite import SqliteStore
from podium.usecases.board_settings import Boards


class CountingStore(SqliteStore):
    """The real SQLite store, counting board reads and holding each one's answer until released."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.reads = 0
        self.release = asyncio.Event()

    async def get_board(self, name: str) -> Board | None:
        self.reads += 1
        board = await super().get_board(name)  # read now, answered later: a slow store
        await self.release.wait()
        return board


async def expired_cache(tmp_path: Path) -> tuple[CountingStore, Boards]:
    store = CountingStore(tmp_path / "store.db")
    await store.open()
    boards = Boards(store, cache_s=0.0)  # every find reads again: the cache has run out
    await boards.create(Board("arena"))
    return store, boards


async def test_concurrent_finds_after_expiry_read_the_store_once(tmp_path: Path) -> None:
    store, boards = await expired_cache(tmp_path)
    finds = [asyncio.ensure_future(boards.find("arena")) for _ in range(64)]
    await asyncio.sleep(0)
    store.release.set()
    found = await asyncio.gather(*finds)
    assert store.reads == 1
    assert {b.name if b else None for b in found} == {"arena"}
    await boards.find("arena")  # the read done, the next find reads again (cache_s 0)
    assert store.reads == 2
    await store.close()


async def test_a_caller_that_gives_up_does_not_cancel_the_others_read(tmp_path: Path) -> None:
    store, boards = await expired_cache(tmp_path)
    first = asyncio.ensure_future(boards.find("arena"))
    second = asyncio.ensure_future(boards.find("arena"))
    await asyncio.sleep(0)
    first.cancel()
    store.release.set()
    board = await second
    assert board is not None and board.name == "arena"
    assert first.cancelled() and store.reads == 1
    await store.close()


async def test_a_change_here_is_not_answered_over_by_an_older_read(tmp_path: Path) -> None:
    store, boards = await expired_cache(tmp_path)
    boards._cache_s = 60.0  # what is cached now stays
    older = asyncio.ensure_future(boards.find("arena"))  # begun before the change, held
    await settle()
    changed = Board("arena", reads=Reads.PUBLIC)
    await boards.update(changed)
    newer = asyncio.ensure_future(boards.find("arena"))  # after the change: the cache answers
    store.release.set()
    assert (await newer) == changed
    assert (await older) == Board("arena")  # it asked before the change
    assert (await boards.find("arena")) == changed  # and did not put the old settings back
    await store.close()


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)
