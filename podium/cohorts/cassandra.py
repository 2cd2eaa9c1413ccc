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
  every full cohort before it. It is a hint: read low, a placement only reads more; read
  high, a cohort with room would be skipped, so it must never be above the first with room.
  A placement that moved past full cohorts raises it, a seat given up (`free`) lowers it,
  both with a lightweight transaction on its `frees` count, which every seat given up
  bumps: a placement that saw a cohort full before a seat of it was given up cannot raise
  the hint past it afterwards (its condition fails), so the next new user takes that seat;
- `cohort_list` names every cohort of a board that took a seat (written before its first
  seat is), so that deleting the board finds each, even one emptied by users who left.

A user removed gives its seat up in that order: the seat (if still the user's), the hint,
then the user's row. A crash in between leaves the user's row naming a seat it lost, and the
removal comes again (its batch was not committed): the seat's delete then does nothing, and
the row goes.

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
LISTED = "{ks}." + names.COHORT_LIST_TABLE
SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {SEATS} (board text, cohort int, seat int, user_id text, "
    "PRIMARY KEY ((board, cohort), seat))",
    f"CREATE TABLE IF NOT EXISTS {USERS} (board text, user_id text, cohort int, seat int, "
    "PRIMARY KEY ((board, user_id)))",
    f"CREATE TABLE IF NOT EXISTS {FILL} (board text PRIMARY KEY, cohort int, frees int)",
    f"CREATE TABLE IF NOT EXISTS {LISTED} (board text, cohort int, PRIMARY KEY ((board), cohort))",
)
# The hint moves only if no seat was given up since it was read (`frees` as read; null: none yet).
MOVE_HINT = f"UPDATE {FILL} SET cohort = ? WHERE board = ? IF frees = ?"
LOWER_HINT = f"UPDATE {FILL} SET cohort = ?, frees = ? WHERE board = ? IF frees = ?"
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
        first, frees = await self._hint(board)
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
                if free == 0:  # the cohort's first seat (or again after its users left): named first
                    await self._store.execute(f"INSERT INTO {LISTED} (board, cohort) VALUES (?, ?)", (board, cohort))
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
            if cohort != first:  # the cohorts before were full: unless a seat was given up since
                await self._store.execute(MOVE_HINT, (cohort, board, frees))
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
            await self._give_up(board, user_id, cohort, seat)
        return held[0]

    async def free(self, board: str, user_id: str) -> int | None:
        held = await self._held(board, user_id)
        if held is None:
            return None
        await self._give_up(board, user_id, *held)
        await self._store.execute(f"DELETE FROM {USERS} WHERE board = ? AND user_id = ?", (board, user_id))
        return held[0]

    async def _give_up(self, board: str, user_id: str, cohort: int, seat: int) -> None:
        """Free the seat if the user still holds it, then lower the hint to its cohort and
        count the seat given up, in one lightweight transaction (read again if another moved
        the hint meanwhile)."""
        await self._store.execute(
            f"DELETE FROM {SEATS} WHERE board = ? AND cohort = ? AND seat = ? IF user_id = ?",
            (board, cohort, seat, user_id),
        )
        for _ in range(MAX_TRIES):
            first, frees = await self._hint(board)
            lowered = await self._store.execute(LOWER_HINT, (min(first, cohort), (frees or 0) + 1, board, frees))
            if lowered[0][0]:
                return
        raise BackendUnavailable(f"cohorts of board {board!r}: too many placements at once; try again")

    async def _held(self, board: str, user_id: str) -> tuple[int, int] | None:
        rows = await self._store.execute(
            f"SELECT cohort, seat FROM {USERS} WHERE board = ? AND user_id = ?", (board, user_id)
        )
        return (int(rows[0][0]), int(rows[0][1])) if rows else None

    async def _hint(self, board: str) -> tuple[int, int | None]:
        """The first cohort that may have room, and how many seats were given up (None: none
        ever, or a board placed before seats were given up)."""
        rows = await self._store.execute(f"SELECT cohort, frees FROM {FILL} WHERE board = ?", (board,))
        if not rows:
            return 1, None
        cohort, frees = rows[0]
        return (int(cohort) if cohort is not None else 1), (int(frees) if frees is not None else None)

    async def cohort_of(self, board: str, user_id: str) -> int | None:
        held = await self._held(board, user_id)
        return held[0] if held is not None else None

    async def members(self, board: str, cohort: int) -> list[str]:
        rows = await self._store.execute(f"SELECT user_id FROM {SEATS} WHERE board = ? AND cohort = ?", (board, cohort))
        return [str(r[0]) for r in rows]

    async def drop(self, board: str) -> None:
        """Every cohort named in `cohort_list`, and those up to the last that has members (a
        board placed before the list was kept), then the list and the hint: a board deleted
        is made again from cohort 1 (each cohort's users are read to delete their rows)."""
        rows = await self._store.execute(f"SELECT cohort FROM {LISTED} WHERE board = ?", (board,))
        listed = [int(r[0]) for r in rows]
        cohort = 1
        last = max([(await self._hint(board))[0], *listed])
        while True:
            users = await self.members(board, cohort)
            if not users and cohort >= last:
                break
            for user in users:
                await self._store.execute(f"DELETE FROM {USERS} WHERE board = ? AND user_id = ?", (board, user))
            await self._store.execute(f"DELETE FROM {SEATS} WHERE board = ? AND cohort = ?", (board, cohort))
            cohort += 1
        await self._store.execute(f"DELETE FROM {LISTED} WHERE board = ?", (board,))
        await self._store.execute(f"DELETE FROM {FILL} WHERE board = ?", (board,))

    async def close(self) -> None:
        return None


def _lowest_free(taken: dict[int, str]) -> int:
    """The lowest seat not taken: one given back is taken again before a new one."""
    return next(n for n in range(len(taken) + 1) if n not in taken)
