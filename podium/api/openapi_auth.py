"""API keys in the OpenAPI document: the bearer scheme, and each operation's security and
401/403 answers, read off the routes' guards (api/auth.py), so the two cannot disagree; and
the 421 of the operations only the home region's api makes (api/regions.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.routing import BaseRoute, Route

from podium.api.auth import Access
from podium.api.contract.operations import answer
from podium.domain.keys import Scope

SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "An API key (`podium keys create --scope read|write|admin`): read < write < admin. "
    "Each operation's security lists the scope it needs; reads of a board whose `reads` is `public` "
    "need no key.",
}
UNAUTHORIZED = answer("No API key, or an unknown or revoked one (header WWW-Authenticate: Bearer)", "Error")
FORBIDDEN = answer("The API key's scope does not allow this", "Error")
NOT_HOME_REGION = answer(
    "This api reads ranks from its region's replicas: send it to the home region's api "
    "(`not_home_region`, `home_region`); nothing was changed",
    "Error",
)


def secure(doc: dict[str, Any], routes: Sequence[BaseRoute]) -> dict[str, Any]:
    doc["components"]["securitySchemes"] = {"bearer": SCHEME}
    for route in routes:
        if not isinstance(route, Route):
            continue
        access: Access | None = getattr(route.endpoint, "access", None)
        for method in route.methods or ():
            operation = doc["paths"].get(route.path, {}).get(method.lower())
            if operation is None:
                continue
            if getattr(route.endpoint, "home_only", False):
                operation["responses"]["421"] = NOT_HOME_REGION
            if access is None:
                operation["security"] = []  # public
                continue
            needed = {"bearer": [access.scope.value]}
            operation["security"] = [{}, needed] if access.public_reads else [needed]
            operation["responses"]["401"] = UNAUTHORIZED
            if access.scope is not Scope.READ:  # a key of any scope may read
                operation["responses"]["403"] = FORBIDDEN
    return doc
