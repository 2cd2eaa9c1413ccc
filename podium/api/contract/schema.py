"""The OpenAPI document's components, generated from the contract's types."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

REF = "#/components/schemas/{name}"


def components(types: Iterable[Any]) -> dict[str, Any]:
    """The JSON Schema of each type, and of each type they use (enums, nested Structs), by name."""
    _, found = msgspec.json.schema_components(list(types), ref_template=REF)
    return found


def schema(kind: Any) -> dict[str, Any]:
    """One field type's schema inline (an id, a score), for a path or query parameter."""
    found: dict[str, Any] = msgspec.json.schema(kind, ref_template=REF)
    return found
