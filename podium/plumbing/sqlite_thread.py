"""A SQLite connection owned by one thread, driven from asyncio.

sqlite3 calls block; running each connection on its own single thread keeps
the event loop free and gives every connection a strict order of statements.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from podium.errors import BackendUnavailable

T = TypeVar("T")

SYNCHRONOUS = {"full": "FULL", "normal": "NORMAL", "off": "OFF"}


class SqliteThread:
    def __init__(self, path: Path, *, synchronous: str = "full", name: str = "sqlite") -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._path = path
        self._synchronous = SYNCHRONOUS[synchronous]
        self._conn: sqlite3.Connection | None = None

    def _open(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit mode: transactions are explicit BEGIN/COMMIT in each job.
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={self._synchronous}")
        conn.execute("PRAGMA busy_timeout=5000")
        self._conn = conn

    async def run(self, job: Callable[[sqlite3.Connection], T]) -> T:
        """Run `job(conn)` on the connection's thread; sqlite errors become BackendUnavailable."""
        loop = asyncio.get_running_loop()

        def call() -> T:
            if self._conn is None:
                self._open()
            assert self._conn is not None
            try:
                return job(self._conn)
            except sqlite3.Error as exc:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise BackendUnavailable(f"sqlite {self._path.name}: {exc}") from exc

        return await loop.run_in_executor(self._executor, call)

    async def close(self) -> None:
        def shut(conn: sqlite3.Connection) -> None:
            conn.close()

        if self._conn is not None:
            await self.run(shut)
            self._conn = None
        self._executor.shutdown(wait=True)


def transaction(conn: sqlite3.Connection, body: Callable[[sqlite3.Connection], T]) -> T:
    """Run `body` inside BEGIN IMMEDIATE ... COMMIT (rolled back on error)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = body(conn)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return result
