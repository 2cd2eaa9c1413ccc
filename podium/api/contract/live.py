"""The live endpoints (api/live.py): the SSE stream's query, which the WebSocket shares, and
the frames both send."""

from __future__ import annotations

from typing import Annotated, Literal, cast

from msgspec import UNSET, Meta, Struct, UnsetType, defstruct

from podium.api.contract.fields import Id
from podium.api.contract.friends import FriendsBoardEntry
from podium.api.contract.reads import Cohort, Entry
from podium.api.contract.schema import REF
from podium.domain.boards import ID_PATTERN, MAX_ID_CHARS
from podium.settings import Settings

DEFAULT_TOP = 10
MAX_SEQ = 2**63 - 1
Seq = Annotated[int, Meta(ge=0, le=MAX_SEQ)]


class EventsQuery(Struct):
    user_id: (
        Annotated[
            str,
            Meta(
                # Empty: no subscriber (as an EventSource URL may leave it).
                pattern=f"^{ID_PATTERN.pattern.replace('{1,', '{0,')}$",
                max_length=MAX_ID_CHARS,
                description="The subscriber: adds its entry, friends board and events (empty: none).",
            ),
        ]
        | UnsetType
    ) = UNSET
    top: int = DEFAULT_TOP  # sized by `sized`
    cohort: Cohort | UnsetType = UNSET
    last_event_id: (
        Annotated[Seq, Meta(description="Resume after this seq (as the Last-Event-ID header does).")] | UnsetType
    ) = UNSET


def sized(settings: Settings) -> type[EventsQuery]:
    """The query with the service's largest top."""
    most = settings.live_max_top
    top = Annotated[int, Meta(ge=1, le=most)]
    query = defstruct("EventsQuery", [("top", top, min(DEFAULT_TOP, most))], bases=(EventsQuery,))
    return cast(type[EventsQuery], query)


# The frames (podium/usecases/live_session.py): a snapshot, then deltas. The WebSocket sends each as
# one JSON text message; the SSE stream as an event's `data`, its `id` the frame's seq.


class LiveChange(Struct):
    seq: Seq
    user_id: Id
    score: Annotated[int, Meta(description="The user's new total (absolute: a repeat is harmless)")]
    rank: Annotated[Annotated[int, Meta(ge=1)] | None, Meta(description="Null: no longer ranked")]
    version: int


class PersonalBest(Struct, tag="personal_best", tag_field="type"):
    score: int
    previous: Annotated[int | None, Meta(description="The best total seen while subscribed (null: none)")]


class EnteredTop(Struct, tag="entered_top", tag_field="type"):
    rank: Annotated[int, Meta(ge=1)]
    top: Annotated[int, Meta(ge=1, description="The N of the stream's top")]


class FriendPassedYou(Struct, tag="friend_passed_you", tag_field="type"):
    friend: Id
    friend_rank: Annotated[int, Meta(ge=1)]
    rank: Annotated[int, Meta(ge=1, description="The subscriber's own")]


LiveEvent = PersonalBest | EnteredTop | FriendPassedYou
SnapshotReason = Literal["subscribed", "resume_too_old", "too_far_behind", "history_lost"]


class LiveSnapshot(Struct, tag="snapshot", tag_field="type", kw_only=True):
    reason: SnapshotReason
    top: list[Entry]
    me: Annotated[Entry | None, Meta(description="The subscriber's entry (null: none, or not ranked)")]
    friends: (
        Annotated[list[FriendsBoardEntry] | None, Meta(description="The subscriber's friends board")] | UnsetType
    ) = UNSET
    board: Id
    cohort: Annotated[int, Meta(ge=1, description="Followed with cohort=: the cohort")] | UnsetType = UNSET
    seq: Annotated[Seq, Meta(description="The board's newest change the state includes")]
    at_ms: int


class LiveDelta(Struct, tag="delta", tag_field="type", kw_only=True):
    changes: Annotated[list[LiveChange], Meta(description="Consecutive seqs, after the previous frame's")]
    top: Annotated[list[Entry], Meta(description="Only when it changed")] | UnsetType = UNSET
    me: Annotated[Entry | None, Meta(description="Only when it changed")] | UnsetType = UNSET
    friends: Annotated[list[FriendsBoardEntry] | None, Meta(description="Only when it changed")] | UnsetType = UNSET
    events: list[LiveEvent]
    board: Id
    cohort: Annotated[int, Meta(ge=1, description="Followed with cohort=: the cohort")] | UnsetType = UNSET
    seq: Annotated[Seq, Meta(description="The last change's (a cohort's stream skips others' seqs)")]
    at_ms: int


LiveFrame = LiveSnapshot | LiveDelta


# An SSE event's data: a frame's JSON.
FrameJson = Annotated[
    str,
    Meta(
        extra_json_schema={
            "contentMediaType": "application/json",
            "contentSchema": {"anyOf": [{"$ref": REF.format(name=t.__name__)} for t in (LiveSnapshot, LiveDelta)]},
        }
    ),
]


class ServerSentEvent(Struct, kw_only=True):
    """One event of the SSE stream (the Open API 3.2 reading of an event-stream schema): its
    fields as parsed, `data` the frame's JSON. A first event carries only `retry`."""

    id: Annotated[str, Meta(pattern="^[0-9]+$", description="The frame's seq")] | UnsetType = UNSET
    event: Literal["snapshot", "delta"] | UnsetType = UNSET
    retry: Annotated[int, Meta(description="Reconnect after this many milliseconds")] | UnsetType = UNSET
    data: FrameJson | UnsetType = UNSET


ANSWERS = (ServerSentEvent, LiveSnapshot, LiveDelta)
