"""The db-worker reads a user's total only the first time it meets them in a tenure, and
what it remembers never makes a total wrong: not after another worker had the partition,
a failed write, a stall, or a deleted board."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from podium.domain.boards import Board
from podium.domain.totals import ScoreSubmitted, Total, UserRemoved
from podium.errors import BackendUnavailable
from podium.log.sqlite import SqliteLog
from podium.pipeline.codec import encode_event, log_key
from podium.pipeline.db_worker import DbWorker, DbWorkerSettings
from podium.pipeline.known_totals import KnownTotals
from podium.store.base import AppliedKey, UserKey
from podium.store.sqlite import SqliteStore
from podium.usecases.board_settings import Boards


class CountingStore(SqliteStore):
    """Counts the users read, and fails the next write after writing its first total."""

    reads: int = 0
    fail_next_write: bool = False

    async def load_totals(self, users: Sequence[UserKey]) -> dict[UserKey, Total]:
        self.reads += len(users)
        return await super().load_totals(users)

    async def write_totals(self, totals: Sequence[Total], keys: Sequence[AppliedKey]) -> None:
        if self.fail_next_write:
            self.fail_next_write = False
            await super().write_totals(totals[:1], keys)  # a part written, as a store may
            raise BackendUnavailable("store: write timed out")
        await super().write_totals(totals, keys)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CountingStore]:
    store = CountingStore(tmp_path / "store.db")
    await store.open()
    await store.create_board(Board("b"))
    yield store
    await store.close()


def worker(log: SqliteLog, store: CountingStore, **settings: float) -> DbWorker:
    boards = Boards(store, cache_s=0)  # a deleted board is seen at once
    return DbWorker(log.consumer("db-worker"), store, boards, DbWorkerSettings(poll_timeout_s=0.05, **settings))  # type: ignore[arg-type]


async def score(log: SqliteLog, *scores: tuple[str, int]) -> None:
    await log.append([(log_key("b", u), encode_event(ScoreSubmitted("b", u, s, None, 1))) for u, s in scores])


async def total(store: SqliteStore, user: str) -> int:
    return (await store.load_totals([("b", user)]))[("b", user)].total


async def test_a_returning_user_is_read_once(log: SqliteLog, store: CountingStore) -> None:
    w = worker(log, store)
    for _ in range(3):
        await score(log, ("u", 2), ("v", 1))
        await w.run_once()
    assert store.reads == 2
    assert (await total(store, "u"), await total(store, "v")) == (6, 3)


async def test_another_worker_in_between_is_read_again(log: SqliteLog, store: CountingStore) -> None:
    first, second = worker(log, store), worker(log, store)
    await score(log, ("u", 1))
    await first.run_once()
    await score(log, ("u", 10))
    await second.run_once()  # the partition was another's meanwhile
    await first.recover()  # a rewind: a new tenure
    await score(log, ("u", 100))
    await first.run_once()
    assert await total(store, "u") == 111


async def test_a_failed_write_forgets_and_the_redelivery_counts_once(log: SqliteLog, store: CountingStore) -> None:
    w = worker(log, store)
    await score(log, ("u", 1), ("v", 1))
    await w.run_once()
    await score(log, ("u", 10), ("v", 10))
    store.fail_next_write = True
    with pytest.raises(BackendUnavailable):
        await w.run_once()
    assert len(w._known) == 0
    await w.recover()
    await w.run_once()  # the batch again: u's part is recognised by its position
    assert (await total(store, "u"), await total(store, "v")) == (11, 11)


async def test_a_stalled_worker_forgets(log: SqliteLog, store: CountingStore) -> None:
    w = worker(log, store, known_for_s=0.0)
    await score(log, ("u", 1))
    await w.run_once()
    await score(log, ("u", 1))
    await w.run_once()
    assert store.reads == 2


async def test_a_deleted_board_starts_afresh(log: SqliteLog, store: CountingStore) -> None:
    w = worker(log, store)
    await score(log, ("u", 5))
    await w.run_once()
    await store.delete_board(["b"])
    await score(log, ("u", 1))  # for a board that is gone: skipped, and its users forgotten
    await w.run_once()
    await store.create_board(Board("b"))
    await score(log, ("u", 7))
    await w.run_once()
    assert await total(store, "u") == 7


async def test_a_board_deleted_and_made_again_in_the_same_process_starts_afresh(
    log: SqliteLog, store: CountingStore
) -> None:
    boards = Boards(store)  # cached: the worker would not see the board gone by itself
    w = DbWorker(log.consumer("db-worker"), store, boards, DbWorkerSettings(poll_timeout_s=0.05))
    await score(log, ("u", 5))
    await w.run_once()
    await boards.delete(["b"])
    await boards.create(Board("b"))
    await score(log, ("u", 7))
    await w.run_once()
    assert await total(store, "u") == 7


async def test_removals_and_bans_go_through_it_like_scores(log: SqliteLog, store: CountingStore) -> None:
    w = worker(log, store)
    await score(log, ("u", 5))
    await w.run_once()
    await log.append([(log_key("b", "u"), encode_event(UserRemoved("b", "u", 2)))])
    await score(log, ("u", 3))
    await w.run_once()
    assert store.reads == 1
    assert await total(store, "u") == 3


def test_the_least_recently_used_user_goes_first() -> None:
    known = KnownTotals(max_users=2)
    from podium.domain.totals import LogPosition

    def t(user: str) -> Total:
        return Total("b", user, 1, 1, 1, LogPosition(0, 1))

    known.remember([t("a"), t("b")])
    known.take([("b", "a")])
    known.remember([t("c")])
    assert sorted(known.take([("b", "a"), ("b", "b"), ("b", "c")])[1]) == [("b", "b")]
    known.forget_board("b")
    assert len(known) == 0
