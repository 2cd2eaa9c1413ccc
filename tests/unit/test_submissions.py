"""Reading submissions: the plain fast path accepts exactly what the general path
accepts, and reads it the same way; the clock never gives two events one time."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from podium.api.scores import checked_submission, plain_submission
from podium.domain.boards import MAX_SCORE, Board
from podium.errors import InvalidInput
from podium.pipeline.ingest import Clock
from podium.settings import Settings


class Svc:
    settings = Settings()


ids = st.one_of(st.from_regex(r"[A-Za-z0-9_.:-]{1,130}", fullmatch=True), st.text(max_size=5), st.integers())
scores = st.one_of(
    st.integers(min_value=-MAX_SCORE - 2, max_value=MAX_SCORE + 2), st.booleans(), st.floats(), st.text(max_size=3)
)
items = st.one_of(
    st.fixed_dictionaries({"user_id": ids, "score": scores}),
    st.fixed_dictionaries({"user_id": ids, "score": scores}, optional={"key": ids, "subscore": scores, "x": ids}),
    st.fixed_dictionaries({"user_id": ids}),
    st.lists(ids, max_size=2),
    ids,
)


@given(items)
def test_the_plain_path_agrees_with_the_general_one(item: Any) -> None:
    board = Board("b")
    try:
        general = checked_submission(Svc, board, item, "body")  # type: ignore[arg-type]
    except InvalidInput:
        general = None
    plain = plain_submission(board, item)
    assert plain is None or plain == general


def test_stamps_follow_each_other_and_single_times() -> None:
    clock = Clock()
    times = [clock.now_us(), *clock.stamps(1000), clock.now_us(), *clock.stamps(3), *clock.stamps(0)]
    assert times == sorted(set(times))
