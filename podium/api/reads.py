"""Rank queries: the top (by offset or cursor), a user's entry and percentile, the
players around a user, a lookup of many users, score ranges and counts, and the score a
rank takes. Every answer reads ranks through `Standings` (podium/usecases/standings.py), which numbers
users under the board's tie policy."""

from __future__ import annotations

import asyncio
from typing import Any, get_args

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from podium.api import cohort_reads, cursors
from podium.api.context import board_of, contract_of, read_board, services, user_of
from podium.api.contract import reads as typed
from podium.api.contract.decoding import decode
from podium.api.contract.reads import MAX_LOOKUP, AroundQuery, LookupOrder, RangeQuery, ScoreForRankQuery, TopQuery
from podium.api.requests import check_choice, check_id, check_score, fields, int_query, parse_json, read_body
from podium.api.responses import answer, stored_json
from podium.domain.boards import Board, Order, Tie
from podium.domain.ordering import SortKey, score_key, tie_floor
from podium.domain.targets import needed_total, one_better
from podium.errors import InvalidInput, UserNotFound
from podium.index.base import Entry
from podium.usecases import period_boards
from podium.usecases.cohorts import tiers_of
from podium.usecases.period_boards import default_window, periods_json, where
from podium.usecases.standings import Standings


async def top(request: Request) -> Response:
    svc = services(request)
    board = await read_board(request)
    params = request.query_params
    limit = int_query(params, TopQuery, "limit")
    cursor = params.get("cursor")
    if cursor is not None and "offset" in params:
        raise InvalidInput("give offset or cursor, not both", code="invalid_parameter")
    asker = check_id(params["user_id"], "user_id") if "user_id" in params else None  # whose cohort=me
    cohort = await cohort_reads.view_of(svc, request, board, asker)
    if cohort is not None:  # ranked within one cohort (usecases/cohorts.py)
        entries = cohort.page(int_query(params, TopQuery, "offset") + 1, limit)
        tiered = shown(entries, board, cohort.count())
        return answer(typed.TopPage(**where(board), users=cohort.count(), entries=tiered, cohort=cohort.cohort))
    if cursor is not None:
        # The page after the cursor's key, wherever its user has moved since: no entry is
        # seen twice or skipped because others changed in between.
        first = await svc.standings.count_before(board, cursors.after(cursors.decode(board, cursor))) + 1
    else:
        first = int_query(params, TopQuery, "offset") + 1
    entries = await svc.standings.page(board, first, limit)
    next_cursor = cursors.encode(board_key(entries[-1])) if len(entries) == limit else None
    users = await svc.standings.count(board)
    return answer(
        typed.TopPage(**where(board), users=users, entries=shown(entries, board, users), next_cursor=next_cursor)
    )


def shown(entries: list[Entry], board: Board | None = None, users: int | None = None) -> list[typed.Entry]:
    """The entries as answers show them; on a board with tiers each with its tier (one by
    place measured among `users`, where the entries rank)."""
    tiers = tiers_of(board, entries, users) if board is not None else None
    if tiers is None:
        return [entry_of(e) for e in entries]
    return [entry_of(e, tier=t) for e, t in zip(entries, tiers, strict=True)]


def entry_of(e: Entry, **more: Any) -> typed.Entry:
    """An entry as answers show it (index/base.Entry.to_json's fields), the metadata as stored."""
    return typed.Entry(
        rank=e.rank,
        user_id=e.user_id,
        score=e.score,
        subscore=e.subscore,
        display_name=e.display_name or None,
        metadata=stored_json(e.metadata),
        **more,
    )


def board_key(e: Entry) -> SortKey:
    """An entry's place in the board's order: its rank key, which every index gives."""
    assert e.key is not None, "every index gives its entries' keys"
    return e.key


