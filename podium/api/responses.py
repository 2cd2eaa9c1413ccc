"""JSON answers: a declared answer (api/contract/) encoded by its type, or JSON built by hand
encoded with orjson. Both give the same bytes for the same JSON (compact, keys in order: a
Struct's fields in their declared order), except a float of 1e16 or more, which orjson writes
1e+16 and msgspec 1e16. So an answer that may carry a game's own JSON (metadata, where any
float can be) stays with orjson until it is a Struct that passes that JSON through as is."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
import orjson
from starlette.responses import Response

ENCODER = msgspec.json.Encoder()


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status, headers=headers, media_type="application/json")


def stored_json(text: str) -> Any:
    """A game's JSON as it was stored (compact text; "" for none), embedded as it is, as
    orjson.Fragment did: its bytes are the game's, whatever msgspec would write. Typed Any:
    it stands where a declared answer says a JSON object."""
    return msgspec.Raw(text) if text else None


def answer(declared: msgspec.Struct, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """A declared answer, encoded by its type: no field can be sent that the document lacks."""
    return Response(ENCODER.encode(declared), status, headers=headers, media_type="application/json")
