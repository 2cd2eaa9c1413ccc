"""The parts the OpenAPI document's operations are written with: references to the
generated components, request bodies, answers, and the path and query parameters."""

from __future__ import annotations

from typing import Any

from podium.api.contract.fields import Id, Score
from podium.api.contract.schema import REF, schema

ID = schema(Id)
SCORE = schema(Score)


def ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(name=name)}


def body(name: str, required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": ref(name)}}}


def answer(description: str, schema: str | None = None) -> dict[str, Any]:
    if schema is None:
        return {"description": description}
    return {"description": description, "content": {"application/json": {"schema": ref(schema)}}}


# A board's cohort or tier setting refused (issue 22): invalid_cohort_size, invalid_tiers, or
# immutable_setting for a change of cohort_size.
ERRORS = {
    "400": answer("Invalid input; nothing was changed", "Error"),
    "404": answer("Unknown board or user", "Error"),
    "413": answer("Body too large", "Error"),
}
# A board's cohort or tier setting refused (issue 22): invalid_cohort_size, invalid_tiers, or
# immutable_setting for a change of cohort_size.
SETTING_REFUSED = {"422": answer("A cohort or tier setting refused; nothing was changed", "Error")}


def path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": ID}


BOARD = path_param("board")
USER = path_param("user_id")
WINDOW = {
    "name": "window",
    "in": "query",
    "required": False,
    "schema": {"type": "string"},
    "description": "One of the board's windows (default: all-time, or its first window)",
}
PERIOD = {
    "name": "period",
    "in": "query",
    "required": False,
    "schema": {"type": "string"},
    "description": "A period id of the window (default: the current one); see /periods",
}
