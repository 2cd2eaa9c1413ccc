"""One user across the service: shadow-bans on a board, privacy deletes and exports."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from podium.api.context import board_of, services, user_of
from podium.api.contract.users import Export, ExportEntry, Forgotten, Hidden
from podium.api.responses import answer, stored_json
from podium.api.scores import not_visible
from podium.usecases.users import Users


def users_of(request: Request) -> Users:
    return services(request).users


async def hide(request: Request) -> Response:
    return await _set_hidden(request, True)


async def unhide(request: Request) -> Response:
    return await _set_hidden(request, False)


async def _set_hidden(request: Request, hidden: bool) -> Response:
    users = users_of(request)
    board = await board_of(request)
    user_id = user_of(request)
    if not await users.hide(board, user_id, hidden):
        return not_visible()
    return answer(Hidden(board.name, user_id, hidden))


async def forget(request: Request) -> Response:
    """A privacy request: the user off every board and every friend list."""
    users = users_of(request)
    done = await users.forget(user_of(request))
    if not done.visible:
        return answer(Forgotten(**done.to_json(), accepted=True, visible=False), 202)
    return answer(Forgotten(**done.to_json()))


async def export(request: Request) -> Response:
    users = users_of(request)
    found = await users.export(user_of(request))
    entries = [exported(e) for e in found["entries"]]
    return answer(Export(found["user_id"], entries, found["friends"], found["followers"]))


def exported(entry: dict[str, Any]) -> ExportEntry:
    """One of the export's entries (usecases/users.entry_json) as its type; its metadata, parsed
    there, embedded as orjson writes it, as the export always showed it."""
    metadata = entry["metadata"]
    return ExportEntry(
        **{**entry, "metadata": stored_json(orjson.dumps(metadata).decode()) if metadata is not None else None}
    )
