"""Request bodies decoded with the contract's types, refused in the contract's words."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import msgspec

from podium.errors import InvalidInput

T = TypeVar("T")


def decode(decoder: msgspec.json.Decoder[T], body: bytes, explain: Callable[[], object]) -> T:
    """`body` as the decoder's type. What the type refuses, `explain` (the field-by-field
    checks, which give each error the code and message the contract promises) raises; should
    it find nothing wrong, the type's own words are the message. A valid body never reaches
    `explain`: that is the fast path."""
    try:
        return decoder.decode(body)
    except (msgspec.MsgspecError, RecursionError) as exc:  # RecursionError: nested past the decoder's stack
        explain()
        raise InvalidInput(f"the body does not match its schema: {exc}", code="invalid_body") from None
