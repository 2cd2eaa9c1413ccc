"""Reading and checking requests. Anything wrong raises InvalidInput before any change."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import msgspec
import orjson
from starlette.requests import ClientDisconnect, Request

from podium.domain.boards import MAX_SCORE, MIN_SCORE, is_valid_id, is_valid_score
from podium.errors import BodyTooLarge, InvalidInput, shown

MAX_INT64 = 2**63 - 1


def digits(raw: str, max_value: int = MAX_INT64) -> int | None:
    """`raw` as a whole number if it is one of at most `max_value` in ASCII digits, else
    None (str.isdigit alone lets through '²', and int() of thousands of digits raises)."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > len(str(max_value)):
        return None
    value = int(raw)
    return value if value <= max_value else None


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The request body's bytes; refused early when larger than `max_bytes` (by its
    Content-Length, before reading; else while reading). Read straight from the server's
    messages, as Starlette's `Request.stream` does, without its async generator or a
    `Headers` object: a body in one message (any small one) is returned as it came. These
    were a tenth of the event loop's time under single submissions (py-spy)."""
    declared = content_length(request.scope["headers"])
    if declared is not None and declared.isascii() and declared.isdigit() and digits(declared, max_bytes) is None:
        raise BodyTooLarge(f"the body is larger than {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    receive = request.receive
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLarge(f"the body is larger than {max_bytes} bytes")
        if not message.get("more_body", False):
            return chunk if not chunks else b"".join([*chunks, chunk])
        chunks.append(chunk)


def content_length(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The Content-Length header's value, as Starlette's `Headers.get` finds it (the first)."""
    for name, value in headers:
        if name == b"content-length":
            return value.decode("latin-1")
    return None


def parse_json(body: bytes, *, allow_empty: bool = False) -> Any:
    """`body` as JSON. orjson refuses a body nested deeper than 1024 levels (400
    invalid_json) without recursing."""
    if not body:  # no body at all; anything else, even only whitespace, must be JSON
        if allow_empty:
            return {}
        raise InvalidInput("the body is empty; send a JSON object", code="invalid_json")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"the body is not valid JSON: {exc}", code="invalid_json") from exc


async def read_json(request: Request, max_bytes: int, *, allow_empty: bool = False) -> Any:
    """The request body as JSON (read_body, then parse_json)."""
    return parse_json(await read_body(request, max_bytes), allow_empty=allow_empty)


def nested_deeper(value: Any, max_depth: int) -> bool:
    """True if `value` holds objects or arrays more than `max_depth` levels deep (an object
    of scalars is 1 level). Walked without recursion: a hostile value cannot exhaust the stack."""
    level = [value]
    for _ in range(max_depth):
        level = [v for c in level if isinstance(c, (dict, list)) for v in (c.values() if isinstance(c, dict) else c)]
        if not level:
            return False
    return any(isinstance(v, (dict, list)) for v in level)


def fields(
    body: Any, required: tuple[str, ...], optional: tuple[str, ...] = (), *, where: str = "body"
) -> dict[str, Any]:
    """Check that `body` is an object with exactly the allowed fields."""
    if not isinstance(body, dict):
        raise InvalidInput(f"the {where} must be a JSON object", code="invalid_body")
    missing = [name for name in required if name not in body]
    if missing:
        raise InvalidInput(f"missing field {shown(missing[0])} in the {where}", code="missing_field")
    unknown = sorted(set(body) - set(required) - set(optional))
    if unknown:
        raise InvalidInput(f"unknown field {shown(unknown[0])} in the {where}", code="unknown_field")
    return body


def check_id(value: Any, name: str) -> str:
    if not is_valid_id(value):
        raise InvalidInput(f"{name} must be 1-128 characters of A-Z a-z 0-9 _ . : -", code=f"invalid_{name}")
    return str(value)


def check_score(value: Any, name: str = "score") -> int:
    if not is_valid_score(value):
        raise InvalidInput(f"{name} must be an integer from {MIN_SCORE} to {MAX_SCORE}", code="invalid_score")
    return int(value)


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise InvalidInput(f"{name} must be one of {', '.join(choices)}", code=f"invalid_{name}")
    return str(value)


def int_param(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw, 10)
    except ValueError:
        raise InvalidInput(f"query parameter {name} must be an integer", code="invalid_parameter") from None
    if not low <= value <= high:
        raise InvalidInput(f"query parameter {name} must be from {low} to {high}", code="invalid_parameter")
    return value


def int_query(params: Mapping[str, str], kind: type[msgspec.Struct], name: str) -> int:
    """The integer query parameter `name`, read by its default and bounds as the query's
    declared type `kind` has them (api/contract/)."""
    return int_param(params, name, *declared_int(kind, name))


@functools.cache
def declared_int(kind: type[msgspec.Struct], name: str) -> tuple[int, int, int]:
    """The default, lowest and highest value of a query Struct's integer field."""
    [field] = [f for f in msgspec.inspect.type_info(kind).fields if f.name == name]  # type: ignore[attr-defined]
    bounds = field.type.type if isinstance(field.type, msgspec.inspect.Metadata) else field.type  # described
    assert isinstance(bounds, msgspec.inspect.IntType) and bounds.ge is not None, (kind, name)
    return field.default, bounds.ge, bounds.le if bounds.le is not None else MAX_INT64


def bool_param(params: Mapping[str, str], name: str) -> bool:
    raw = params.get(name)
    if raw is None:
        return False
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no", ""):
        return False
    raise InvalidInput(f"query parameter {name} must be true or false", code="invalid_parameter")
