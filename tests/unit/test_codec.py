from __future__ import annotations

import orjson
import pytest

from podium.domain.boards import Operator
from podium.domain.totals import Event, ScoreSubmitted, UserHidden, UserRemoved
from podium.errors import InvalidRecord
from podium.pipeline.codec import decode_event, encode_event, encode_score


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


@pytest.mark.parametrize(
    "event",
    [
        ScoreSubmitted("b", "u", 7, "k:1", 2, region="eu-west"),
        UserRemoved("b", "u", 3, "ap"),
        UserHidden("b", "u", True, 4, "us"),
    ],
)
def test_the_region_an_event_was_accepted_in_round_trips(event: Event) -> None:
    assert decode_event(encode_event(event)) == event
    assert orjson.loads(encode_event(event))["region"] == event.region


def test_a_score_encoded_from_its_fields_carries_its_region() -> None:
    raw = encode_score("b", "u", 5, 9, region="ap")
    assert decode_event(raw) == ScoreSubmitted("b", "u", 5, None, 9, region="ap")


@pytest.mark.parametrize(
    ("raw", "event"),
    [
        # Records written before regions, exactly as the log holds them: they decode with region None.
        (
            b'{"type":"score","board":"b","user_id":"u","score":3,"at_us":1,"key":"k"}',
            ScoreSubmitted("b", "u", 3, "k", 1),
        ),
        (b'{"type":"hide","board":"b","user_id":"u","hidden":true,"at_us":2}', UserHidden("b", "u", True, 2)),
        (b'{"type":"remove","board":"b","user_id":"u","at_us":3}', UserRemoved("b", "u", 3)),
    ],
)
def test_records_from_before_regions_still_decode(raw: bytes, event: Event) -> None:
    assert decode_event(raw) == event
    assert decode_event(raw).region is None


def test_an_event_without_a_region_is_encoded_as_before() -> None:
    assert b"region" not in encode_event(ScoreSubmitted("b", "u", 3, None, 1))


@pytest.mark.parametrize(
    "fields",
    [
        {"type": "score", "board": "b", "user_id": "u", "score": -5, "at_us": 1},
        {"type": "score", "board": "b:1", "user_id": 'u\n"é\\', "score": 2**62, "at_us": 2**53 + 1, "key": "k"},
        {
            "type": "score",
            "board": "b",
            "user_id": "Zoë\u2028",
            "score": 0,
            "at_us": 3,
            "subscore": -1,
            "operator": "decr",
            "display_name": "\u0001 \U0001f600",
            "metadata": '{"a":"\\u0001"}',
            "region": "eu",
        },
        {"type": "hide", "board": "b", "user_id": "u", "hidden": True, "at_us": 4},
        {"type": "remove", "board": "b", "user_id": "u", "at_us": 5, "region": "ap"},
    ],
)
def test_records_are_the_bytes_orjson_wrote(fields: dict[str, object]) -> None:
    """The writer changed from orjson to msgspec (cheaper for a batch's records): the log's
    bytes did not, so a record is the same whoever wrote it, before or after."""
    event = decode_event(orjson.dumps(fields))
    assert encode_event(event) == orjson.dumps(fields)
