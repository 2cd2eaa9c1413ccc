"""The live hub port, the same suite over its adapters: in-process and Redis pub/sub (a
local redis-server). Then what only Redis offers: several api processes (hubs on one
Redis) see the same numbered stream, whoever publishes."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from podium.live.base import Applied, Change, LiveHub, Subscription
from podium.live.memory import MemoryLiveHub
from podium.live.redis import RedisLiveHub


@pytest.fixture(scope="module")
def live_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from tests.engines import private_redis

    yield from private_redis(tmp_path_factory.mktemp("hub-redis"))


@pytest.fixture(params=["memory", "redis"])
async def hub(request: pytest.FixtureRequest) -> AsyncIterator[LiveHub]:
    made: LiveHub
    if request.param == "redis":
        made = RedisLiveHub.from_url(request.getfixturevalue("live_redis"), history=5)
    else:
        made = MemoryLiveHub(history=5)
    try:
        yield made
    finally:
        await made.close()


def applied(*users: str, score: int = 1) -> list[Applied]:
    return [Applied(u, score + i, i + 1, 1) for i, u in enumerate(users)]


async def received(sub: Subscription, count: int) -> list[Change]:
    got: list[Change] = []
    while len(got) < count:
        await asyncio.wait_for(sub.wait(), 5)
        got += sub.take()[0]
    return got


async def test_publish_numbers_changes_and_delivers_them_in_order(hub: LiveHub) -> None:
    board = f"b-{uuid.uuid4().hex[:8]}"
    start = await hub.last_seq(board)  # Redis: 0; in process: the process's base
    sub = await hub.subscribe(board)
    first = await hub.publish(board, applied("ada", "bob"))
    second = await hub.publish(board, [Applied("cy", 2**53 - 1, None, 7)])
    assert [c.seq for c in first + second] == [start + 1, start + 2, start + 3]
    assert await received(sub, 3) == first + second
    assert second[0] == Change(start + 3, "cy", 2**53 - 1, None, 7)  # big totals and removals survive the wire
    assert await hub.last_seq(board) == start + 3
    hub.unsubscribe(sub)
    await hub.publish(board, applied("dee"))
    assert sub.take() == ([], False)


async def test_a_ban_crosses_the_hub_and_only_the_banned_user_sees_its_change(hub: LiveHub) -> None:
    board = f"b-{uuid.uuid4().hex[:8]}"
    start = await hub.last_seq(board)
    sub = await hub.subscribe(board)
    published = await hub.publish(board, [Applied("cheat", 900, 1, 4, hidden=True), Applied("ada", 5, 1, 2)])
    delivered = await received(sub, 2)
    resumed = await hub.since(board, start)
    assert delivered == published == resumed  # live, and from the history (Redis: through JSON)
    cheat, ada = delivered
    assert cheat == Change(start + 1, "cheat", 900, 1, 4, hidden=True) and not ada.hidden
    # Everyone else sees a removal; the banned user its own view, unchanged by the ban.
    assert cheat.seen_by("ada").to_json() == {
        "seq": start + 1,
        "user_id": "cheat",
        "score": 0,
        "rank": None,
        "version": 4,
    }
    assert cheat.seen_by(None).to_json() == cheat.seen_by("ada").to_json()
    assert cheat.seen_by("cheat").to_json() == {
        "seq": start + 1,
        "user_id": "cheat",
        "score": 900,
        "rank": 1,
        "version": 4,
    }
    assert ada.seen_by("cheat") == ada


async def test_since_gives_the_missed_changes_or_none_when_the_history_lost_them(hub: LiveHub) -> None:
    board = f"b-{uuid.uuid4().hex[:8]}"
    s = await hub.last_seq(board)
    assert await hub.since(board, s) == []
    published = await hub.publish(board, applied("a", "b", "c", "d", "e", "f", "g"))  # history holds 5
    assert await hub.since(board, s + 7) == []
    assert await hub.since(board, s + 4) == published[4:]
    assert await hub.since(board, s + 2) == published[2:]
    assert await hub.since(board, s + 1) is None  # change 2 is gone
    assert await hub.since(board, s + 8) is None  # ahead of the stream


async def test_a_subscriber_too_far_behind_is_told_so(hub: LiveHub) -> None:
    board = f"b-{uuid.uuid4().hex[:8]}"
    sub = await hub.subscribe(board)
    await hub.publish(board, applied("a", "b", "c", "d"))
    await hub.publish(board, applied("e", "f"))
    await asyncio.wait_for(sub.wait(), 5)
    for _ in range(50):  # the second message may still be on its way
        if sub.overflowed:
            break
        await asyncio.sleep(0.02)
    assert sub.take() == ([], True)


async def test_every_api_process_sees_one_gap_free_stream(live_redis: str) -> None:
    board = f"b-{uuid.uuid4().hex[:8]}"
    workers = [RedisLiveHub.from_url(live_redis) for _ in range(2)]  # two rank-workers
    apis = [RedisLiveHub.from_url(live_redis) for _ in range(3)]  # three api processes
    try:
        subs = [await api.subscribe(board) for api in apis]
        published = await asyncio.gather(
            *(workers[i % 2].publish(board, applied(f"u{i}a", f"u{i}b")) for i in range(20))
        )
        assert sorted(c.seq for batch in published for c in batch) == list(range(1, 41))
        streams = [await received(sub, 40) for sub in subs]
        assert [c.seq for c in streams[0]] == list(range(1, 41))
        assert streams[0] == streams[1] == streams[2]
        assert await apis[2].since(board, 30) == streams[0][30:]
    finally:
        for hub in workers + apis:
            await hub.close()


async def test_a_restarted_process_never_reuses_the_numbers_of_the_one_before() -> None:
    """A client resuming from a number the old process gave out must get a snapshot, even
    once the new process has published as many changes: never other changes under it."""
    before = MemoryLiveHub(history=100)
    published = await before.publish("arena", applied(*(f"u{i}" for i in range(5))))
    resume_from = published[-1].seq
    after_restart = MemoryLiveHub(history=100, base=int(time.time() + 1) * 1_000_000)  # a second later
    await after_restart.publish("arena", applied(*(f"v{i}" for i in range(10))))
    assert await after_restart.since("arena", resume_from) is None  # too old: a snapshot
    assert await after_restart.last_seq("arena") > resume_from


async def test_a_subscriber_of_a_hub_that_lost_its_data_starts_again_from_a_snapshot(live_redis: str) -> None:
    """FLUSHALL on the hub's Redis: the numbers start again at 1. A subscriber must not
    take them for changes it has seen (it would drop them all until the new numbers passed
    its old ones): it is told to start again, as one too far behind is; a client resuming
    from an old number is refused the resume (`since` answers None)."""
    import redis.asyncio as aioredis

    board = f"lost-{uuid.uuid4().hex[:8]}"
    hub = RedisLiveHub.from_url(live_redis, history=5)
    client = aioredis.Redis.from_url(live_redis)
    try:
        sub = await hub.subscribe(board)
        await hub.publish(board, applied("ada", "bob", "cy"))
        assert [c.seq for c in await received(sub, 3)] == [1, 2, 3]
        await client.flushall()
        assert await hub.since(board, 3) is None  # a resume from before the loss: a snapshot
        await hub.publish(board, applied("dan"))  # numbered 1 again
        await asyncio.wait_for(sub.wait(), 5)
        assert sub.history_lost  # the session's snapshot says why: `history_lost`
        assert sub.take() == ([], True) and not sub.history_lost
        await hub.publish(board, applied("eve"))  # and after the snapshot, on as usual
        assert [c.seq for c in await received(sub, 1)] == [2]
    finally:
        await client.aclose()
        await hub.close()
