"""The network between two regions, in process: every message takes a one-way delay, and a
partition switch cuts the connection until it is healed.

A call (request, work at the far end, answer) is what the mirror's fetches and the replicas'
change-feed reads are. Messages on one link arrive in the order they were sent (one TCP
connection: jitter never lets one overtake another). A cut loses every message in flight and
every message sent until the heal; the sender learns of the loss only by its time-out, as a
real client does. A lost answer is the dangerous case: the far end did the work, the caller
does not know it. Whoever calls across a link must make a repeated call harmless.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from podium.errors import BackendUnavailable

T = TypeVar("T")


class LinkDown(BackendUnavailable):
    """A message on the link was lost: the request may or may not have been served."""


class Link:
    def __init__(
        self,
        name: str,
        one_way_s: float,
        *,
        jitter_s: float = 0.0,
        timeout_s: float = 1.0,
        seed: int = 0,
    ) -> None:
        self.name = name
        self.one_way_s = one_way_s
        self._jitter_s = jitter_s
        self._timeout_s = timeout_s  # how long a sender waits for a lost message's answer
        self._rng = random.Random(seed)
        self._up = True
        self._cuts = 0  # a message sent before the latest cut is lost even if it arrives after a heal
        self._last: dict[str, asyncio.Future[None] | None] = {"out": None, "back": None}  # the latest message each way
        self.calls = 0
        self.lost = 0

    @property
    def up(self) -> bool:
        return self._up

    def cut(self) -> None:
        self._up = False
        self._cuts += 1

    def heal(self) -> None:
        self._up = True

    async def call(self, work: Callable[[], Awaitable[T]]) -> T:
        """Send a request, run `work` at the far end, bring its answer back; LinkDown when the
        request or the answer was lost (after the sender's time-out)."""
        self.calls += 1
        sent_at = asyncio.get_running_loop().time()
        if not await self._cross("out"):
            await self._lost(sent_at)
        result = await work()
        if not await self._cross("back"):
            await self._lost(sent_at)
        return result

    async def _cross(self, direction: str) -> bool:
        """Carry one message; whether it arrived."""
        cuts = self._cuts
        if not self._up:
            return False
        before, mine = self._last[direction], asyncio.get_running_loop().create_future()
        self._last[direction] = mine
        try:
            await asyncio.sleep(max(0.0, self.one_way_s + self._rng.uniform(-self._jitter_s, self._jitter_s)))
            if before is not None:
                await asyncio.shield(before)  # first in, first out: never overtake the one before
        finally:
            mine.set_result(None)
        return self._up and self._cuts == cuts

    async def _lost(self, sent_at: float) -> None:
        self.lost += 1
        waited = asyncio.get_running_loop().time() - sent_at
        await asyncio.sleep(max(0.0, self._timeout_s - waited))
        raise LinkDown(f"link {self.name}: no answer within {self._timeout_s} s")