async def get_user(request: Request) -> Response:
    svc = services(request)
    board = await read_board(request)
    user_id = user_of(request)
    cohort = await cohort_reads.view_of(svc, request, board, user_id)
    if cohort is not None:  # ranked within one cohort (usecases/cohorts.py)
        found = cohort.entry(user_id)
        if found is None:
            raise UserNotFound(f"user {user_id!r} has no score in cohort {cohort.cohort} of board {board.name!r}")
        [shown_entry] = shown([found], board, cohort.count())
        shown_entry.users, shown_entry.cohort = cohort.count(), cohort.cohort
        shown_entry.percentile = percentile(cohort.better_than(board, found), cohort.count())
        return answer(shown_entry)
    entry = await svc.standings.entry(board, user_id)
    if entry is None:
        raise UserNotFound(f"user {user_id!r} has no score on board {board.name!r}")
    users = await svc.standings.count(board)
    better = await svc.standings.count_before(board, tie_floor(board, entry.score, entry.subscore))
    # Hidden: the rest of the board plus itself, as it would be.
    seen = users + 1 if entry.hidden else users
    [answered] = shown([entry], board, seen)
    answered.users, answered.percentile = seen, percentile(better, seen)
    if board.cohort_size is not None:  # which cohort the user plays in (issue 22)
        answered.cohort = await svc.cohorts.cohort_of(board, user_id) or msgspec.UNSET
    return answer(answered)


def percentile(better: int, users: int) -> float:
    """The share of ranked users whose total is not better than this user's (itself
    included), in percent: 100 for the best, whatever the ties."""
    return round(100.0 * (users - better) / users, 2) if users else 100.0


async def around(request: Request) -> Response:
    svc = services(request)
    board = await read_board(request)
    user_id = user_of(request)
    radius = int_query(request.query_params, AroundQuery, "radius")
    cohort = await cohort_reads.view_of(svc, request, board, user_id)
    if cohort is not None:  # ranked within one cohort (usecases/cohorts.py)
        near = cohort.around(user_id, radius)
        if near is None:
            raise UserNotFound(f"user {user_id!r} has no score in cohort {cohort.cohort} of board {board.name!r}")
        tiered = shown(near, board, cohort.count())
        return answer(typed.Around(**where(board), user_id=user_id, entries=tiered, cohort=cohort.cohort))
    entries = await svc.standings.around(board, user_id, radius)
    if entries is None:
        raise UserNotFound(f"user {user_id!r} has no score on board {board.name!r}")
    users = await cohort_reads.users_for_tiers(svc, board)
    return answer(typed.Around(**where(board), user_id=user_id, entries=shown(entries, board, users)))


async def lookup(request: Request) -> Response:
    """Up to MAX_LOOKUP users at once, in the board's order or as asked, and who is missing."""
    svc = services(request)
    board = await read_board(request)
    raw = await read_body(request, svc.settings.max_body_bytes)
    declared = decode(contract_of(request).decode_lookup, raw, lambda: lookup_request(parse_json(raw)))
    wanted, order = lookup_request(msgspec.to_builtins(declared))  # ids ending in a newline: contract/fields.py
    found = await svc.standings.entries(board, wanted)
    # A hidden user is nobody else's to see: missing, as a removed one.
    entries = [e for e in found if e is not None and not e.hidden]
    if order == "board":
        entries.sort(key=board_key)  # as `top` lists them: equals by subscore, then who came first
    found_ids = {e.user_id for e in entries}
    missing = [u for u in wanted if u not in found_ids]
    users = await cohort_reads.users_for_tiers(svc, board)
    return answer(typed.LookupResult(**where(board), entries=shown(entries, board, users), missing=missing))


def lookup_request(body: Any) -> tuple[list[str], str]:
    """A lookup's users (each once, in the order given) and order, as parsed JSON, checked field by field."""
    body = fields(body, ("user_ids",), ("order",))
    users = body["user_ids"]
    if not isinstance(users, list) or not 1 <= len(users) <= MAX_LOOKUP:
        raise InvalidInput(f"user_ids must be a list of 1 to {MAX_LOOKUP} user ids", code="invalid_user_ids")
    wanted = list(dict.fromkeys(check_id(u, "user_id") for u in users))
    return wanted, check_choice(body.get("order", "board"), "order", get_args(LookupOrder))


def score_bounds(request: Request, board: Board) -> tuple[SortKey, SortKey, int | None, int | None]:
    """The keys from which (inclusive) and to which (exclusive) the totals in [min, max] sit."""
    params = request.query_params
    low = check_score(_int(params.get("min"), "min"), "min") if params.get("min") is not None else None
    high = check_score(_int(params.get("max"), "max"), "max") if params.get("max") is not None else None
    if low is not None and high is not None and low > high:
        raise InvalidInput("min must not be above max", code="invalid_range")
    best, worst = (high, low) if board.order is Order.DESC else (low, high)
    start = (score_key(board.order, best), 0, "") if best is not None else (-(2**63), 0, "")
    end = (score_key(board.order, worst) + 1, 0, "") if worst is not None else (2**63, 0, "")
    return start, end, low, high


