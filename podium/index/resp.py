"""Script calls packed into Redis's wire format (RESP) ahead of time, in parts.

A read's script call is mostly the same bytes every time: the board's keys, the map's epoch
and each segment's range do not change while the reader keeps the map. redis-py packs every
argument of every call again (an encode and a growing bytes join each: ~25 arguments a call,
a fifth of a page's Python time here). So a reader packs the parts that hold with its map
once, and at each call only the few that change (a user, a position), and joins them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple


class Packed(NamedTuple):
    """Some command items in RESP bulk strings, and how many they are."""

    data: bytes
    items: int


def pack(items: Iterable[str | int | bytes]) -> Packed:
    """Items as RESP bulk strings, encoded as redis-py encodes them (str as UTF-8, int in
    decimal)."""
    out = []
    for item in items:
        raw = item if isinstance(item, bytes) else item.encode() if isinstance(item, str) else b"%d" % item
        out.append(b"$%d\r\n%s\r\n" % (len(raw), raw))
    return Packed(b"".join(out), len(out))


def join(*parts: Packed) -> Packed:
    return Packed(b"".join(p.data for p in parts), sum(p.items for p in parts))


class ScriptCall(NamedTuple):
    """One script call: the script (its SHA1 and its source, for a server that lost it) and
    its number of keys, keys and arguments, packed."""

    sha: str
    source: str
    body: Packed  # numkeys, keys, args

    def command(self, *, by_source: bool = False) -> bytes:
        head = pack(("EVAL", self.source) if by_source else ("EVALSHA", self.sha))
        return b"*%d\r\n%s%s" % (head.items + self.body.items, head.data, self.body.data)
