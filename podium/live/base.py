"""The live hub port: per board, an ordered stream of the changes the rank-worker applied.

The publisher assigns each change the board's next sequence number (1, 2, 3, … with no
gap) atomically with appending it to a bounded history, so every api process sees the
same numbers and any of them can resume a client from the history.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Applied:
    """What the rank-worker applied for one user: the new total and the rank it gave."""

    user_id: str
    score: int
    rank: int | None  # None: the user was removed
    version: int
    hidden: bool = False  # shadow-banned: others see the change as a removal (Change.seen_by)


@dataclass(frozen=True, slots=True)
class Change:
    """An applied change with its place in the board's stream."""

    seq: int
    user_id: str
    score: int
    rank: int | None
    version: int
    hidden: bool = False

    def seen_by(self, viewer: str | None) -> Change:
        """The change as the subscriber `viewer` may see it. A shadow-banned user's change is
        shown as it is to that user only (its own view is unchanged by the ban); to everyone
        else it is a removal, so no one else sees its score or rank."""
        if not self.hidden or viewer == self.user_id:
            return self
        return Change(self.seq, self.user_id, 0, None, self.version, hidden=True)

    def to_json(self) -> dict[str, Any]:
        """The change as a subscriber's frame carries it (never the ban: see seen_by)."""
        return {
            "seq": self.seq,
            "user_id": self.user_id,
            "score": self.score,
            "rank": self.rank,
            "version": self.version,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Change:
        return cls(
            int(data["seq"]),
            str(data["user_id"]),
            int(data["score"]),
            data["rank"],
            int(data["version"]),
            bool(data.get("hidden", False)),  # absent in changes published before bans existed
        )


class Subscription:
    """The changes of one board delivered to this process since it subscribed, buffered
    for one subscriber. Past `limit` undelivered changes it only remembers that it
    overflowed: the subscriber is too far behind and starts again from a snapshot."""

    def __init__(self, board: str, limit: int) -> None:
        self.board = board
        self._limit = limit
        self._pending: list[Change] = []
        self._ready = asyncio.Event()
        self.overflowed = False
        self.history_lost = False  # the overflow is a restart of the numbering, not a slow reader

    def deliver(self, changes: Sequence[Change]) -> None:
        if self.overflowed:
            return
        self._pending.extend(changes)
        if len(self._pending) > self._limit:
            self._pending.clear()
            self.overflowed = True
        self._ready.set()

    def restart(self) -> None:
        """The stream's numbers started again (its Redis lost its data, or failed over to a
        replica that had not yet seen the last ones): what is buffered cannot be placed
        after what the subscriber has, so it starts again from a snapshot, as when it
        overflows."""
        self._pending.clear()
        self.overflowed = True
        self.history_lost = True
        self._ready.set()

    async def wait(self) -> None:
        await self._ready.wait()

    def take(self) -> tuple[list[Change], bool]:
        """Everything buffered, and whether the buffer overflowed (then it is empty)."""
        pending, overflowed = self._pending, self.overflowed
        self._pending, self.overflowed, self.history_lost = [], False, False
        self._ready.clear()
        return pending, overflowed


class LiveHub(Protocol):
    async def publish(self, board: str, applied: Sequence[Applied]) -> list[Change]:
        """Number the changes with the board's next sequence numbers, keep them in its
        history and deliver them to every subscriber in every process."""
        ...

    async def subscribe(self, board: str) -> Subscription:
        """Buffer every change published from now on (on return, it is listening)."""
        ...

    def unsubscribe(self, subscription: Subscription) -> None: ...

    async def last_seq(self, board: str) -> int:
        """The board's newest sequence number (0: nothing published yet)."""
        ...

    async def since(self, board: str, seq: int) -> list[Change] | None:
        """The changes after `seq`, in order; None if the history no longer holds them all
        (or `seq` is ahead of the stream): the caller needs a fresh snapshot."""
        ...

    async def close(self) -> None: ...


def after(history: Sequence[Change], last_seq: int, seq: int) -> list[Change] | None:
    """The changes of `history` (consecutive, ending at `last_seq`) after `seq`."""
    if seq > last_seq or seq < 0:
        return None
    if seq == last_seq:
        return []
    if not history or history[0].seq > seq + 1:
        return None
    return [c for c in history if c.seq > seq]
