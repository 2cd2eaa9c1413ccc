"""The live endpoints' query (api/live.py): the SSE stream's, which the WebSocket shares."""

from __future__ import annotations

from typing import Annotated, cast

from msgspec import UNSET, Meta, Struct, UnsetType, defstruct

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
    last_event_id: (
        Annotated[Seq, Meta(description="Resume after this seq (as the Last-Event-ID header does).")] | UnsetType
    ) = UNSET


def sized(settings: Settings) -> type[EventsQuery]:
    """The query with the service's largest top."""
    most = settings.live_max_top
    top = Annotated[int, Meta(ge=1, le=most)]
    query = defstruct("EventsQuery", [("top", top, min(DEFAULT_TOP, most))], bases=(EventsQuery,))
    return cast(type[EventsQuery], query)
