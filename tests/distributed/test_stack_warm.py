"""`podium stack warm`, the last step of `podium stack up`: scores sent through the whole
pipeline (api → Kafka → Cassandra → Debezium → Kafka → Redis, `wait=true`) on the stack's
real engines, and nothing of them left behind: not its board, its totals or rank index,
not a board in a privacy export of a user it made, not its Kafka topic."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest

from podium.bootstrap import connect_store, redis_rank_index
from podium.domain.boards import Board
from podium.settings import Settings
from podium.tools import stack_warm

pytestmark = pytest.mark.distributed


async def test_the_warm_up_scores_through_the_pipeline_and_leaves_nothing_behind(dist_settings: Settings) -> None:
    said: list[str] = []
    warm = stack_warm.WarmUp(batch=300, singles=20, singles_per_s=50, min_rounds=2, budget_s=20)
    done = await asyncio.to_thread(stack_warm.run, dist_settings, warm, said.append)

    # It went through: each round's singles answered visible, and it said so round by round.
    assert done.rounds and (len(done.rounds) >= 2 or not done.settled)  # settled only after min_rounds
    assert all(r.late == 0 and r.slowest_ms < 30_000 for r in done.rounds), done.rounds
    assert len(done.users) == sum(r.scores for r in done.rounds) == 320 * len(done.rounds)
    assert said[0].startswith("warm: round 1: 320 scores") and len(said) == len(done.rounds), said

    store = await asyncio.to_thread(connect_store, dist_settings)
    index = redis_rank_index(dist_settings)
    try:
        assert await store.get_board(done.board) is None
        assert await store.load_totals([(done.board, u) for u in done.users]) == {}
        # What a privacy export reads (one index query over the whole table a user): a
        # sample of each round's users, one after another, not hundreds at once.
        sample = done.users[::40]
        boards_of = [await store.user_boards(u) for u in sample]
        assert [u for u, b in zip(sample, boards_of, strict=True) if done.board in b] == []
        assert await index.count(Board(done.board)) == 0
    finally:
        await index.close()
        await store.close()
    assert not topic_exists(dist_settings, done.ingest_topic)


def topic_exists(settings: Settings, topic: str) -> bool:
    from confluent_kafka.admin import AdminClient

    return topic in AdminClient({"bootstrap.servers": settings.kafka_bootstrap}).list_topics(timeout=10).topics


def test_stack_up_no_warm_skips_the_warm_up(running_stack: None) -> None:
    """`--no-warm` reaches infra/stack.sh (as PODIUM_STACK_WARM=0): its warm step says it skipped."""
    up = subprocess.run(
        [sys.executable, "-m", "podium", "stack", "up", "warm", "--no-warm"],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k not in ("PODIUM_BIN", "PODIUM_PYTHON", "PODIUM_STACK_WARM")},
    )
    assert up.returncode == 0, up.stdout + up.stderr
    assert "warm: skipped" in up.stdout and "warm: round" not in up.stdout, up.stdout
