"""Simulated players for `podium demo`: a steady stream of matches on the `demo` board."""

from __future__ import annotations

import asyncio
import logging
import random
import uuid

import httpx

log = logging.getLogger("podium.demo")

BOARD = "demo"
NAMES = [
    "ada", "blaze", "cosmo", "dash", "echo", "fang", "ghost", "hex", "ivy", "jinx",
    "kite", "luna", "mako", "nova", "onyx", "pixel", "quill", "rook", "sage", "talon",
]  # fmt: skip


def players(count: int) -> list[str]:
    return [f"{NAMES[i % len(NAMES)]}{i // len(NAMES) or ''}" for i in range(count)]


async def play(base_url: str, *, players_count: int = 200, matches_per_s: float = 20.0, seed: int = 7) -> None:
    """Create the board, then submit match scores until cancelled."""
    rng = random.Random(seed)
    roster = players(players_count)
    skill = {p: rng.uniform(0.5, 2.0) for p in roster}
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        # A daily and a weekly board beside the all-time one, fed by the same submissions.
        await client.put(f"/v1/boards/{BOARD}", json={"windows": ["all", "day", "week"]})
        run = uuid.uuid4().hex[:8]  # a restarted demo's matches are new matches, not retries
        match = 0
        while True:
            match += 1
            batch = [
                {
                    "user_id": p,
                    "score": int(rng.expovariate(1 / 100) * skill[p]),
                    "key": f"match-{run}-{match}-{p}",
                    "display_name": p.capitalize(),
                }
                for p in rng.sample(roster, k=min(4, len(roster)))
            ]
            try:
                await client.post(f"/v1/boards/{BOARD}/scores/batch", json={"scores": batch})
            except httpx.HTTPError as exc:
                log.warning("demo submission failed", extra={"error": str(exc)})
            await asyncio.sleep(1 / matches_per_s)
