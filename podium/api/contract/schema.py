"""The OpenAPI document's components, generated from the contract's types."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

REF = "#/components/schemas/{name}"


def components(types: Iterable[Any]) -> dict[str, Any]:
    """The JSON Schema of each type, and of each type they use (enums, nested Structs), by name."""
    _, found = msgspec.json.schema_components(list(types), ref_template=REF)
    shown: dict[str, Any] = as_json(found)
    return shown


def as_json(value: Any) -> Any:
    """`value` as JSON holds it: a tuple default, ("all",), becomes the list a client reads."""
    return msgspec.json.decode(msgspec.json.encode(value))


def schema(kind: Any) -> dict[str, Any]:
    """One field type's schema inline (an id, a score), for a path or query parameter."""
    found: dict[str, Any] = as_json(msgspec.json.schema(kind, ref_template=REF))
    return found


def query_parameters(kind: Any) -> list[dict[str, Any]]:
    """A query Struct's fields as OpenAPI query parameters, each optional."""
    shown = components([kind])[kind.__name__]["properties"]
    parameters = []
    for name, field in shown.items():
        described = {"description": field.pop("description")} if "description" in field else {}
        parameters.append({"name": name, "in": "query", "required": False, "schema": field, **described})
    return parameters
