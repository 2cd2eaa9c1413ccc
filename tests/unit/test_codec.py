from __future__ import annotations

import pytest

from podium.codec import decode_event, encode_event
from podium.domain.totals import ScoreSubmitted, UserRemoved
from podium.errors import InvalidRecord


@pytest.mark.parametrize(
    "event",
    [ScoreSubmitted("b", "u", -5, None, 1), ScoreSubmitted("b", "u", 7, "k:1", 2), UserRemoved("b", "u", 3)],
)
def test_events_round_trip(event: ScoreSubmitted | UserRemoved) -> None:
    assert decode_event(encode_event(event)) == event


@pytest.mark.parametrize("raw", [b"", b"{", b"[]", b'{"type":"score"}', b'{"type":"other","board":"b"}'])
def test_undecodable_records_are_invalid(raw: bytes) -> None:
    with pytest.raises(InvalidRecord):
        decode_event(raw)
