"""When a user's tier changes (domain/tier_changes.py) and the body that tells it: each total
newer than what the index held, against the one before it; repeats and totals the index
holds already change nothing; a removal sends nothing; boards with a tier by place send none."""

from __future__ import annotations

from dataclasses import replace

import msgspec

import podium.domain.windows as w
from podium.api.contract.webhooks import TierChanged
from podium.domain import tier_changes as tc
from podium.domain import webhooks as wh
from podium.domain.boards import Board, Order
from podium.domain.cohorts import Tier
from podium.domain.totals import LogPosition, Total, with_step
from podium.usecases.tier_changes import body_of

TIERS = (Tier("gold", min_score=100), Tier("silver", min_score=50))
BOARD = Board("arena", tiers=TIERS)
NOTHING = tc.Held(None, None)


def total(version: int, score: int, *, offset: int | None = None, removed: bool = False) -> Total:
    at = LogPosition(0, offset if offset is not None else version * 10)
    return Total("arena", "ada", score, version, version, at, removed=removed, updated_at_us=1000 + version)


def moves(board: Board, held: tc.Held, totals: list[Total]) -> list[tuple[int, str | None, str | None]]:
    return [(c.total.version, c.previous, c.tier) for c in tc.changes(board, held, totals)]


def test_each_crossing_is_one_change_named_by_the_total_that_made_it() -> None:
    totals = [total(1, 10), total(2, 60), total(3, 70), total(4, 120), total(5, 20)]
    assert moves(BOARD, NOTHING, totals) == [(2, None, "silver"), (4, "silver", "gold"), (5, "gold", None)]


def test_a_first_score_that_reaches_a_tier_is_a_change_from_none() -> None:
    assert moves(BOARD, NOTHING, [total(1, 100)]) == [(1, None, "gold")]
    assert moves(BOARD, NOTHING, [total(1, 49)]) == []  # no tier before, none after


def test_no_change_when_the_tier_stays() -> None:
    assert moves(BOARD, tc.Held(LogPosition(0, 10), 60), [total(2, 70), total(3, 99)]) == []


def test_a_batch_read_twice_or_out_of_order_gives_the_same_changes() -> None:
    totals = [total(1, 10), total(2, 60), total(3, 120)]
    once = moves(BOARD, NOTHING, totals)
    assert moves(BOARD, NOTHING, [*reversed(totals), *totals]) == once
    # Split across two batches, the second measured from what the first left in the index:
    first = moves(BOARD, NOTHING, totals[:2])
    second = moves(BOARD, tc.Held(totals[1].position, totals[1].total), totals[2:])
    assert first + second == once


def test_totals_the_index_holds_already_change_nothing() -> None:
    """A worker killed after the apply reads the batch again: the index holds its newest."""
    totals = [total(1, 10), total(2, 60), total(3, 120)]
    assert moves(BOARD, tc.Held(totals[-1].position, 120), totals) == []
    assert moves(BOARD, tc.Held(totals[1].position, 60), totals) == [(3, "silver", "gold")]


def test_a_removal_sends_nothing_and_a_return_is_measured_from_no_tier() -> None:
    totals = [total(2, 0, removed=True), total(3, 60)]
    assert moves(BOARD, tc.Held(LogPosition(0, 10), 120), totals) == [(3, None, "silver")]
    assert moves(BOARD, tc.Held(LogPosition(0, 10), None), [total(2, 120)]) == [(2, None, "gold")]


def test_an_ascending_board_reaches_a_tier_from_below() -> None:
    fastest = Board("race", order=Order.ASC, tiers=(Tier("gold", min_score=60),))
    assert moves(fastest, NOTHING, [total(1, 90), total(2, 55)]) == [(2, None, "gold")]


def test_only_boards_whose_tiers_are_all_by_score_send_changes() -> None:
    assert tc.sends_changes(BOARD)
    assert not tc.sends_changes(Board("plain"))
    assert not tc.sends_changes(Board("mixed", tiers=(Tier("top", top_percent=10), *TIERS)))


