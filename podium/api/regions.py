"""What only the home region's api does (docs/global.md): change boards and the rank index.

An api away from home reads ranks from its region's Redis replicas, which refuse writes;
a board deleted there would be gone from the store before the replica refused to drop its
ranks. So these routes are refused before anything is read or changed, with 421
`not_home_region` naming the home region. A user's own events (scores, removals, bans) are
not among them: they go through the log of the region the user enters through.
"""

from __future__ import annotations

import functools
from typing import Any

from podium.api.auth import Handler
from podium.api.context import services
from podium.errors import NotHomeRegion


def home_only(endpoint: Handler) -> Handler:
    """The endpoint, refused on an api that reads the rank index from replicas."""

    @functools.wraps(endpoint)
    async def at_home(conn: Any) -> Any:
        svc = services(conn)
        if svc.reads_replicas:
            home = svc.settings.home_region or "home"
            raise NotHomeRegion(
                f"this api (region {svc.settings.region!r}) reads ranks from its region's read-only replicas: "
                f"boards, rebuilds, replays and reconciles are changed through the home region's api ({home!r})",
                home_region=home,
            )
        return await endpoint(conn)

    at_home.home_only = True  # type: ignore[attr-defined]
    return at_home  # type: ignore[return-value]
