"""The distributed tournament store: three tables of the Podium keyspace, read and written
through the store's session. Cassandra has no transaction over a count, so each count is a
set of numbered rows, and a row is taken with a lightweight transaction (`IF NOT EXISTS`):

- a period's places are rows `slot` 0, 1, … of one partition (board, period). A joiner
  reads the taken ones and takes the lowest free number below `max_players`; of two api
  processes taking the same number Paxos lets one win, and the other reads again. So the
  players are never more than `max_players`, and the first to take a place keeps it. A
  second table finds a player's place by user (one read on every submission);
- a player's attempts in a period are rows `slot` 0, 1, … of one partition (board, period,
  user), each naming its attempt: an attempt already named there is a retry, counted once.

A place's number is the lowest free one the joiner saw, and it joins only if it saw fewer
than `max_players` taken: so every number is below `max_players`, and there are never more
places than that, whatever a read missed (an attempt's likewise, below `max_attempts`).
That a retried attempt is found, not counted again, needs the read to see the row its first
send took: true on the stack's one node; on a cluster of several, these reads should be made
at SERIAL consistency, which the store's `execute` does not offer yet (left for later).

Partitions cannot be found by board alone, so two more tables name what a deleted board
drops: the periods of a board that have rows (one partition a board), and the users with
attempts in a period (one partition a period). Each is written before the rows it names, so
a crash leaves a name without rows, never rows without a name. (Rows written before these
tables existed are not named: a board deleted then keeps them.)

Every row is written with a TTL to its `expires_at_us` (the period's end plus the setting
PODIUM_TOURNAMENT_ROWS_KEPT_S): a finished period's rows, never read again, go by themselves.

A place taken and not yet recorded by user (a crash between the two writes) is found again
when the user joins again; a place given up and not yet freed (a crash in a leave) stays
taken until the user joins and leaves again."""

from __future__ import annotations

import time
from functools import partial
from typing import TYPE_CHECKING

from podium.errors import BackendUnavailable
from podium.plumbing import bounded, names
from podium.tournaments.base import Attempt, Joined

if TYPE_CHECKING:
    from podium.store.cassandra import CassandraStore

SLOTS = "{ks}." + names.TOURNAMENT_SLOTS_TABLE
PLAYERS = "{ks}." + names.TOURNAMENT_PLAYERS_TABLE
ATTEMPTS = "{ks}." + names.TOURNAMENT_ATTEMPTS_TABLE
PERIODS = "{ks}." + names.TOURNAMENT_PERIODS_TABLE
ATTEMPTERS = "{ks}." + names.TOURNAMENT_ATTEMPTERS_TABLE
SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {SLOTS} (board text, period text, slot int, user_id text, "
    "PRIMARY KEY ((board, period), slot))",
    f"CREATE TABLE IF NOT EXISTS {PLAYERS} (board text, period text, user_id text, slot int, "
    "joined_at_us bigint, PRIMARY KEY ((board, period, user_id)))",
    f"CREATE TABLE IF NOT EXISTS {ATTEMPTS} (board text, period text, user_id text, slot int, attempt text, "
    "PRIMARY KEY ((board, period, user_id), slot))",
    f"CREATE TABLE IF NOT EXISTS {PERIODS} (board text, period text, PRIMARY KEY ((board), period))",
    f"CREATE TABLE IF NOT EXISTS {ATTEMPTERS} (board text, period text, user_id text, "
    "PRIMARY KEY ((board, period), user_id))",
)
DROP_PLAYER = f"DELETE FROM {PLAYERS} WHERE board = ? AND period = ? AND user_id = ?"
DROP_ATTEMPTS = f"DELETE FROM {ATTEMPTS} WHERE board = ? AND period = ? AND user_id = ?"
MAX_TTL_S = 630_720_000  # Cassandra's longest TTL (20 years): a row to expire later is kept for good
MAX_TRIES = 200  # lost races in a row before a join or an attempt gives up (a 503: retry)


