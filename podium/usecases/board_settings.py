"""Board settings, read through a short-lived cache.

Most settings never change once a board is created; the few that may (PATCH) and a
deleted board reach every process within `cache_s`, because each cached board is read
again from the store after that long. A board the store does not know is not cached,
so a board created in another process is found at once.

When a cached board runs out, the requests that want it meanwhile share one read of
the store: a busy board's expiry used to send every request in flight to the store at
once (64 reads of one row seen under a 64-connection load).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from podium.domain.boards import Board, Reads
from podium.domain.windows import split_period_board
from podium.errors import BoardConflict, BoardNotFound
from podium.store.base import Store

CACHE_S = 2.0


class Boards:
    def __init__(self, store: Store, *, cache_s: float = CACHE_S) -> None:
        self._store = store
        self._cache_s = cache_s
        self._cache: dict[str, tuple[float, Board]] = {}
        self._public: tuple[float, list[str]] | None = None
        self._reading: dict[str, asyncio.Task[Board | None]] = {}  # one store read a name at a time
        self._on_delete: list[Callable[[str], None]] = []

    def on_delete(self, listener: Callable[[str], None]) -> None:
        """Call `listener(name)` for every board this process deletes: a db-worker in the
        same process forgets the board's totals at once, even if it is made again before
        any record for it arrives."""
        self._on_delete.append(listener)

    async def create(self, board: Board) -> tuple[Board, bool]:
        """Create the board; an existing one with other settings is a conflict."""
        stored, created = await self._store.create_board(board)
        if not created and stored != board:
            new, old = board.settings_json(), stored.settings_json()
            differ = [k for k in {**new, **old} if new.get(k) != old.get(k)]  # a tournament may be on one side only
            raise BoardConflict(
                f"board {board.name!r} exists with other settings ({', '.join(differ)}): "
                "change the mutable ones with PATCH, or delete the board first"
            )
        self._remember(stored)
        self._public = None  # this process's own changes show at once
        return stored, created

    async def update(self, board: Board) -> None:
        await self._store.update_board(board)
        self._remember(board)
        self._public = None

    async def delete(self, names: list[str]) -> None:
        await self._store.delete_board(names)
        for name in names:
            self._cache.pop(name, None)
            self._reading.pop(name, None)
            for listener in self._on_delete:
                listener(name)
        self._public = None

    def _remember(self, board: Board) -> None:
        self._cache[board.name] = (time.monotonic() + self._cache_s, board)
        self._reading.pop(board.name, None)  # a read begun before this change must not answer after it

    def cached(self, name: str) -> Board | None:
        """The board named, if it is cached and not yet due to be read again: no store, no
        await. Only a board the store gave is cached, so a name found here is a valid one."""
        cached = self._cache.get(name)
        return cached[1] if cached is not None and cached[0] > time.monotonic() else None

    async def find(self, name: str) -> Board | None:
        """The board named; for a window period's stored board (`domain.windows.period_board`),
        the board it belongs to under that name."""
        cached = self._cache.get(name)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        stored = split_period_board(name)
        if stored is not None:
            base = await self.find(stored[0])
            return base.renamed(name) if base is not None else None
        reading = self._reading.get(name)
        if reading is None:
            reading = asyncio.ensure_future(self._read(name))
            self._reading[name] = reading
            reading.add_done_callback(lambda done: self._reading.get(name) is done and self._reading.pop(name))
        # shield: a caller that gives up (a client gone) does not cancel the others' read
        return await asyncio.shield(reading)

    async def _read(self, name: str) -> Board | None:
        board = await self._store.get_board(name)
        if self._reading.get(name) is not asyncio.current_task():
            return board  # a change here came meanwhile: answer those who asked before it, cache nothing
        if board is None:
            self._cache.pop(name, None)
        else:
            self._remember(board)
        return board

    async def names(self) -> list[str]:
        """Every board's name, sorted (the web page's board picker)."""
        return await self._store.board_names()

    async def all(self) -> list[Board]:
        """Every board, sorted by name, read from the store in one read (and cached as `find`
        caches them)."""
        boards = await self._store.boards()
        for board in boards:
            self._remember(board)
        return boards

    async def public_names(self) -> list[str]:
        """The names of the boards anyone may read, sorted. Kept `cache_s` like the boards
        themselves: anonymous callers ask for it, and each answer reads every board."""
        if self._public is not None and self._public[0] > time.monotonic():
            return self._public[1]
        public = [b.name for b in await self.all() if b.reads is Reads.PUBLIC]  # one read, not one a board
        self._public = (time.monotonic() + self._cache_s, public)
        return public

    async def get(self, name: str) -> Board:
        board = await self.find(name)
        if board is None:
            raise BoardNotFound(f"no board named {name!r}")
        return board
