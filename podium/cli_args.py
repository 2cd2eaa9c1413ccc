"""The CLI's checks of its arguments: the same rules as the API's, said the argparse way.

Each function is an argparse `type=`: a bad value becomes one line on stderr
(`podium replay: error: argument --from: …`) and exit code 2, never a traceback."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from podium.api.admin import parse_start
from podium.api.requests import check_id, digits
from podium.domain.keys import ID_HEX
from podium.errors import InvalidInput


def whole(low: int, high: int) -> Callable[[str], int]:
    """A whole number from `low` to `high`, in ASCII digits: int() alone takes '٣' and '1_0',
    and str.isdigit() takes '²', which int() then refuses with a traceback."""

    def parse(raw: str) -> int:
        value = digits(raw.strip(), high)
        if value is None or value < low:
            raise argparse.ArgumentTypeError(f"must be a whole number from {low} to {high}, not {raw!r}")
        return value

    parse.__name__ = "whole number"  # what argparse names the type in its own messages
    return parse


def number(low: float, high: float) -> Callable[[str], float]:
    """A finite number above `low` and at most `high`, in ASCII (float() takes 'nan' and '١')."""

    def parse(raw: str) -> float:
        try:
            value = float(raw) if raw.isascii() else math.nan
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and low < value <= high):
            raise argparse.ArgumentTypeError(f"must be a number above {low:g} and at most {high:g}, not {raw!r}")
        return value

    parse.__name__ = "number"
    return parse


# 0 is allowed as Settings allows it: the system picks a free port.
port = whole(0, 65535)


def board(raw: str) -> str:
    """A board's name, by the API's rule (it goes into a URL path: '../x' must not)."""
    try:
        return check_id(raw, "board")
    except InvalidInput as exc:
        raise argparse.ArgumentTypeError(f"{exc.message}, not {raw!r}") from None


def key_id(raw: str) -> str:
    """A key's id as `podium keys list` shows it."""
    if len(raw) != ID_HEX or not all(c in "0123456789abcdef" for c in raw):
        raise argparse.ArgumentTypeError(f"a key id is {ID_HEX} hex digits (see `podium keys list`), not {raw!r}")
    return raw


def replay_start(raw: str) -> int | str:
    """An offset or a time, checked by the API's rule; sent as typed (an offset as a number)."""
    try:
        start = parse_start(raw)
    except InvalidInput as exc:
        raise argparse.ArgumentTypeError(f"{exc.message}, not {raw!r}") from None
    return start.offset if start.offset is not None else raw
