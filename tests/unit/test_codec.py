from __future__ import annotations

import pytest

from podium.codec import decode_event, encode_event
from podium.domain.boards import Operator
from podium.domain.totals import Event, ScoreSubmitted, UserHidden, UserRemoved
from podium.errors import InvalidRecord


@pytest.mark.parametrize(
    "event",
    [
        ScoreSubmitted("b", "u", -5, None, 1),
        ScoreSubmitted("b", "u", 7, "k:1", 2),
        ScoreSubmitted("b", "u", 7, None, 2, -3, Operator.DECR, "Zoë", '{"a":[1]}'),
        ScoreSubmitted("b", "u", 7, None, 2, 0, None, "", ""),
        UserRemoved("b", "u", 3),
        UserHidden("b", "u", True, 4),
        UserHidden("b", "u", False, 5),
    ],
)
def test_events_round_trip(event: Event) -> None:
    assert decode_event(encode_event(event)) == event


@pytest.mark.parametrize("raw", [b"", b"{", b"[]", b'{"type":"score"}', b'{"type":"other","board":"b"}'])
def test_undecodable_records_are_invalid(raw: bytes) -> None:
    with pytest.raises(InvalidRecord):
        decode_event(raw)
