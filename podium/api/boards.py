"""Board admin: create (PUT), read, change the mutable settings (PATCH), list, delete."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from podium.api import tournaments
from podium.api.auth import anonymous, holds
from podium.api.context import board_of, contract_of, services
from podium.api.contract import boards as typed
from podium.api.contract.boards import BoardList
from podium.api.contract.decoding import decode
from podium.api.contract.tournaments import Tournament
from podium.api.requests import check_choice, check_id, fields, parse_json, read_body
from podium.api.responses import answer
from podium.domain.boards import MAX_KEEP_PERIODS, MUTABLE_SETTINGS, Board, Operator, Order, Reads, Rules, Tie
from podium.domain.cohorts import Tier, check_cohort_size, check_tiers
from podium.domain.keys import Scope
from podium.domain.rules import check_rules
from podium.domain.windows import MAX_WINDOWS
from podium.errors import InvalidInput, SettingRefused
from podium.services import ApiServices
from podium.usecases import period_boards
from podium.usecases.period_boards import check_window, stored_boards

ORDERS = tuple(o.value for o in Order)
OPERATORS = tuple(o.value for o in Operator)
TIES = tuple(t.value for t in Tie)
READS = tuple(r.value for r in Reads)
SETTINGS = (
    "order",
    "operator",
    "tie",
    "subscore_order",
    "windows",
    "timezone",
    "keep_periods",
    "allow_operator_override",
    "reads",
    "rules",
    "tournament",  # fixed at creation (api/tournaments.py)
    "cohort_size",  # fixed at creation (domain/cohorts.py)
    "tiers",
)


def check_windows(value: Any) -> tuple[str, ...]:
    # A tuple: as the declared type holds them (contract/boards.py); JSON gives a list.
    if not isinstance(value, list | tuple) or not value or len(value) > MAX_WINDOWS:
        raise InvalidInput(f"windows must be a list of 1 to {MAX_WINDOWS} window names", code="invalid_windows")
    windows = tuple(check_window(w) for w in value)  # each a string before they are compared
    if len(set(windows)) != len(windows):
        raise InvalidInput("windows must not repeat a window", code="invalid_windows")
    return windows


def check_timezone(value: Any) -> str:
    return period_boards.check_timezone(value)


def check_keep(value: Any) -> int:
    if type(value) is not int or not 0 <= value <= MAX_KEEP_PERIODS:
        raise InvalidInput(f"keep_periods must be an integer from 0 to {MAX_KEEP_PERIODS}", code="invalid_keep_periods")
    return value


def check_flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{name} must be true or false", code=f"invalid_{name}")
    return value


def check_rules_setting(value: Any) -> Rules:
    checked = check_rules(value)
    if isinstance(checked, str):
        raise InvalidInput(checked, code="invalid_rules")
    return checked


def check_cohort_setting(value: Any) -> int | None:
    checked = check_cohort_size(value)
    if isinstance(checked, str):
        raise SettingRefused(checked, code="invalid_cohort_size")
    return checked


def check_tiers_setting(value: Any) -> tuple[Tier, ...]:
    checked = check_tiers(value)
    if isinstance(checked, str):
        raise SettingRefused(checked, code="invalid_tiers")
    return checked


def board_from_body(name: str, body: dict[str, Any]) -> Board:
    sub = body.get("subscore_order")
    board = Board(
        name,
        Order(check_choice(body.get("order", "desc"), "order", ORDERS)),
        Operator(check_choice(body.get("operator", "incr"), "operator", OPERATORS)),
        Tie(check_choice(body.get("tie", "unique"), "tie", TIES)),
        Order(check_choice(sub, "subscore_order", ORDERS)) if sub is not None else None,
        check_windows(body.get("windows", ["all"])),
        check_timezone(body.get("timezone", "UTC")),
        check_keep(body.get("keep_periods", 7)),
        check_flag(body.get("allow_operator_override", False), "allow_operator_override"),
        Reads(check_choice(body.get("reads", "key"), "reads", READS)),
        check_rules_setting(body.get("rules", {})),
    )
    board = replace(
        board, cohort_size=check_cohort_setting(body.get("cohort_size")), tiers=check_tiers_setting(body.get("tiers"))
    )
    return tournaments.with_setting(board, body.get("tournament"))


async def put_board(request: Request) -> Response:
    svc = services(request)
    name = check_id(request.path_params["board"], "board")
    raw = await read_body(request, svc.settings.max_body_bytes)
    declared = decode(
        contract_of(request).decode_board_settings,
        raw or b"{}",
        lambda: new_board(name, parse_json(raw, allow_empty=True)),
    )
    # The type checked the names, enums and ranges; the windows' specs, the time zone and the
    # rules' min <= max are the domain's to check.
    stored, created = await svc.boards.create(new_board(name, msgspec.to_builtins(declared)))
    return answer(await board_json(svc, stored), 201 if created else 200)


def new_board(name: str, body: Any) -> Board:
    """A board from its settings as parsed JSON, checked field by field."""
    return board_from_body(name, fields(body, (), SETTINGS))


async def patch_board(request: Request) -> Response:
    svc = services(request)
    board = await board_of(request)
    raw = await read_body(request, svc.settings.max_body_bytes)
    declared = decode(contract_of(request).decode_board_changes, raw, lambda: changed_board(board, parse_json(raw)))
    changed = changed_board(board, msgspec.to_builtins(declared))
    if changed != board:
        await svc.boards.update(changed)
    return answer(await board_json(svc, changed))


def changed_board(board: Board, body: Any) -> Board:
    """`board` with the mutable settings of `body` (parsed JSON) changed, checked field by field."""
    if isinstance(body, dict):
        fixed = sorted(set(body) & (set(SETTINGS) - set(MUTABLE_SETTINGS)))
        if "cohort_size" in fixed:  # users are placed in cohorts of this size: never resized
            raise SettingRefused(
                "cohort_size cannot change once a board is created: its users are placed in cohorts of that size",
                code="immutable_setting",
            )
        if fixed:
            raise InvalidInput(
                f"{fixed[0]} cannot change once a board is created (mutable: {', '.join(MUTABLE_SETTINGS)})",
                code="immutable_setting",
            )
    body = fields(body, (), MUTABLE_SETTINGS)
    changed = board
    if "windows" in body:
        changed = replace(changed, windows=check_windows(body["windows"]))
    if "keep_periods" in body:
        changed = replace(changed, keep_periods=check_keep(body["keep_periods"]))
    if "allow_operator_override" in body:
        changed = replace(
            changed, allow_operator_override=check_flag(body["allow_operator_override"], "allow_operator_override")
        )
    if "reads" in body:
        changed = replace(changed, reads=Reads(check_choice(body["reads"], "reads", READS)))
    if "rules" in body:  # the whole set of rules: a rule left out is off
        changed = replace(changed, rules=check_rules_setting(body["rules"]))
    if "tiers" in body:  # the whole list: [] or null, none
        changed = replace(changed, tiers=check_tiers_setting(body["tiers"]))
    return tournaments.checked_board(changed)  # a tournament's reset window stays kept


async def list_boards(request: Request) -> Response:
    """Every board's name; without a key (the web page's picker), only the public boards'."""
    boards = services(request).boards
    return answer(BoardList(await (boards.public_names() if anonymous(request) else boards.names())))


