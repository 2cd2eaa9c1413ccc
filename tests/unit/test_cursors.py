"""The top's paging cursor: every key a user of a board can have round-trips, on boards of
every shape (order, subscore order, totals and subscores up to ±(2^53 − 1)); a tampered
cursor, and one from a board of the other shape, are refused."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from podium.api import cursors
from podium.domain.boards import MAX_SCORE, MIN_SCORE, Board, Order
from podium.domain.ordering import SortKey, sort_key
from podium.errors import InvalidInput

EDGES = st.sampled_from([MIN_SCORE, MAX_SCORE, 0, -1])
SCORES = st.integers(MIN_SCORE, MAX_SCORE) | EDGES
SUBSCORE_ORDERS = [None, Order.DESC, Order.ASC]
USER_IDS = st.from_regex(r"[A-Za-z0-9_.:-]{1,128}", fullmatch=True)


def board_of(order: Order, subscore_order: Order | None) -> Board:
    return Board("b", order, subscore_order=subscore_order)


@st.composite
def boards_and_keys(draw: st.DrawFn) -> tuple[Board, SortKey]:
    board = board_of(draw(st.sampled_from(list(Order))), draw(st.sampled_from(SUBSCORE_ORDERS)))
    subscore = draw(SCORES) if board.subscore_order is not None else 0
    reached_at_us = draw(st.integers(0, 2**64 - 1) | st.sampled_from([0, 2**64 - 1]))
    return board, sort_key(board, draw(SCORES), subscore, reached_at_us, draw(USER_IDS))


def raw(parts: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(parts, separators=(",", ":")).encode()).decode().rstrip("=")


def refused(board: Board, cursor: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        cursors.decode(board, cursor)
    assert caught.value.code == "invalid_cursor"


@settings(max_examples=500, deadline=None)
@given(case=boards_and_keys())
def test_every_key_round_trips(case: tuple[Board, SortKey]) -> None:
    board, key = case
    cursor = cursors.encode(key)
    assert len(cursor) <= cursors.MAX_CURSOR_CHARS
    assert cursors.decode(board, cursor) == key


def test_the_issues_cursor_with_a_subscore_round_trips() -> None:
    board = board_of(Order.DESC, Order.DESC)
    key = sort_key(board, 10, 2, 1_795_993_200_000_000, "a")
    assert len(str(key[1])) > 19  # past 64 bits: what a digit check on int64 refused
    assert cursors.decode(board, cursors.encode(key)) == key


@pytest.mark.parametrize("subscore_order", SUBSCORE_ORDERS)
def test_tampered_cursors_are_refused(subscore_order: Order | None) -> None:
    board = board_of(Order.DESC, subscore_order)
    key = sort_key(board, 10, 2 if subscore_order else 0, 1_000, "ada")
    good = cursors.encode(key)
    tie = str(key[1])
    for cursor in [
        "",
        "nonsense",
        good + "=",  # padding: not how the API spells it
        good + "A" * 400,
        good[:-2],
        good[:5] + "!" + good[5:],  # base64 skips characters outside its alphabet
        raw([10, tie]),
        raw([10, tie, "ada", 1]),
        raw({"0": 10, "1": tie, "2": "ada"}),
        raw([-10, tie, "a b"]),  # not a user id
        raw([-10, "0" + tie, "ada"]),  # leading zero
        raw([-10, " " + tie, "ada"]),
        raw([-10, tie[:1] + "_" + tie[1:], "ada"]),  # int() takes underscores
        raw([-10, "-" + tie, "ada"]),
        raw([-10, int(tie), "ada"]),  # the tie-break as a number
        raw([-10.0, tie, "ada"]),
        raw([True, tie, "ada"]),
        raw(["-10", tie, "ada"]),
        raw([MAX_SCORE + 1, tie, "ada"]),
        raw([-10, "9" * 41, "ada"]),
        raw([-10, str(2**118), "ada"]),  # past the largest subscore part
    ]:
        refused(board, cursor)
    assert cursors.decode(board, good) == key


def test_a_cursor_of_a_board_of_the_other_shape_is_refused() -> None:
    plain, with_subscore = board_of(Order.DESC, None), board_of(Order.DESC, Order.ASC)
    refused(with_subscore, cursors.encode(sort_key(plain, 10, 0, 1_000, "ada")))
    refused(plain, cursors.encode(sort_key(with_subscore, 10, 3, 1_000, "ada")))
