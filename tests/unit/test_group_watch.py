"""The watch that replaces a Kafka consumer stuck outside its group (podium/log/group_watch.py)."""

import json

from podium.log.group_watch import GroupWatch


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def stats(join_state: str) -> str:
    return json.dumps({"name": "c#consumer-1", "cgrp": {"state": "up", "join_state": join_state}})


def test_a_steady_member_is_never_stuck_even_with_nothing_assigned() -> None:
    clock = Clock()
    watch = GroupWatch(stuck_after_s=45, clock=clock)
    for _ in range(100):
        clock.now += 5
        watch.saw_stats(stats("steady"))
        assert not watch.stuck()


def test_a_member_out_of_steady_longer_than_the_limit_is_stuck() -> None:
    clock = Clock()
    watch = GroupWatch(stuck_after_s=45, clock=clock)
    watch.saw_stats(stats("steady"))
    for _ in range(9):  # 45 s of a rejoin that never completes
        clock.now += 5
        watch.saw_stats(stats("wait-join"))
        assert not watch.stuck()
    clock.now += 5
    watch.saw_stats(stats("wait-join"))
    assert watch.stuck()
    assert watch.join_state == "wait-join"


def test_a_new_consumer_has_the_limit_to_join_and_rejoining_resets_it() -> None:
    clock = Clock()
    watch = GroupWatch(stuck_after_s=45, clock=clock)
    clock.now += 40
    watch.saw_stats(stats("wait-metadata"))
    assert not watch.stuck()
    watch.saw_stats(stats("steady"))
    clock.now += 40
    assert not watch.stuck()
    clock.now += 10
    assert not watch.stuck()  # a worker that did not poll for 50 s heard nothing: not a sign
    watch.saw_stats(stats("wait-join"))
    assert watch.stuck()


def test_unreadable_statistics_change_nothing() -> None:
    clock = Clock()
    watch = GroupWatch(stuck_after_s=45, clock=clock)
    watch.saw_stats("not json")
    watch.saw_stats(json.dumps({"name": "producer"}))
    assert watch.join_state == "init" and not watch.stuck()
