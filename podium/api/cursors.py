"""The top's paging cursor: the rank key of a page's last entry, opaque to clients.

A cursor is unpadded URL-safe base64 of the JSON `[score key, "tie-break", user id]`. The
tie-break is a decimal string: on a board with a subscore it holds the subscore above 64
bits of time (domain.ordering), about 36 digits, past what a JSON number carries exactly.

A cursor is accepted only if it is, byte for byte, one `encode` gives for a key a user of
this board could have: a tampered one (another spelling, type, range or field count) and
one from a board of another shape (with a subscore where this has none, or the reverse)
are refused. One from a board of the same shape is just a place in the order, as good as
any other, and is served from there.
"""

from __future__ import annotations

import base64
import binascii

import orjson

from podium.domain.boards import MAX_SCORE, Board, is_valid_id
from podium.domain.ordering import SortKey, is_tiebreak
from podium.errors import InvalidInput

MAX_CURSOR_CHARS = 400  # the OpenAPI document's maxLength; ours are under 250
_MAX_TIE_DIGITS = 40  # 2**118, the largest tie-break, has 36


def encode(key: SortKey) -> str:
    raw = orjson.dumps([key[0], str(key[1]), key[2]])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(board: Board, cursor: str) -> SortKey:
    refused = InvalidInput("cursor is not one this API gave out", code="invalid_cursor")
    if len(cursor) > MAX_CURSOR_CHARS:  # before decoding it: a long one is never ours
        raise refused
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        k0, k1, user = orjson.loads(raw)
    except (binascii.Error, ValueError, TypeError, orjson.JSONDecodeError):
        raise refused from None
    if not (type(k0) is int and type(k1) is str and k1.isascii() and k1.isdigit() and len(k1) <= _MAX_TIE_DIGITS):
        raise refused
    key = (k0, int(k1), user)
    if not -MAX_SCORE <= k0 <= MAX_SCORE or not is_tiebreak(board, key[1]) or not is_valid_id(user):
        raise refused
    if encode(key) != cursor:  # leading zeros, spaces, padding, characters base64 skips
        raise refused
    return key


def after(key: SortKey) -> SortKey:
    """The smallest key after `key` (user ids never hold a NUL): the next page's start."""
    return (key[0], key[1], key[2] + "\x00")
