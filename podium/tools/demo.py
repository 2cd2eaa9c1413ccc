"""Simulated players for `podium demo`: a steady stream of matches on the `demo` board."""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Mapping

import httpx

from podium.domain.keys import Scope
from podium.settings import Settings

log = logging.getLogger("podium.tools.demo")

BOARD = "demo"
KEY_NAME = "demo-"  # the demo's keys are named demo-admin, demo-write, demo-read
NAMES = [
    "ada", "blaze", "cosmo", "dash", "echo", "fang", "ghost", "hex", "ivy", "jinx",
    "kite", "luna", "mako", "nova", "onyx", "pixel", "quill", "rook", "sage", "talon",
]  # fmt: skip


def players(count: int) -> list[str]:
    return [f"{NAMES[i % len(NAMES)]}{i // len(NAMES) or ''}" for i in range(count)]


async def make_keys(settings: Settings) -> dict[Scope, str]:
    """An admin, a write and a read key for this run (none with auth off). An earlier demo's
    keys are revoked: keys printed once in an old terminal should not stay valid."""
    if settings.auth == "off":
        return {}
    from podium.bootstrap import managed_keys

    async with managed_keys(settings) as keys:
        for record in await keys.records():
            if record.name.startswith(KEY_NAME) and record.revoked_at_us is None:
                await keys.revoke(record.key_id)
        return {scope: (await keys.create(scope, f"{KEY_NAME}{scope}"))[1] for scope in Scope}


def keys_note(keys: Mapping[Scope, str]) -> str:
    """What the demo prints about its keys, the only time they are shown."""
    if not keys:
        return "Auth is off (PODIUM_AUTH=off): every request is allowed without a key.\n"
    lines = "\n".join(f"  export {scope.upper()}_KEY={key}" for scope, key in keys.items())
    return (
        "\nThis run's API keys, shown once. Paste these lines into another terminal, then send a key as\n"
        f"-H \"authorization: Bearer $WRITE_KEY\" (the board 'demo' is public: reading it needs none):\n{lines}\n"
    )


def bearer(key: str | None) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"} if key else {}


async def play(
    base_url: str,
    *,
    players_count: int = 200,
    matches_per_s: float = 20.0,
    seed: int = 7,
    keys: Mapping[Scope, str] | None = None,
) -> None:
    """Create the board (public: the web page reads it without a key), then submit match
    scores with the write key until cancelled."""
    keys = keys or {}
    rng = random.Random(seed)
    roster = players(players_count)
    skill = {p: rng.uniform(0.5, 2.0) for p in roster}
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        # A daily and a weekly board beside the all-time one, fed by the same submissions.
        admin = bearer(keys.get(Scope.ADMIN))
        await client.put(f"/v1/boards/{BOARD}", json={"windows": ["all", "day", "week"]}, headers=admin)
        await client.patch(f"/v1/boards/{BOARD}", json={"reads": "public"}, headers=admin)
        client.headers.update(bearer(keys.get(Scope.WRITE)))
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