async def get_board(request: Request) -> Response:
    # A player's client does not learn the rules: a cheater would aim just under them.
    return answer(await board_json(services(request), await board_of(request), rules=holds(request, Scope.WRITE)))


async def delete_board(request: Request) -> Response:
    """Delete the board, its windows' periods, their totals and rank index, and what else is
    kept for it: its users' rank history, its cohorts, its tournament's joins and attempts.
    A board made again under the name starts with none of them. (Webhook deliveries stay:
    they record what was sent.)"""
    svc = services(request)
    board = await board_of(request)
    stored = stored_boards(board, period_boards.now_us())
    names = [b.name for b in stored]
    await svc.history.forget_boards(svc.store, names)  # before the totals: they name the users
    await svc.tournaments.drop(board)
    await svc.boards.delete(names)
    for each in stored:
        await svc.index.drop_board(each)
    await svc.cohorts.drop(board)
    return Response(status_code=204)


async def board_json(svc: ApiServices, board: Board, *, rules: bool = True) -> typed.Board:
    """The board as answers show it (domain Board.to_json's fields), with its users and, on
    a tournament, the tournament's settings and state now."""
    shown = await tournaments.shown(svc, board)
    return typed.Board(
        board=board.name,
        order=board.order,
        operator=board.operator,
        tie=board.tie,
        subscore_order=board.subscore_order,
        windows=list(board.windows),
        timezone=board.timezone,
        keep_periods=board.keep_periods,
        allow_operator_override=board.allow_operator_override,
        reads=board.reads,
        rules=typed.Rules(**board.rules.to_json()) if rules else msgspec.UNSET,
        users=await svc.standings.count(board),
        tournament=msgspec.convert(shown["tournament"], Tournament) if shown else msgspec.UNSET,
        cohort_size=board.cohort_size if board.cohort_size is not None else msgspec.UNSET,
        tiers=[typed.TierSetting(**t.to_json()) for t in board.tiers] if board.tiers else msgspec.UNSET,
    )
