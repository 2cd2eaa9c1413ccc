"""The rank index port. It holds a copy of the store's totals in rank order and
applies a total only if it is newer than the copy it has (versions), so the
change feed's duplicates, replays and reordering are harmless."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from podium.domain.boards import Board
from podium.domain.ordering import SortKey
from podium.domain.totals import LogPosition, Total


def details_json(display_name: str, metadata: str) -> dict[str, Any]:
    """An entry's display name and metadata as answers show them (null when unset); the
    metadata, stored as compact JSON text, is embedded as it is."""
    return {
        "display_name": display_name or None,
        "metadata": orjson.Fragment(metadata) if metadata else None,
    }


@dataclass(slots=True)
class Entry:
    """A user's place on a board. From the index, `rank` is the position (every user its
    own number); readers get entries from `Standings` (podium/usecases/standings.py), which renumbers
    equals under the board's tie policy.

    Not frozen, though nothing changes one after it is made: a frozen dataclass sets each
    field through `object.__setattr__`, twice the cost of a plain one (1.9 against 3.8 µs
    here), and a page makes a hundred of them, a third of its Python time."""

    rank: int
    user_id: str
    score: int
    subscore: int = 0
    display_name: str = ""
    metadata: str = ""  # compact JSON text, "" for none
    hidden: bool = False  # the user is shadow-banned: this is only its own view
    key: SortKey | None = field(default=None, compare=False)  # its rank key (cursors); not shown

    def to_json(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "user_id": self.user_id,
            "score": self.score,
            "subscore": self.subscore,
            **details_json(self.display_name, self.metadata),
        }


@dataclass(frozen=True, slots=True)
class BucketInfo:
    """One score bucket of a board: its range starts at `lower` (a rank key; None: the top)."""

    id: int
    lower: SortKey | None
    shard: int
    members: int
    writes_per_s: float
    moving: int = 0  # members still in the set the bucket was split or moved from

    def to_json(self) -> dict[str, Any]:
        lower = None
        if self.lower is not None:
            # The tie-break holds the subscore above 64 bits of time (domain.ordering).
            lower = {"score_key": self.lower[0], "reached_at_us": self.lower[1] % 2**64, "user_id": self.lower[2]}
            if self.lower[1] >= 2**64:
                lower["subscore_key"] = self.lower[1] >> 64
        return {
            "id": self.id,
            "lower": lower,
            "shard": self.shard,
            "members": self.members,
            "writes_per_s": round(self.writes_per_s, 1),
            "moving": self.moving,
        }


class RankIndex(Protocol):
    async def apply(self, board: Board, totals: Sequence[Total]) -> list[Total]:
        """Apply each total that is newer than the one held; returns those applied."""
        ...

    async def apply_ranked(self, board: Board, totals: Sequence[Total]) -> tuple[list[Total], dict[str, int]]:
        """`apply`, and the rank each applied user that is not removed has right after it, as
        `entries` would read it (a hidden user: its own view): for the live hub."""
        ...

    async def entry(self, board: Board, user_id: str) -> Entry | None:
        """The user's rank and score; None if the user is not ranked. A hidden user gets the
        rank it would have among the others (`hidden` set): its own view, unchanged by a ban."""
        ...

    async def entries(self, board: Board, user_ids: Sequence[str]) -> list[Entry | None]:
        """`entry` for many users at once (in their order), in a few round trips."""
        ...

    async def unplaced(self, board: Board, user_ids: Sequence[str]) -> list[Entry | None]:
        """`entries` without their places on the board (each `rank` 0): the users' totals,
        subscores, details, hidden flags and rank keys, read in one round trip whatever the
        board's size. For a list that is ranked among itself alone (a cohort), where a
        place on the whole board would be read only to be thrown away."""
        ...

    async def count_before(self, board: Board, key: SortKey) -> int:
        """How many ranked users sort before rank key `key` (which need not be a user's):
        a range's start, a cursor's place, the first of equals."""
        ...

    async def counts_before(self, board: Board, keys: Sequence[SortKey]) -> list[int]:
        """`count_before` of each of `keys` (in their order), in the round trips of one: the
        rank-worker's history points of a batch's overtaken changes, a read each before."""
        ...

    async def groups_before(self, board: Board, key: SortKey) -> int:
        """How many distinct (total, subscore) pairs ranked users have before `key`, on a
        board with dense ties (the only boards that keep them)."""
        ...

    async def page(self, board: Board, first_rank: int, count: int) -> list[Entry]:
        """Up to `count` entries from rank `first_rank` (1-based) on."""
        ...

    async def count(self, board: Board) -> int:
        """How many users are ranked."""
        ...

    async def position(self, board: Board, user_id: str) -> LogPosition | None:
        """The log position of the newest total applied for the user (removals included)."""
        ...

    async def positions(self, board: Board, user_ids: Sequence[str]) -> list[LogPosition | None]:
        """`position` of each user, in order, read at once (one round trip, not one a user)."""
        ...

    async def newest(self, board: Board, user_id: str) -> tuple[LogPosition, int] | None:
        """`position` and the version of that total (None: nothing applied): what a step of a
        later total is compared with (domain/tier_changes.py)."""
        ...

    async def buckets(self, board: Board) -> list[BucketInfo]:
        """The board's score buckets, best first (an unsharded index has one)."""
        ...

    async def repair(self, board: Board, users: Mapping[str, Total | None]) -> None:
        """Force each user to exactly the given total, whatever version the index holds,
        and drop every other member the user has anywhere in the index (None: the store
        does not know the user: forget it). The reconciler's tool, never the change
        feed's: it may set an older version than the one held, so the caller re-checks
        the store afterwards (see podium/usecases/reconcile.py)."""
        ...

    async def close(self) -> None: ...
