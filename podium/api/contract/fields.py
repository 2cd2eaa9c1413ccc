"""The fields the contract's types share, with the domain's limits."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from podium.domain.boards import ID_PATTERN, MAX_ID_CHARS, MAX_SCORE, MIN_SCORE

# Board, user and job ids, idempotency keys. JSON Schema's `$` ends the string; msgspec reads
# the pattern with Python's re.search, whose `$` also matches before a final newline: a
# decoded id can still end in "\n", which `ends_in_newline` catches (domain.boards refuses it).
Id = Annotated[str, Meta(pattern=f"^{ID_PATTERN.pattern}$", min_length=1, max_length=MAX_ID_CHARS)]
Score = Annotated[int, Meta(ge=MIN_SCORE, le=MAX_SCORE)]


def ends_in_newline(value: str) -> bool:
    """The one id the pattern lets through that the domain refuses (see `Id`)."""
    return value[-1:] == "\n"