def test_a_change_is_placed_in_its_window_and_period() -> None:
    board = Board("season", windows=("all", "day", "cron:*/2 * * * * *"), tiers=TIERS)
    assert tc.where(board) == tc.Where("season", "all", None)
    assert tc.where(board.renamed("season~day~2026-12-07")) == tc.Where("season", "day", "2026-12-07")
    cron = w.period_board("season", "cron:*/2 * * * * *", "2026-12-07T10:00:02")
    assert tc.where(board.renamed(cron)) == tc.Where("season", "cron:*/2 * * * * *", "2026-12-07T10:00:02")


def test_the_id_is_one_per_webhook_and_change_and_tells_a_board_made_again() -> None:
    hook = wh.Webhook("h", "https://hooks.example.com/a", (wh.TIER_CHANGED,), "s" * 20, 5)
    [change] = tc.changes(BOARD, NOTHING, [total(1, 100)])
    subject = tc.Where("arena", "all", None).subject(change)
    assert subject == "arena/all/ada/1"
    one = wh.tier_delivery_id(hook, subject, change.total.updated_at_us)
    assert one == wh.tier_delivery_id(hook, subject, change.total.updated_at_us)
    assert one != wh.tier_delivery_id(hook, subject, 999)  # same version, written at another time
    other = wh.Webhook("h", hook.url, hook.events, hook.secret, 6)  # the webhook made again
    assert one != wh.tier_delivery_id(other, subject, change.total.updated_at_us)


def test_the_body_is_what_the_contract_declares() -> None:
    [change] = tc.changes(BOARD, tc.Held(LogPosition(0, 1), 60), [total(2, 130)])
    body = body_of("dlv_x", tc.Where("arena", "day", "2026-12-07"), change, 3)
    told = msgspec.convert(body, TierChanged)
    assert (told.tier, told.previous_tier, told.cohort, told.score, told.version) == ("gold", "silver", "3", 130, 2)
    assert (told.window, told.period, told.at_us) == ("day", "2026-12-07", 1002)


def test_a_change_inside_one_db_worker_batch_is_told_at_the_total_that_made_it() -> None:
    """The store wrote 120 (version 3); 60 and 100 were its steps in the same batch."""
    written = with_step(with_step(total(1, 60), total(2, 100), 100), total(3, 120), 100)
    assert moves(BOARD, NOTHING, [written]) == [(1, None, "silver"), (2, "silver", "gold")]
    assert moves(BOARD, tc.Held(written.position, 120), [written]) == []  # applied already: steps too
    without = moves(BOARD, NOTHING, [replace(written, steps="")])  # PODIUM_HISTORY_POINTS=0
    assert without == [(3, None, "gold")]


def test_steps_at_or_below_the_version_the_index_holds_tell_nothing() -> None:
    """At depth 3 the db-worker's total carries its predecessors still in flight as steps, and
    each of those carries its own: 100 (version 5) may carry 20, 40, 60 and 80 when the index
    holds 80 (version 4) already. Only what is newer than the index's version is a change."""
    chain = total(1, 20)
    for version, score in ((2, 40), (3, 60), (4, 80), (5, 100)):
        chain = with_step(chain, total(version, score), 100)
    held = tc.Held(LogPosition(0, 40), 80, 4)
    assert moves(BOARD, held, [chain]) == [(5, "silver", "gold")]
    assert moves(BOARD, tc.Held(LogPosition(0, 20), 40, 2), [chain]) == [(3, None, "silver"), (5, "silver", "gold")]


def test_a_change_has_one_id_whether_its_own_total_or_a_later_ones_step_tells_it() -> None:
    """The feed may bring a change as a step of a newer total (whose write landed first) or as
    its own total: the same delivery id either way, so a batch read again in another cut of
    the feed after a restart records nothing new."""
    hook = wh.Webhook("h", "https://hooks.example.com/a", (wh.TIER_CHANGED,), "s" * 20, 5)
    own = total(2, 60)
    [direct] = tc.changes(BOARD, tc.Held(LogPosition(0, 10), 20, 1), [own])
    [stepped, _] = tc.changes(BOARD, tc.Held(LogPosition(0, 10), 20, 1), [with_step(own, total(3, 120), 100)])
    where = tc.Where("arena", "all", None)
    assert direct.total.position != stepped.total.position  # a step shares its carrier's position
    assert wh.tier_delivery_id(hook, where.subject(direct), direct.total.updated_at_us) == wh.tier_delivery_id(
        hook, where.subject(stepped), stepped.total.updated_at_us
    )
