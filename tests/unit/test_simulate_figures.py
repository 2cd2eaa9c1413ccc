"""How `podium simulate global` turns what it saw into figures (podium/tools/simulate/)."""

from __future__ import annotations

import pytest

from podium.tools.simulate.global_run import Accepted, Outcome, staleness_ms
from podium.tools.simulate.report import miscounted, percentile


def outcome(accepted: list[Accepted], seen: dict[str, dict[str, list[tuple[float, int]]]]) -> Outcome:
    return Outcome(accepted, seen, {}, {}, {}, 0.0, {}, {}, partition=(10.0, 13.0))


def test_a_score_is_seen_when_its_version_or_a_later_one_reaches_the_region() -> None:
    accepted = [Accepted("ap-p1", "ap", 1, 1.0, "steady"), Accepted("ap-p1", "ap", 2, 1.5, "steady")]
    # Version 2 arrived before version 1 was seen (a batch), then a stale copy of 1.
    seen = {"ap": {"ap-p1": [(1.75, 2), (1.8, 1)]}, "us": {"ap-p1": [(1.25, 1), (1.75, 2)]}}
    delays = staleness_ms(outcome(accepted, seen))
    assert delays[("steady", "ap", "own")] == pytest.approx([750, 250])
    assert delays[("steady", "us", "others")] == pytest.approx([250, 250])


def test_a_score_still_on_its_way_when_the_cut_began_counts_in_the_partition() -> None:
    accepted = [Accepted("ap-p1", "ap", 1, 9.9, "steady"), Accepted("eu-p1", "eu", 1, 9.0, "steady")]
    seen = {"us": {"ap-p1": [(13.5, 1)], "eu-p1": [(9.2, 1)]}}
    delays = staleness_ms(outcome(accepted, seen))
    assert delays[("partition", "us", "others")] == pytest.approx([3600])
    assert delays[("steady", "us", "others")] == pytest.approx([200])


def test_a_score_never_seen_is_left_to_the_totals_check() -> None:
    delays = staleness_ms(outcome([Accepted("eu-p1", "eu", 3, 1.0, "healed")], {"eu": {"eu-p1": [(1.1, 2)]}}))
    assert delays == {}


def test_lost_and_doubled_scores_are_counted_in_whole_scores() -> None:
    points = {"a": 7, "b": 5, "c": 3}
    assert miscounted({"a": 21, "b": 10, "c": 3}, {"a": 14, "b": 20, "c": 3}, points) == (1, 2)
    assert miscounted({"a": 7}, {}, points) == (1, 0)  # a user missing altogether


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.99), percentile([], 0.5)) == (50.0, 99.0, None)
