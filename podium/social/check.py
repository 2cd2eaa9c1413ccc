"""The reconciler's look at friends boards: each checked user's friends board, as the
social index answers it, against a plain reference sorted out of the store — the user and
the friends on their stored list, with their stored live totals, in the board's order.

Every user with a friend list on a graph of up to `full_check_users` such users; a random
sample of `sample_users` of them on a bigger one. Repair applies the store's totals of the
board's drifted users again (newer versions win), puts back each drifted user's stored
list, then recomputes their board from what the index holds (`SocialIndex.reset_board`).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from podium.domain.boards import Board
from podium.domain.ordering import total_key
from podium.domain.totals import Total
from podium.social.base import SocialIndex
from podium.store.base import Store


@dataclass(frozen=True, slots=True)
class FriendsGraph:
    """The store's friend lists as one reconcile run reads them (read once for every board)."""

    lists: dict[str, list[str]]
    checked: list[str]  # the users whose friends boards are checked
    check: str  # "every_user" or "sampled"

    @classmethod
    async def read(cls, store: Store, *, full_check_users: int, sample_users: int, seed: float) -> FriendsGraph:
        lists = {user: friends async for user, friends in store.friend_lists()}
        owners = sorted(lists)
        if len(owners) <= full_check_users:
            return cls(lists, owners, "every_user")
        return cls(lists, sorted(random.Random(seed).sample(owners, sample_users)), "sampled")


def reference(board: Board, totals: dict[str, Total], user: str, friends: Sequence[str]) -> list[tuple[str, int]]:
    live = [t for u in {user, *friends} if (t := totals.get(u)) is not None and t.ranked]
    live.sort(key=lambda t: total_key(board, t))
    return [(t.user_id, t.total) for t in live]


async def drifted(
    social: SocialIndex, board: Board, totals: dict[str, Total], graph: FriendsGraph, users: Sequence[str]
) -> list[str]:
    """The users among `users` whose friends board or friend list differs from the store's."""
    wrong = []
    for user in users:
        friends = graph.lists.get(user, [])
        want = reference(board, totals, user, friends)
        got = await social.friends_board(board, user, len(friends) + 1)
        if [(e.user_id, e.score) for e in got] != want or await social.friends(user) != sorted(friends):
            wrong.append(user)
    return wrong


async def repair(
    social: SocialIndex, board: Board, totals: dict[str, Total], graph: FriendsGraph, users: Sequence[str]
) -> None:
    members = {m for u in users for m in (u, *graph.lists.get(u, []))}
    await social.apply(board, [t for u in sorted(members) if (t := totals.get(u)) is not None])
    for user in users:
        await social.replace_friends(user, graph.lists.get(user, []))
        await social.reset_board(board, user)
