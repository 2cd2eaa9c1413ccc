"""A board's score rules, enforced at the api before a submission reaches the log: a
submission (or any item of a batch) that breaks one is refused whole, counted in
`podium_rule_refusals_total`, and nothing of it is applied."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from podium.domain.boards import Board, Operator, Rules
from podium.domain.rules import broken_rule
from podium.errors import ScoreRuleBroken
from podium.pipeline.ingest import Submission
from podium.plumbing.metrics import RULE_REFUSALS
from podium.services import ApiServices
from podium.usecases import period_boards
from podium.usecases.period_boards import default_window, period_boards_of

NO_RULES = Rules()
MINUTE_S = 60.0


async def enforce(svc: ApiServices, board: Board, subs: Sequence[Submission], *, batch: bool) -> None:
    if board.rules == NO_RULES:
        return
    try:
        await check_scores(svc, board, subs, batch=batch)
        if board.rules.max_submissions_per_minute is not None:
            await count_submissions(svc, board, subs, board.rules.max_submissions_per_minute, batch=batch)
    except ScoreRuleBroken as exc:
        RULE_REFUSALS.labels(board=board.name, rule=exc.rule).inc()
        raise


async def check_scores(svc: ApiServices, board: Board, subs: Sequence[Submission], *, batch: bool) -> None:
    rules = board.rules
    judged_by_total = [s.user_id for s in subs if rules.needs_total and not adds(board, s)]
    current = await current_totals(svc, board, judged_by_total) if judged_by_total else {}
    for i, sub in enumerate(subs):
        rule = broken_rule(rules, sub.operator or board.operator, sub.score, current.get(sub.user_id))
        if rule is not None:
            where = f"scores[{i}]: " if batch else ""
            raise ScoreRuleBroken(
                f"{where}score {sub.score} breaks the board's rule {rule} ({getattr(rules, rule)})",
                rule=rule,
                index=i if batch else None,
            )


def adds(board: Board, sub: Submission) -> bool:
    """The score is an amount added or taken (incr/decr), not a new total (best/set)."""
    return (sub.operator or board.operator) in (Operator.INCR, Operator.DECR)


async def current_totals(svc: ApiServices, board: Board, users: list[str]) -> dict[str, int]:
    """The users' current totals in the board's main window (all-time if kept, else the
    first window's current period), from the store: one read for the whole batch. A user
    without one (or removed) is missing."""
    spec = default_window(board)
    stored = period_boards_of(board, period_boards.now_us())[board.windows.index(spec)]
    found = await svc.store_totals(stored, sorted(set(users)))
    return {user: t.total for user, t in found.items() if not t.removed}


async def count_submissions(
    svc: ApiServices, board: Board, subs: Sequence[Submission], limit: int, *, batch: bool
) -> None:
    """Count the submissions against each user's limit a minute. A submission with an
    idempotency key counts once however often it is sent within the minute (a replay
    is not a new attempt); one without a key counts every time."""
    ids: dict[str, list[str]] = {}
    items: dict[str, list[int]] = {}
    for i, sub in enumerate(subs):
        ids.setdefault(sub.user_id, []).append(f"k:{sub.key}" if sub.key else f"n:{uuid.uuid4().hex}")
        items.setdefault(sub.user_id, []).append(i)
    over = await svc.submission_counter.record(board.name, ids, limit, MINUTE_S)
    if over:
        index, user = min((items[user][p], user) for user, p in over.items())
        where = f"scores[{index}]: " if batch else ""
        raise ScoreRuleBroken(
            f"{where}user {user!r} went past the board's rule max_submissions_per_minute ({limit})",
            rule="max_submissions_per_minute",
            index=index if batch else None,
        )
