"""What a read needs for cohorts and tiers: the cohort its `cohort=me|<n>` names, ranked, and
the count a tier by place is measured in. The cohorts are the use case's
(podium/usecases/cohorts.py); api/reads.py shapes the answers."""

from __future__ import annotations

from starlette.requests import Request

from podium.domain.boards import Board
from podium.domain.cohorts import needs_count
from podium.errors import InvalidInput
from podium.services import ApiServices
from podium.usecases.cohorts import CohortView


async def view_of(svc: ApiServices, request: Request, board: Board, user_id: str | None) -> CohortView | None:
    """The cohort the query's `cohort=` names, ranked (None: no `cohort=`, the whole board).
    `user_id`: whose cohort `me` is (the path's user, or the query's on the top page)."""
    asked = request.query_params.get("cohort")
    if asked is None:
        return None
    if request.query_params.get("cursor") is not None:
        raise InvalidInput("a cohort's page takes offset, not cursor", code="invalid_parameter")
    cohort = await svc.cohorts.chosen(board, asked, user_id)
    if cohort is None:
        return None
    return await svc.cohorts.view(board, cohort, viewer=user_id)


async def users_for_tiers(svc: ApiServices, board: Board) -> int | None:
    """How many the board ranks, where a tier by place needs it (None: no need)."""
    return await svc.standings.count(board) if needs_count(board.tiers) else None
