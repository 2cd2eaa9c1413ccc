"""Score submissions: one, or a batch; with `wait=true`, the answer once it is visible,
with the user's rank and score before and after, and whether it is a personal best."""

from __future__ import annotations

import functools
import unicodedata
from typing import Any

import msgspec
import orjson
from starlette.requests import Request
from starlette.responses import Response

from podium.api.context import board_named, board_of, contract_of, services
from podium.api.contract import scores as declared
from podium.api.contract.decoding import decode
from podium.api.contract.fields import ends_in_newline
from podium.api.contract.scores import Accepted
from podium.api.requests import (
    bool_param,
    check_choice,
    check_id,
    check_score,
    fields,
    nested_deeper,
    parse_json,
    read_body,
)
from podium.api.responses import answer, json_response
from podium.api.rules import enforce
from podium.domain.boards import Board, Operator, better, is_valid_id, is_valid_score
from podium.domain.totals import LogPosition, Total
from podium.domain.windows import split_period_board
from podium.errors import InvalidInput
from podium.index.base import Entry
from podium.pipeline.ingest import Submission
from podium.plumbing import bounded
from podium.services import ApiServices
from podium.usecases import period_boards
from podium.usecases.period_boards import default_window, period_boards_of
from podium.usecases.user_regions import check_entered, refuse_elsewhere

OPERATORS = tuple(o.value for o in Operator)
FIELDS = ("key", "operator", "subscore", "metadata", "display_name")
# A single submission's usual answer, built once: a Response holds nothing of a request,
# and sending it changes nothing of it.
ACCEPTED = answer(Accepted(accepted=True), 202)


def accepted_submission(svc: ApiServices, board: Board, item: declared.Submission, where: str) -> Submission:
    """A submission its type accepted, checked for what a type cannot say: an operator the
    board lets it override, a subscore the board has, a printable name, the metadata's size."""
    if item.is_plain() and not ends_in_newline(item.user_id):
        return Submission(board.name, item.user_id, item.score)
    return checked_submission(svc, board, msgspec.structs.asdict(item), where)


def parse_submission(svc: ApiServices, board: Board, item: Any, where: str) -> Submission:
    """A submission as parsed JSON, checked field by field: says what is wrong with one its
    type refused."""
    return plain_submission(board, item) or checked_submission(svc, board, item, where)


def plain_submission(board: Board, item: Any) -> Submission | None:
    """A valid user and score and nothing else: checked by the same rules without the
    general path's field-by-field work. None for anything else, valid or not: the general
    path says what is wrong."""
    if type(item) is dict and len(item) == 2 and "user_id" in item and "score" in item:
        user_id, score = item["user_id"], item["score"]
        if is_valid_id(user_id) and is_valid_score(score):
            return Submission(board.name, user_id, score)
    return None


def checked_submission(svc: ApiServices, board: Board, item: Any, where: str) -> Submission:
    body = fields(item, ("user_id", "score"), FIELDS, where=where)
    key = check_id(body["key"], "key") if body.get("key") is not None else None
    operator = None
    if body.get("operator") is not None:
        operator = Operator(check_choice(body["operator"], "operator", OPERATORS))
        if operator is not board.operator and not board.allow_operator_override:
            raise InvalidInput(
                f"board {board.name!r} uses operator {board.operator.value} and does not allow an override",
                code="operator_override_not_allowed",
            )
    subscore = 0
    if body.get("subscore") is not None:
        if board.subscore_order is None:
            raise InvalidInput(f"board {board.name!r} has no subscore (set subscore_order)", code="no_subscore")
        subscore = check_score(body["subscore"], "subscore")
    return Submission(
        board.name,
        check_id(body["user_id"], "user_id"),
        check_score(body["score"]),
        key,
        subscore,
        operator,
        check_display_name(body.get("display_name"), svc.settings.max_display_name),
        check_metadata(body.get("metadata"), svc.settings.max_metadata_bytes, svc.settings.max_json_depth),
    )


def check_display_name(value: Any, max_chars: int) -> str | None:
    if value is None:
        return None
    if (
        not isinstance(value, str)
        or not 1 <= len(value) <= max_chars
        or value != value.strip()
        or any(unicodedata.category(c).startswith("C") for c in value)  # controls, unassigned, …
    ):
        raise InvalidInput(
            f"display_name must be 1-{max_chars} printable characters, not starting or ending with a space",
            code="invalid_display_name",
        )
    return value


