"""Tournaments: joining and leaving a period, the rules a submission to a tournament's board
must keep, and each tournament's state (is it active, when it ends, when the next starts,
how many joined).

Attempts are counted here, at the api, before a submission is appended to the log: a
refused one must change nothing, and only the api can still refuse. Each attempt is
counted under an id in the store (`TournamentStore.attempt`): the submission's idempotency
key, so a client or api retry of the same key counts once (the db-worker then drops the
repeat as it drops any repeated key), or, without a key, a new random id: a submission
without a key cannot be told from a new one, so each counts. An attempt counted and then
not appended (the log was down, the process died) stays counted; retried with its key, it
is the same attempt and is not counted again.

The period is the one active when the api checks; the log stamps the submission a moment
later, so a score sent in the last milliseconds of a period may be ranked in the board's
next `cron:<reset>` period (or, without a reset, still on the board after its end)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from podium.domain.boards import Board
from podium.domain.tournament_periods import TournamentPeriod, active_period, next_period
from podium.domain.tournaments import Tournament, instant_text
from podium.errors import Conflict, InvalidInput, ScoreRuleBroken
from podium.pipeline.ingest import Submission
from podium.plumbing.metrics import RULE_REFUSALS
from podium.tournaments.base import Attempt, Joined, TournamentStore
from podium.usecases.board_settings import Boards
from podium.usecases.period_boards import now_us


@dataclass(frozen=True, slots=True)
class Counted:
    """An attempt this request counted: uncounted again if the request is refused."""

    period: str
    user_id: str
    attempt_id: str


class Tournaments:
    def __init__(self, store: TournamentStore, boards: Boards, *, rows_kept_s: float = 24 * 3600) -> None:
        self._store = store
        self._boards = boards
        self._rows_kept_us = int(rows_kept_s * 1_000_000)  # a period's rows, after its end

    async def join(self, board: Board, user_id: str) -> Joined:
        """Take a place for the user in the period active now: 409 `closed` outside one,
        409 `full` when `max_players` hold a place (first come, first served)."""
        tournament, period = self._open_period(board)
        joined = await self._store.join(
            board.name, period.id, user_id, tournament.max_players, expires_at_us=self._expiry(period)
        )
        if joined is Joined.FULL:
            raise Conflict(
                f"tournament {board.name!r} is full: {tournament.max_players} players joined period {period.id}",
                code="full",
            )
        return joined

    async def leave(self, board: Board, user_id: str) -> bool:
        """Give up the user's place in the period active now (False: it held none)."""
        _, period = self._open_period(board)
        return await self._store.leave(board.name, period.id, user_id)

    async def drop(self, board: Board) -> None:
        """Forget the deleted board's joins and attempts: made again, its periods start empty."""
        if board.tournament is not None:
            await self._store.drop(board.name)

    def _expiry(self, period: TournamentPeriod) -> int:
        """When a period's rows expire: read only while it is active, kept a while after."""
        return period.end_us + self._rows_kept_us

    def _open_period(self, board: Board) -> tuple[Tournament, TournamentPeriod]:
        tournament = _tournament_of(board)
        period = active_period(tournament, board.timezone, now_us())
        if period is None:
            raise Conflict(f"tournament {board.name!r} has no active period now", code="closed")
        return tournament, period

    async def enforce(self, board: Board, subs: Sequence[Submission], *, batch: bool) -> None:
        """Refuse (422 `score_rule`) a submission outside an active period (`closed`), from a
        user who has not joined where joining is required (`not_joined`), or past the user's
        `max_attempts` in the period (`attempts`); a refused request counts no attempt."""
        tournament = board.tournament
        if tournament is None:
            return
        try:
            period = active_period(tournament, board.timezone, now_us())
            if period is None:
                self._refuse(board, "closed", f"tournament {board.name!r} has no active period now", 0, batch)
            assert period is not None
            if tournament.join_required:
                joined: dict[str, bool] = {}  # one read a user, however many items of a batch are theirs
                for i, sub in enumerate(subs):
                    if sub.user_id not in joined:
                        joined[sub.user_id] = await self._store.has_joined(board.name, period.id, sub.user_id)
                    if not joined[sub.user_id]:
                        why = f"user {sub.user_id!r} has not joined tournament {board.name!r} (period {period.id})"
                        self._refuse(board, "not_joined", why, i, batch)
            if tournament.max_attempts is not None:
                await self._count_attempts(board, period, tournament.max_attempts, subs, batch=batch)
        except ScoreRuleBroken as exc:
            RULE_REFUSALS.labels(board=board.name, rule=exc.rule).inc()
            raise

    async def _count_attempts(
        self, board: Board, period: TournamentPeriod, limit: int, subs: Sequence[Submission], *, batch: bool
    ) -> None:
        counted: list[Counted] = []
        for i, sub in enumerate(subs):
            attempt_id = f"k:{sub.key}" if sub.key is not None else f"n:{uuid.uuid4().hex}"
            outcome = await self._store.attempt(
                board.name, period.id, sub.user_id, attempt_id, limit, expires_at_us=self._expiry(period)
            )
            if outcome is Attempt.COUNTED:
                counted.append(Counted(period.id, sub.user_id, attempt_id))
            elif outcome is Attempt.OVER:
                for each in counted:  # the request is refused whole: its attempts did not happen
                    await self._store.forget_attempt(board.name, each.period, each.user_id, each.attempt_id)
                why = f"user {sub.user_id!r} made the {limit} attempts of tournament {board.name!r} period {period.id}"
                self._refuse(board, "attempts", why, i, batch)

    @staticmethod
    def _refuse(board: Board, rule: str, why: str, index: int, batch: bool) -> None:
        where = f"scores[{index}]: " if batch else ""
        raise ScoreRuleBroken(f"{where}{why} (the tournament's rule {rule})", rule=rule, index=index if batch else None)

    async def state(self, board: Board) -> dict[str, Any]:
        """Whether the tournament is active now, its period and when that ends, when the next
        period starts, and how many players joined the current period (0 when closed)."""
        tournament = _tournament_of(board)
        at_us = now_us()
        period = active_period(tournament, board.timezone, at_us)
        upcoming = next_period(tournament, board.timezone, at_us)
        return {
            "active": period is not None,
            "period": period.id if period is not None else None,
            "ends_at": instant_text(period.end_us) if period is not None else None,
            "next_start": instant_text(upcoming.start_us) if upcoming is not None else None,
            "players": await self._store.players(board.name, period.id) if period is not None else 0,
        }

    async def listed(self, active: bool | None) -> list[dict[str, Any]]:
        """Every tournament's board with its state, by name; `active`: only those that are (or are not)."""
        shown = []
        for name in await self._boards.names():
            board = await self._boards.find(name)
            if board is None or board.tournament is None:
                continue
            state = await self.state(board)
            if active is None or state["active"] is active:
                shown.append({"board": name, **state})
        return shown


def _tournament_of(board: Board) -> Tournament:
    if board.tournament is None:
        raise InvalidInput(f"board {board.name!r} is not a tournament", code="not_a_tournament")
    return board.tournament