class CassandraTournamentStore:
    def __init__(self, store: CassandraStore) -> None:
        self._store = store  # owns the session: closing the store closes it

    async def prepare(self) -> None:
        """Create the tables if missing (idempotent; each process may run it at start)."""
        for statement in SCHEMA:
            await self._store.execute(statement)

    async def join(
        self, board: str, period: str, user_id: str, max_players: int | None, *, expires_at_us: int | None = None
    ) -> Joined:
        if await self.has_joined(board, period, user_id):
            return Joined.ALREADY
        ttl_s = _ttl_s(expires_at_us)
        await self._name_period(board, period, ttl_s)
        for _ in range(MAX_TRIES):
            rows = await self._store.execute(
                f"SELECT slot, user_id FROM {SLOTS} WHERE board = ? AND period = ?", (board, period)
            )
            taken = {slot: user for slot, user in rows}
            mine = next((slot for slot, user in taken.items() if user == user_id), None)
            if mine is None:
                if max_players is not None and len(taken) >= max_players:
                    return Joined.FULL
                free = _lowest_free(taken)
                won = await self._store.execute(
                    f"INSERT INTO {SLOTS} (board, period, slot, user_id) VALUES (?, ?, ?, ?) IF NOT EXISTS USING TTL ?",
                    (board, period, free, user_id, ttl_s),
                )
                if not won[0][0]:  # [applied]: another joiner took that number first
                    continue
                mine = free
            await self._store.execute(
                f"INSERT INTO {PLAYERS} (board, period, user_id, slot, joined_at_us) VALUES (?, ?, ?, ?, ?) "
                "USING TTL ?",
                (board, period, user_id, mine, time.time_ns() // 1000, ttl_s),
            )
            return Joined.JOINED
        raise BackendUnavailable(f"tournament {board!r}: too many joins at once; try again")

    async def leave(self, board: str, period: str, user_id: str) -> bool:
        rows = await self._store.execute(
            f"SELECT slot FROM {PLAYERS} WHERE board = ? AND period = ? AND user_id = ?", (board, period, user_id)
        )
        if not rows:
            return False
        # The player's row first: a crash after it leaves a place taken, never a player without one.
        await self._store.execute(
            f"DELETE FROM {PLAYERS} WHERE board = ? AND period = ? AND user_id = ?", (board, period, user_id)
        )
        await self._store.execute(
            f"DELETE FROM {SLOTS} WHERE board = ? AND period = ? AND slot = ? IF user_id = ?",
            (board, period, rows[0][0], user_id),
        )
        return True

    async def has_joined(self, board: str, period: str, user_id: str) -> bool:
        rows = await self._store.execute(
            f"SELECT slot FROM {PLAYERS} WHERE board = ? AND period = ? AND user_id = ?", (board, period, user_id)
        )
        return bool(rows)

    async def players(self, board: str, period: str) -> int:
        rows = await self._store.execute(
            f"SELECT COUNT(*) FROM {SLOTS} WHERE board = ? AND period = ?", (board, period)
        )
        return int(rows[0][0])

    async def attempt(
        self,
        board: str,
        period: str,
        user_id: str,
        attempt_id: str,
        max_attempts: int,
        *,
        expires_at_us: int | None = None,
    ) -> Attempt:
        ttl_s = _ttl_s(expires_at_us)
        for _ in range(MAX_TRIES):
            rows = await self._store.execute(
                f"SELECT slot, attempt FROM {ATTEMPTS} WHERE board = ? AND period = ? AND user_id = ?",
                (board, period, user_id),
            )
            made = {slot: attempt for slot, attempt in rows}
            if attempt_id in made.values():
                return Attempt.REPEATED
            if len(made) >= max_attempts:
                return Attempt.OVER
            if not made:  # the user's first attempt in the period: named before it is taken
                await self._name_period(board, period, ttl_s)
                await self._store.execute(
                    f"INSERT INTO {ATTEMPTERS} (board, period, user_id) VALUES (?, ?, ?) USING TTL ?",
                    (board, period, user_id, ttl_s),
                )
            won = await self._store.execute(
                f"INSERT INTO {ATTEMPTS} (board, period, user_id, slot, attempt) VALUES (?, ?, ?, ?, ?) "
                "IF NOT EXISTS USING TTL ?",
                (board, period, user_id, _lowest_free(made), attempt_id, ttl_s),
            )
            if won[0][0]:
                return Attempt.COUNTED
            # Another request of the user's took that number: it may be this attempt's retry, read again.
        raise BackendUnavailable(f"tournament {board!r}: too many attempts at once; try again")

    async def forget_attempt(self, board: str, period: str, user_id: str, attempt_id: str) -> None:
        rows = await self._store.execute(
            f"SELECT slot, attempt FROM {ATTEMPTS} WHERE board = ? AND period = ? AND user_id = ?",
            (board, period, user_id),
        )
        for slot, attempt in rows:
            if attempt == attempt_id:
                await self._store.execute(
                    f"DELETE FROM {ATTEMPTS} WHERE board = ? AND period = ? AND user_id = ? AND slot = ? "
                    "IF attempt = ?",
                    (board, period, user_id, slot, attempt_id),
                )

    async def drop(self, board: str) -> None:
        """Each named period's places, players and attempters' attempts, then the names: a
        crash midway leaves names whose rows a second drop deletes."""
        periods = await self._store.execute(f"SELECT period FROM {PERIODS} WHERE board = ?", (board,))
        for (period,) in periods:
            placed = await self._store.execute(
                f"SELECT user_id FROM {SLOTS} WHERE board = ? AND period = ?", (board, period)
            )
            attempted = await self._store.execute(
                f"SELECT user_id FROM {ATTEMPTERS} WHERE board = ? AND period = ?", (board, period)
            )
            await bounded.gather(
                [
                    *(partial(self._store.execute, DROP_PLAYER, (board, period, u)) for (u,) in placed),
                    *(partial(self._store.execute, DROP_ATTEMPTS, (board, period, u)) for (u,) in attempted),
                ]
            )
            await self._store.execute(f"DELETE FROM {SLOTS} WHERE board = ? AND period = ?", (board, period))
            await self._store.execute(f"DELETE FROM {ATTEMPTERS} WHERE board = ? AND period = ?", (board, period))
        await self._store.execute(f"DELETE FROM {PERIODS} WHERE board = ?", (board,))

    async def _name_period(self, board: str, period: str, ttl_s: int) -> None:
        await self._store.execute(
            f"INSERT INTO {PERIODS} (board, period) VALUES (?, ?) USING TTL ?", (board, period, ttl_s)
        )

    async def forget_expired(self, now_us: int) -> int:
        return 0  # every row was written with its TTL: Cassandra drops it

    async def close(self) -> None:
        return None


def _ttl_s(expires_at_us: int | None) -> int:
    """The TTL a row to expire at `expires_at_us` is written with (0: none, kept for good)."""
    if expires_at_us is None:
        return 0
    ttl_s = -(-(expires_at_us - time.time_ns() // 1000) // 1_000_000)  # whole seconds, rounded up
    return max(1, ttl_s) if ttl_s <= MAX_TTL_S else 0


def _lowest_free(taken: dict[int, str]) -> int:
    """The lowest number not taken: places given up are taken again before new ones."""
    return next(n for n in range(len(taken) + 1) if n not in taken)