def check_metadata(value: Any, max_bytes: int, max_depth: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidInput("metadata must be a JSON object", code="invalid_metadata")
    if nested_deeper(value, max_depth):  # before encoding it: orjson refuses past 254 levels
        raise InvalidInput(f"metadata must be nested at most {max_depth} levels deep", code="metadata_too_deep")
    text = orjson.dumps(value).decode()
    if len(text.encode()) > max_bytes:
        raise InvalidInput(f"metadata must be at most {max_bytes} bytes as compact JSON", code="metadata_too_large")
    return text


async def submit_score(request: Request) -> Response:
    svc = services(request)
    board = await board_named(svc, request.path_params["board"])
    # Most submissions have no query: no parse of an empty one.
    wait = bool_param(request.query_params, "wait") if request.scope["query_string"] else False
    raw = await read_body(request, svc.settings.max_body_bytes)
    item = decode(
        contract_of(request).decode_submission, raw, lambda: parse_submission(svc, board, parse_json(raw), "body")
    )
    sub = accepted_submission(svc, board, item, "body")
    before = await previous(svc, board, [sub.user_id]) if wait else {}
    await enforce(svc, board, [sub], batch=False)
    await svc.tournaments.enforce(board, [sub], batch=False)  # last: it counts the attempt
    if not wait:
        # Nobody asks where it landed: the log counts its acknowledgement rather than
        # placing it (no position made, no lock taken on Kafka's delivery thread).
        await svc.ingest.submit_without_positions((sub,))
        return ACCEPTED
    [(position, at_us)] = await svc.ingest.submit_timed([sub])
    [result] = await visible_results(svc, board, [(sub.user_id, position, at_us)], before)
    if result is None:
        await refused_meanwhile(svc, board, [sub.user_id])
        return not_visible()
    return json_response(result)


async def submit_batch(request: Request) -> Response:
    svc = services(request)
    board = await board_of(request)
    wait = bool_param(request.query_params, "wait")
    raw = await read_body(request, svc.settings.max_body_bytes)
    batch = decode(contract_of(request).decode_batch, raw, lambda: parse_batch(svc, board, parse_json(raw)))
    name = board.name
    # Most items are a plain user and score (a thousand to a batch): built here, without a call
    # each (a user id ending in a newline is the one the type lets by: contract/fields.py).
    parsed = [
        Submission(name, s.user_id, s.score)
        if s.key is None
        and s.operator is None
        and s.subscore is None
        and s.metadata is None
        and s.display_name is None
        and s.user_id[-1] != "\n"
        else accepted_submission(svc, board, s, f"scores[{i}]")
        for i, s in enumerate(batch.scores)
    ]
    before = await previous(svc, board, [s.user_id for s in parsed]) if wait else {}
    await enforce(svc, board, parsed, batch=True)
    await svc.tournaments.enforce(board, parsed, batch=True)  # last: it counts the attempts
    if not wait:
        await svc.ingest.submit_without_positions(parsed)
        return answer(Accepted(accepted=True, count=len(parsed)), 202)
    stamped = await svc.ingest.submit_timed(parsed)
    submitted = [(s.user_id, p, at) for s, (p, at) in zip(parsed, stamped, strict=True)]
    results = await visible_results(svc, board, submitted, before)
    if any(r is None for r in results):
        await refused_meanwhile(svc, board, [s.user_id for s in parsed])
        return not_visible()
    return json_response({"results": results})


def parse_batch(svc: ApiServices, board: Board, body: Any) -> list[Submission]:
    """A batch as parsed JSON, checked field by field: says what is wrong with one its type refused."""
    items = fields(body, ("scores",))["scores"]
    if not isinstance(items, list) or not items:
        raise InvalidInput("scores must be a non-empty array", code="invalid_scores")
    if len(items) > svc.settings.max_batch:
        raise InvalidInput(f"a batch holds at most {svc.settings.max_batch} scores", code="batch_too_large")
    return [parse_submission(svc, board, item, f"scores[{i}]") for i, item in enumerate(items)]


# Per user, per window kept: its entry and stored total just before the submission.
Before = dict[tuple[str, str], tuple[Entry | None, Total | None]]


def window_boards(board: Board, at_us: int) -> list[tuple[str, Board]]:
    """Each window the board keeps, with its stored board at `at_us`."""
    return list(zip(board.windows, period_boards_of(board, at_us), strict=True))


async def previous(svc: ApiServices, board: Board, users: list[str]) -> Before:
    """Each user's entry and stored total in each window just before the submission: what
    the answer compares with. (Another submission for the same user racing this one may
    land in between; then "previous" is what this one was compared against, not the last.)
    A user who enters the board through another region is refused here, nothing appended
    (409 `wrong_region`, podium/regions.py): its totals are read anyway."""
    unique = sorted(set(users))
    found: Before = {}
    for spec, stored in window_boards(board, period_boards.now_us()):
        entries = await svc.standings.entries(stored, unique)
        totals = await svc.store_totals(stored, unique)
        refuse_elsewhere(totals.values(), svc.settings.region)
        found |= {(u, spec): (e, totals.get(u)) for u, e in zip(unique, entries, strict=True)}
    return found


async def refused_meanwhile(svc: ApiServices, board: Board, users: list[str]) -> None:
    """A submission that did not become visible may have been refused at home: its user's
    first event, through another region, was applied just before it (the race `previous`
    cannot see). Then it is a 409 `wrong_region` after all, not a 202."""
    stored = [(b.name, u) for b in period_boards_of(board, period_boards.now_us()) for u in sorted(set(users))]
    await check_entered(svc.store, stored, svc.settings.region)


async def visible_results(
    svc: ApiServices, board: Board, submitted: list[tuple[str, LogPosition, int]], before: Before
) -> list[dict[str, Any] | None]:
    """Wait until each submission is visible in every window; then each user's rank and
    score, before and after, per window (None: timed out)."""
    timeout_s = svc.settings.wait_timeout_s
    waits = [
        (user_id, spec, stored, position)
        for user_id, position, at_us in submitted
        for spec, stored in window_boards(board, at_us)
    ]
    seen = await bounded.gather(
        functools.partial(svc.visibility.wait, stored, user_id, position, timeout_s)
        for user_id, _, stored, position in waits
    )
    # Per window and stored board, the users visible there: one read for them all.
    visible: dict[tuple[str, str], tuple[Board, list[str]]] = {}
    for (user_id, spec, stored, _), ok in zip(waits, seen, strict=True):
        if ok:
            visible.setdefault((spec, stored.name), (stored, []))[1].append(user_id)
    answers: dict[tuple[str, str], dict[str, Any]] = {}
    for (spec, _), (stored, users) in visible.items():
        found = await svc.standings.entries(stored, users)
        for user_id, entry in zip(users, found, strict=True):
            result: dict[str, Any] = (
                entry.to_json() if entry is not None else {"rank": None, "user_id": user_id, "score": None}
            )
            old_entry, old_total = before.get((user_id, spec), (None, None))
            result["previous"] = {
                "rank": old_entry.rank if old_entry is not None else None,
                "score": old_total.total if old_total is not None and not old_total.removed else None,
            }
            result["personal_best"] = entry is not None and is_personal_best(board, old_total, entry.score)
            if stored.parent is not None:
                result["period"] = split_period_board(stored.name)[2]  # type: ignore[index]
            answers[(user_id, spec)] = result
    results: list[dict[str, Any] | None] = []
    main = default_window(board)
    for user_id, _, _ in submitted:
        per_window = {spec: answers.get((user_id, spec)) for spec in board.windows}
        if any(a is None for a in per_window.values()):
            results.append(None)
            continue
        result = dict(per_window[main] or {})
        result.pop("period", None)
        if board.windows != ("all",):
            result["windows"] = per_window
        results.append(result)
    return results


def is_personal_best(board: Board, old: Total | None, score: int) -> bool:
    """The new total beats every total the user had on the board (a first score does)."""
    if old is None or old.removed:
        return True
    return better(board.order, score, old.best_total)


def not_visible() -> Response:
    # Accepted and durable, but not yet visible within the wait time-out.
    return answer(Accepted(accepted=True, visible=False), 202)