def _int(raw: str | None, name: str) -> int:
    try:
        return int(raw or "", 10)
    except ValueError:
        raise InvalidInput(f"query parameter {name} must be an integer", code="invalid_parameter") from None


async def score_range(request: Request) -> Response:
    """The users whose totals are within [min, max], best first, a page at a time."""
    svc = services(request)
    board = await read_board(request)
    start, end, low, high = score_bounds(request, board)
    limit = int_query(request.query_params, RangeQuery, "limit")
    offset = int_query(request.query_params, RangeQuery, "offset")
    first, stop = await asyncio.gather(svc.standings.count_before(board, start), svc.standings.count_before(board, end))
    take = max(0, min(limit, stop - first - offset))
    entries = await svc.standings.page(board, first + offset + 1, take) if take else []
    count = max(0, stop - first)
    tiered = shown(entries, board, await cohort_reads.users_for_tiers(svc, board))
    return answer(typed.Range(**where(board), min=low, max=high, count=count, entries=tiered))


async def score_count(request: Request) -> Response:
    svc = services(request)
    board = await read_board(request)
    start, end, low, high = score_bounds(request, board)
    first, stop = await asyncio.gather(svc.standings.count_before(board, start), svc.standings.count_before(board, end))
    return answer(typed.Count(**where(board), min=low, max=high, count=max(0, stop - first)))


async def score_for_rank(request: Request) -> Response:
    """What total takes rank N now. `score`: the total of the user the rank is measured
    against (`rank_place`); `beat`: one better, which takes the rank whatever the tie policy
    and subscore; `needed`: the worst total that takes it (or better) for a user arriving
    now with `subscore` (default 0, as a submission without one)."""
    svc = services(request)
    board = await read_board(request)
    wanted = int_query(request.query_params, ScoreForRankQuery, "rank")
    subscore = subscore_param(request, board)
    users = await svc.standings.count(board)
    there = await rank_place(svc.standings, board, wanted, users)
    return answer(
        typed.ScoreForRank(
            **where(board),
            rank=wanted,
            users=users,
            score=there.score if there else None,
            beat=one_better(board.order, there.score) if there else None,
            needed=needed_total(board, (there.score, there.subscore) if there else None, subscore),
        )
    )


def subscore_param(request: Request, board: Board) -> int:
    raw = request.query_params.get("subscore")
    if raw is None:
        return 0
    if board.subscore_order is None:
        raise InvalidInput(f"board {board.name!r} has no subscore (set subscore_order)", code="no_subscore")
    return check_score(_int(raw, "subscore"), "subscore")


async def rank_place(standings: Standings, board: Board, rank: int, users: int) -> Entry | None:
    """The user rank N is measured against. Under `unique` and `competition`, the one in the
    N-th place counting every user once: where a shared rank skips N (1, 1, 1, 4 has no 3),
    one of the equals whose shared rank covers the place, so tying them takes it. Under
    `dense`, the first holder of rank N. None: no one (fewer users, or distinct totals)."""
    if board.tie is Tie.DENSE:
        found = await rank_holder(standings, board, rank, users)
        return found[0] if found and found[0].rank == rank else None
    placed = await standings.page(board, rank, 1)
    return placed[0] if placed else None


async def rank_holder(standings: Standings, board: Board, rank: int, users: int) -> list[Entry]:
    """The first user whose shared rank is `rank` or worse: binary search over positions,
    each probe one entry and its tie rank."""
    lo, hi = 1, users
    found: list[Entry] = []
    while lo <= hi:
        mid = (lo + hi) // 2
        page = await standings.page(board, mid, 1)
        if not page:
            break
        if page[0].rank >= rank:
            found, hi = page, mid - 1
        else:
            lo = mid + 1
    return found


async def periods(request: Request) -> Response:
    """A window's current period, the finished ones kept, and when it next resets."""
    board = await board_of(request)
    spec = request.query_params.get("window") or default_window(board)
    return answer(msgspec.convert(periods_json(board, spec, period_boards.now_us()), typed.Periods))
