"""The one shape of every error answer (api/errors.py)."""

from __future__ import annotations

from typing import Annotated

from msgspec import UNSET, Meta, Struct, UnsetType


class ErrorDetail(Struct, kw_only=True):
    code: str
    message: str
    rule: Annotated[str, Meta(description="score_rule: the rule broken")] | UnsetType = UNSET
    index: Annotated[int, Meta(description="score_rule in a batch: the first breaking item")] | UnsetType = UNSET
    home_region: Annotated[str, Meta(description="not_home_region: the region whose api does it")] | UnsetType = UNSET
    user_region: Annotated[str, Meta(description="wrong_region: where the user enters")] | UnsetType = UNSET


class Error(Struct):
    error: ErrorDetail


ANSWERS = (Error,)
