"""Rebuild: refill boards' rank index from the store while the old copy serves.

Each board is rebuilt under a new generation of the index (index/generations.py):
marked first, so every write from then on reaches it; then filled from the store, a
chunk at a time; then swapped in; then, after a grace period, the old generation is
dropped. Versions make the store's copy and the writes made meanwhile agree.

Then the social index is refilled from the store too (social/refill.py): the friend
lists and the friends boards of the boards rebuilt.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging

import orjson

from podium.domain.boards import Board
from podium.domain.totals import Total
from podium.errors import BackendUnavailable
from podium.index.generations import GenerationalRankIndex, RebuildRunning
from podium.jobstore.base import JobRecord
from podium.social.base import SocialIndex
from podium.social.refill import refill_social
from podium.store.base import Store
from podium.usecases.board_settings import Boards
from podium.usecases.jobs import Job
from podium.usecases.period_boards import with_periods

log = logging.getLogger("podium.usecases.rebuild")

CHUNK_SIZE = 5000


async def rebuild(
    job: Job,
    store: Store,
    boards: Boards,
    index: GenerationalRankIndex,
    board_names: list[str] | None,
    *,
    force: bool = False,
    chunk_size: int = CHUNK_SIZE,
    social: SocialIndex | None = None,
) -> None:
    """Rebuild the named boards (None: every board), one after another, reporting to `job`."""
    names = board_names if board_names is not None else await store.board_names()
    targets = await with_periods(boards, names)  # each board's window periods too
    job.step = "counting"
    job.total = sum(await asyncio.gather(*(store.count_totals(b.name) for b in targets)))
    for board in targets:
        await rebuild_board(job, store, index, board, force=force, chunk_size=chunk_size)
    if social is not None:
        await refill_social(job, store, social, targets, chunk_size=chunk_size)


FILL_TRIES = 6


async def _fill(index: GenerationalRankIndex, board: Board, generation: int, chunk: list[Total]) -> list[Total]:
    """Fill one chunk, again after a moment if the index is briefly unavailable (a replica
    resyncing misses `WAIT`, a connection drops): a fill applies by version, so a chunk
    filled twice counts once, and one lost chunk need not throw the rebuild away."""
    for attempt in range(FILL_TRIES):
        try:
            return await index.fill(board, generation, chunk)
        except BackendUnavailable as exc:
            if attempt == FILL_TRIES - 1:
                raise
            log.warning("rebuild chunk failed, trying again", extra={"board": board.name, "error": str(exc)})
            await asyncio.sleep(min(0.25 * 2**attempt, 4.0))
    raise AssertionError("unreachable")


async def rebuild_board(
    job: Job, store: Store, index: GenerationalRankIndex, board: Board, *, force: bool, chunk_size: int
) -> None:
    job.step = f"rebuilding {board.name}"
    # Recorded before and after the generation is marked, so that a process ending this
    # job for a dead one knows which generation to abandon (end_abandoned_rebuild).
    await job.note(board=board.name)
    generation = await index.begin_rebuild(board, force=force)
    try:
        await job.note(board=board.name, generation=generation)
        async for chunk in store.totals_of(board.name, chunk_size):
            job.applied += len(await _fill(index, board, generation, chunk))
            job.done += len(chunk)
            # The new copy's objects live as long as the board: keep them out of the cyclic
            # collector's full passes, which otherwise walk millions of them at once and
            # stall the serving loop for over a second mid-rebuild (measured at 1 M users).
            gc.freeze()
            await asyncio.sleep(0)  # the embedded index fills on the serving loop: let reads in
    except BaseException:
        await asyncio.shield(index.abandon(board, generation))
        raise
    old = await index.swap(board, generation)
    if old is None:
        raise RebuildRunning(f"the rebuild of {board.name!r} was abandoned meanwhile (a forced rebuild took over)")
    log.info("rank index rebuilt", extra={"board": board.name, "generation": generation})
    # Readers may still hold the old generation for a moment, and a write under way may
    # still reach it: drop it once they are done.
    job.step = f"dropping the old copy of {board.name}"
    await job.note(board=board.name, dropping=old)
    await asyncio.sleep(index.drop_grace_s)
    await index.drop(board, old)
    await job.note()


async def end_abandoned_rebuild(record: JobRecord, boards: Boards, index: GenerationalRankIndex) -> str | None:
    """End the rebuild of a process that died, as `--force` would: the generation it was
    filling is abandoned (writers stop writing it, its keys are dropped) and the current
    one, the old copy, goes on serving; or, past the swap, the old copy it was about to
    drop is dropped. Returns what the job's error says when it is not the usual."""
    detail = orjson.loads(record.detail) if record.detail else {}
    board = await boards.find(detail["board"]) if "board" in detail else None
    if board is None:
        return None  # it had not begun a board yet, or the board was deleted since
    if "dropping" in detail:
        with contextlib.suppress(RebuildRunning):  # in use again: not the dead rebuild's to drop
            await index.drop(board, int(detail["dropping"]))
        return (
            f"its api process stopped renewing the job's lease after the new generation of {board.name!r} was "
            "swapped in: it serves, and the old one was dropped; start the rebuild again for the boards after it "
            "and the friends boards"
        )
    generation = detail.get("generation")
    if generation is None:
        # It died between noting the board and noting the generation it marked: the one
        # rebuilding is its (a second rebuild of a board is refused while one runs).
        generation = (await index.generations.read(board.name)).rebuilding
    if generation is not None:
        await index.abandon(board, int(generation))
        log.info("abandoned rebuild ended", extra={"board": board.name, "generation": generation, "job": record.id})
    return None
