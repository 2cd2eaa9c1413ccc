"""The distributed cohort store: three tables of the Podium keyspace, read and written
through the store's session. Cassandra has no transaction over a count, so a cohort's seats
are numbered rows 0 … size-1 of one partition (board, cohort), and a seat is taken with a
lightweight transaction (`IF NOT EXISTS`): of two db-workers taking the same seat Paxos lets
one win, and the other reads again (and moves to the next cohort when this one is full). So
a cohort never holds more than `size`, and a later cohort takes a user only once every
earlier one was seen full.

- `cohort_users`, one row a (board, user), finds a user's cohort; it is written `IF NOT
  EXISTS` after the seat, so of two placements of one user at once (two db-workers during a
  rebalance) one stands and the other gives its seat back;
- `cohort_fill` remembers the first cohort that may have room, so a placement does not read
  every full cohort before it. It is a hint: read low, a placement only reads more.

A crash between taking a seat and writing the user's row leaves the seat taken by the user;
placing the user again finds it there while that cohort is still the first with room (a
redelivery comes within seconds). Reads are at the session's consistency: on the stack's one
node that sees every write; on a cluster of several, the seat reads should be SERIAL, as in
the tournament store (podium/tournaments/cassandra.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from podium.errors import BackendUnavailable
from podium.plumbing import names

if TYPE_CHECKING:
    from podium.store.cassandra import CassandraStore

SEATS = "{ks}." + names.COHORT_SEATS_TABLE
USERS = "{ks}." + names.COHORT_USERS_TABLE
FILL = "{ks}." + names.COHORT_FILL_TABLE
SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {SEATS} (board text, cohort int, seat int, user_id text, "
    "PRIMARY KEY ((board, cohort), seat))",
    f"CREATE TABLE IF NOT EXISTS {USERS} (board text, user_id text, cohort int, seat int, "
    "PRIMARY KEY ((board, user_id)))",
    f"CREATE TABLE IF NOT EXISTS {FILL} (board text PRIMARY KEY, cohort int)",
)
MAX_TRIES = 1000  # lost races and full cohorts in a row before a placement gives up (503: retried)


class CassandraCohortStore:
    def __init__(self, store: CassandraStore) -> None:
        self._store = store  # owns the session: closing the store closes it

    async def prepare(self) -> None:
        """Create the tables if missing (idempotent; each process may run it at start)."""
        for statement in SCHEMA:
            await self._store.execute(statement)

    async def place(self, board: str, user_id: str, size: int) -> int:
        held = await self._held(board, user_id)
        if held is not None:
            return held[0]
        first = await self._first_with_room(board)
        cohort = first
        for _ in range(MAX_TRIES):
            rows = await self._store.execute(
                f"SELECT seat, user_id FROM {SEATS} WHERE board = ? AND cohort = ?", (board, cohort)
            )
            taken = {seat: user for seat, user in rows}
            mine = next((seat for seat, user in taken.items() if user == user_id), None)
            if mine is None:
                if len(taken) >= size:
                    cohort += 1
                    continue
                free = _lowest_free(taken)
                won = await self._store.execute(
                    f"INSERT INTO {SEATS} (board, cohort, seat, user_id) VALUES (?, ?, ?, ?) IF NOT EXISTS",
                    (board, cohort, free, user_id),
                )
                if not won[0][0]:  # [applied]: another placement took that seat first
                    continue
                mine = free
            recorded = await self._store.execute(
                f"INSERT INTO {USERS} (board, user_id, cohort, seat) VALUES (?, ?, ?, ?) IF NOT EXISTS",
                (board, user_id, cohort, mine),
            )
            if not recorded[0][0]:
                return await self._placed_twice(board, user_id, cohort, mine)
            if cohort != first:
                await self._store.execute(f"UPDATE {FILL} SET cohort = ? WHERE board = ?", (cohort, board))
            return cohort
        raise BackendUnavailable(f"cohorts of board {board!r}: too many placements at once; try again")

    async def place_all(self, board: str, user_ids: Sequence[str], size: int) -> dict[str, int]:
        """One after another: each seat is a lightweight transaction of its own."""
        return {user_id: await self.place(board, user_id, size) for user_id in user_ids}

    async def _placed_twice(self, board: str, user_id: str, cohort: int, seat: int) -> int:
        """The user was placed by another placement meanwhile: its seat stands; this one's is
        given back, and the hint goes back to it so that the next newcomer fills it."""
        held = await self._held(board, user_id)
        assert held is not None, "the user's row exists: that is why it was not written"
        if held != (cohort, seat):
            await self._store.execute(
                f"DELETE FROM {SEATS} WHERE board = ? AND cohort = ? AND seat = ? IF user_id = ?",
                (board, cohort, seat, user_id),
            )
            await self._store.execute(f"UPDATE {FILL} SET cohort = ? WHERE board = ?", (cohort, board))
        return held[0]

    async def _held(self, board: str, user_id: str) -> tuple[int, int] | None:
        rows = await self._store.execute(
            f"SELECT cohort, seat FROM {USERS} WHERE board = ? AND user_id = ?", (board, user_id)
        )
        return (int(rows[0][0]), int(rows[0][1])) if rows else None

    async def _first_with_room(self, board: str) -> int:
        rows = await self._store.execute(f"SELECT cohort FROM {FILL} WHERE board = ?", (board,))
        return int(rows[0][0]) if rows and rows[0][0] is not None else 1

    async def cohort_of(self, board: str, user_id: str) -> int | None:
        held = await self._held(board, user_id)
        return held[0] if held is not None else None

    async def members(self, board: str, cohort: int) -> list[str]:
        rows = await self._store.execute(f"SELECT user_id FROM {SEATS} WHERE board = ? AND cohort = ?", (board, cohort))
        return [str(r[0]) for r in rows]

    async def drop(self, board: str) -> None:
        """Every cohort up to the last that has members, then the hint: a board deleted is made
        again from cohort 1 (each cohort's users are read to delete their rows)."""
        cohort = 1
        last = await self._first_with_room(board)
        while True:
            users = await self.members(board, cohort)
            if not users and cohort >= last:
                break
            for user in users:
                await self._store.execute(f"DELETE FROM {USERS} WHERE board = ? AND user_id = ?", (board, user))
            await self._store.execute(f"DELETE FROM {SEATS} WHERE board = ? AND cohort = ?", (board, cohort))
            cohort += 1
        await self._store.execute(f"DELETE FROM {FILL} WHERE board = ?", (board,))

    async def close(self) -> None:
        return None


def _lowest_free(taken: dict[int, str]) -> int:
    """The lowest seat not taken: one given back is taken again before a new one."""
    return next(n for n in range(len(taken) + 1) if n not in taken)
