"""What a 405's `Allow` header says: every method of every route whose path matches.

Starlette's answer names only the first route matched, and Podium serves one path through
several routes (GET, PUT, PATCH and DELETE of /v1/boards/{board} are four), so a client
told `Allow: PUT` for a POST to a board would not learn it can GET it."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.routing import BaseRoute, Match, Route
from starlette.types import Scope

# RFC 9110's order of the methods, so that the header reads the same on every answer.
ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(routes: Iterable[BaseRoute], scope: Scope) -> list[str]:
    """The methods any of `routes` answers at this request's path."""
    found: set[str] = set()
    for route in routes:
        if isinstance(route, Route) and route.methods and route.matches(scope)[0] is not Match.NONE:
            found |= route.methods
    return sorted(found, key=lambda m: (ORDER.index(m) if m in ORDER else len(ORDER), m))
