"""Results delivered (issue 22): webhooks told when a period of a window or a tournament
ends, with its final standings.

Every api process runs the same loop (`run`), every `check_s`:

1. **Announce.** For each board, the periods of its windows (and its tournament's active
   periods) that ended at least `grace_s` ago, looking back a few periods so that a
   deployment down across an end still announces it. A period is announced only once it
   is *final*: the db-worker consumed every record appended to the log before its end
   plus `grace_s` (podium/log/watermark.py), so the store holds every score accepted
   before the end. Its standings are then read from the store (usecases/results.py), and
   one delivery per webhook that wants the event is **recorded before anything is sent**,
   under an id every process derives alike (`domain.webhooks.delivery_id`): the store
   keeps the first, so two processes finding the same end record one delivery.
2. **Send.** Each pending delivery whose backoff is over and that nobody holds is claimed
   with a lease (one conditional write: one process wins), POSTed, and marked delivered
   (2xx) or scheduled again after 2, 4, 8 … s, until `retry_for_s` after it was recorded,
   when it is marked failed. A sender that dies holding one leaves a lease that runs out:
   any process sends it again. So a delivery may arrive twice (a process that died after
   the receiver took it, before it recorded so), never with another id or other bytes:
   the receiver drops a repeat by its id (X-Podium-Delivery, and `id` in the body).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import orjson

import podium.domain.windows as w
from podium.domain import tournament_periods as tp
from podium.domain import webhooks as wh
from podium.domain.boards import Board
from podium.errors import BackendUnavailable, NotFound
from podium.log.watermark import Watermark
from podium.plumbing.bounded import gather
from podium.plumbing.supervisor import periodic
from podium.store.base import Store
from podium.usecases.board_settings import Boards
from podium.usecases.jobs import process_owner
from podium.usecases.results import Results, ended_periods, final_standings
from podium.webhooks.base import Delivery, WebhookStore

log = logging.getLogger("podium.usecases.deliveries")

REACH = 3  # periods of each window looked back at: a deployment down across an end still announces it
REACH_S = 30.0  # … and every period that ended this recently (short cron windows)
BOARDS_EVERY_S = 5.0  # how often the list of boards with periods is read again
BOARDS_AT_ONCE = 8
KNOWN_CAP = 100_000  # delivery ids this process knows are recorded (to skip reading the store for them)
MAX_SENDS_AT_ONCE = 8

# (url, body, headers, timeout_s) → the receiver's status code; raises on no answer.
Post = Callable[[str, bytes, Mapping[str, str], float], Awaitable[int]]


class WebhookNotFound(NotFound):
    code = "webhook_not_found"


@dataclass(frozen=True, slots=True)
class DeliverySettings:
    allow: tuple[str, ...] = ()
    top_n: int = 10
    check_s: float = 1.0
    timeout_s: float = 10.0
    lease_s: float = 30.0
    first_backoff_s: float = 2.0
    max_backoff_s: float = 3600.0
    retry_for_s: float = 86400.0
    grace_s: float = 1.0


@dataclass(frozen=True, slots=True)
class Ended:
    """A period that ended, as one event tells it."""

    event: str
    board: Board
    window: str
    period: w.Period
    stored: Board  # where its totals are

    @property
    def subject(self) -> str:
        return f"{self.board.name}/{self.window}/{self.period.id}"


def now_us() -> int:
    return time.time_ns() // 1000


class Deliveries:
    def __init__(
        self,
        hooks: WebhookStore,
        boards: Boards,
        store: Store,
        watermark: Watermark,
        settings: DeliverySettings,
        *,
        post: Post | None = None,
        owner: str | None = None,
    ) -> None:
        self._hooks = hooks
        self._boards = boards
        self._store = store
        self._watermark = watermark
        self._settings = settings
        self._post = post or HttpPost()
        self._owner = owner or process_owner()
        self._known: set[str] = set()
        self._boards_at = -BOARDS_EVERY_S  # when `_with_periods` was read (monotonic)
        self._with_periods: list[Board] = []

    # --- the webhooks ------------------------------------------------------------------

    async def put(self, name: str, body: Any) -> tuple[wh.Webhook, bool]:
        """Create or replace a webhook; (it, whether it is new). A replaced webhook keeps its
        creation time, so its pending deliveries keep their ids."""
        old = await self._hooks.webhook(name)
        created = old.created_at_us if old is not None else now_us()
        hook = wh.check_webhook(name, body, self._settings.allow, created)
        await self._hooks.put_webhook(hook)
        return hook, old is None

    async def get(self, name: str) -> wh.Webhook:
        hook = await self._hooks.webhook(name)
        if hook is None:
            raise WebhookNotFound(f"no webhook {name!r}")
        return hook

    async def all(self) -> list[wh.Webhook]:
        return await self._hooks.webhooks()

    async def recent(self, name: str, limit: int) -> list[Delivery]:
        return await self._hooks.deliveries(name, limit)

    async def delete(self, name: str) -> None:
        if not await self._hooks.delete_webhook(name):
            raise WebhookNotFound(f"no webhook {name!r}")

    async def final(self, end_us: int) -> bool:
        """Whether the store holds every score accepted before `end_us`."""
        grace_us = int(self._settings.grace_s * 1_000_000)
        return now_us() >= end_us + grace_us and await self._watermark.stored_through(end_us + grace_us)

    # --- the loop ------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        async def step() -> None:
            try:
                await self.step()
            except BackendUnavailable as exc:  # the next check tries again
                log.warning("webhook deliveries: backend unavailable", extra={"error": exc.message})

        await periodic(stop, self._settings.check_s, step)

    async def step(self) -> None:
        at = now_us()
        hooks = await self._hooks.webhooks()
        if hooks:
            await self.announce(hooks, at)
        await self.send_due(at)

    async def announce(self, hooks: list[wh.Webhook], at_us: int) -> int:
        """Record the deliveries of every period that ended and is final; how many were new."""
        until_us = at_us - int(self._settings.grace_s * 1_000_000)
        finals: dict[int, asyncio.Task[bool]] = {}
        boards = await self._boards_with_periods()
        calls = [lambda b=b: self._announce(b, hooks, until_us, finals) for b in boards]
        return sum(await gather(calls, BOARDS_AT_ONCE))

    async def _boards_with_periods(self) -> list[Board]:
        """The boards with windows or a tournament, read again every BOARDS_EVERY_S: listing
        every board on every check would read the whole boards table each second. One read of
        the table: a read a board (names, then each board) kept an idle api's loop half busy
        on a store of 1,100 boards, and took that from the requests it serves (issue 19)."""
        if time.monotonic() - self._boards_at < BOARDS_EVERY_S:
            return self._with_periods
        self._with_periods = [
            b for b in await self._boards.all() if b.parent is None and (b.windows != ("all",) or b.tournament)
        ]
        self._boards_at = time.monotonic()
        return self._with_periods

    async def _announce(
        self, board: Board, hooks: list[wh.Webhook], until_us: int, finals: dict[int, asyncio.Task[bool]]
    ) -> int:
        added = 0
        for ended in ended_of(board, until_us, hooks):
            end_us = ended.period.end_us
            assert end_us is not None
            ids = {
                h.name: _delivery_id(h, ended.event, ended.subject)
                for h in hooks
                if h.wants(ended.event) and end_us > h.created_at_us  # a new webhook hears of periods ending after it
            }
            owed = [h for h in hooks if h.name in ids and not await self._recorded(ids[h.name])]
            if not owed:
                continue
            if end_us not in finals:  # one question per end a check, however many boards share it
                finals[end_us] = asyncio.ensure_future(self.final(end_us))
            if not await asyncio.shield(finals[end_us]):
                continue  # the db-worker has not consumed everything before the end yet
            # A period nobody played is told apart in one read: ranking it reads every
            # partition of its board (64 reads on Cassandra), and a fresh api process met
            # 190 such periods on the shared stack, half a core for its first 15 s (issue 19).
            results = None
            if await self._store.has_totals(ended.stored.name):
                top_n = self._settings.top_n
                results = await final_standings(self._store, board, ended.stored, ended.window, ended.period, 1, top_n)
            if results is None or results.count == 0:
                # Nobody played: nothing to tell (a minutely window would send 1,440 empty
                # results a day). Its results still read at /results, count 0.
                for hook in owed:
                    self._remember(ids[hook.name])
                continue
            for hook in owed:
                added += await self._record(hook, ended, results)
        return added

    async def _recorded(self, delivery_id: str) -> bool:
        if delivery_id in self._known:
            return True
        if await self._hooks.delivery(delivery_id) is None:
            return False
        self._remember(delivery_id)
        return True

    def _remember(self, delivery_id: str) -> None:
        if len(self._known) >= KNOWN_CAP:
            self._known.clear()  # only a shortcut: the store still says what is recorded
        self._known.add(delivery_id)

    async def _record(self, hook: wh.Webhook, ended: Ended, results: Results) -> int:
        delivery_id = wh.delivery_id(hook, ended.event, ended.subject)
        body = orjson.dumps(body_of(delivery_id, ended, results)).decode()
        recorded = Delivery(delivery_id, hook.name, ended.event, ended.subject, body, now_us())
        added = await self._hooks.add_delivery(recorded)
        self._remember(delivery_id)
        if added:
            log.info("webhook delivery recorded", extra={"delivery": delivery_id, "webhook": hook.name})
        return int(added)

    async def send_due(self, at_us: int) -> int:
        """Send every delivery that is due; how many were delivered."""
        due = [d for d in await self._hooks.pending() if d.due(at_us)]
        sent = await gather([lambda d=d: self._send(d) for d in due], MAX_SENDS_AT_ONCE)  # type: ignore[misc]
        return sum(sent)

    async def _send(self, seen: Delivery) -> bool:
        s = self._settings
        start = now_us()
        hook = await self._hooks.webhook(seen.webhook)
        if hook is None:
            await self._hooks.save_delivery(seen.but(state="failed", last_error="the webhook was deleted"), seen)
            return False
        if start - seen.created_at_us > s.retry_for_s * 1_000_000:
            await self._hooks.save_delivery(seen.but(state="failed", last_error=f"gave up: {seen.last_error}"), seen)
            return False
        held = seen.but(owner=self._owner, lease_until_us=start + int(s.lease_s * 1_000_000))
        if not await self._hooks.save_delivery(held, seen):
            return False  # another process claimed it first
        body = held.body.encode()
        headers = {
            "Content-Type": "application/json",
            wh.SIGNATURE_HEADER: wh.sign(hook.secret, body),
            wh.DELIVERY_HEADER: held.id,
            wh.EVENT_HEADER: held.event,
        }
        error = ""
        try:
            status = await self._post(hook.url, body, headers, s.timeout_s)
            if not 200 <= status < 300:
                error = f"the receiver answered {status}"
        except Exception as exc:  # whatever the network did: tried again later
            error = f"no answer: {type(exc).__name__}: {exc}"[:500]
        end = now_us()
        attempts = held.attempts + 1
        if not error:
            done = held.but(state="delivered", owner="", lease_until_us=0, attempts=attempts, delivered_at_us=end)
        else:
            next_at = end + int(wh.backoff_s(attempts, s.first_backoff_s, s.max_backoff_s) * 1_000_000)
            gave_up = next_at - held.created_at_us > s.retry_for_s * 1_000_000
            done = held.but(
                state="failed" if gave_up else "pending",
                owner="",
                lease_until_us=0,
                attempts=attempts,
                next_at_us=next_at,
                last_error=error,
            )
        if not await self._hooks.save_delivery(done, held):
            log.warning("webhook delivery: lease lost while sending", extra={"delivery": held.id})
        elif error:
            log.info("webhook delivery failed", extra={"delivery": held.id, "error": error, "state": done.state})
        return not error

    async def close(self) -> None:
        close = getattr(self._post, "close", None)
        if close is not None:
            await close()


def ended_of(board: Board, until_us: int, hooks: list[wh.Webhook]) -> list[Ended]:
    """The periods of `board` that ended at or before `until_us` and a webhook may want."""
    events = {e for h in hooks for e in h.events}
    return [e for e in _ended_cached(board, until_us) if e.event in events]


# A board's ended periods change only when one of its periods ends: kept until then, so a
# check costs no window arithmetic (which dominated it: ~0.7 ms a board a check).
_ENDED: dict[str, tuple[Board, int, int, list[Ended]]] = {}  # board, computed at, valid until, its ends
_ENDED_CAP = 100_000


def _ended_cached(board: Board, until_us: int) -> list[Ended]:
    kept = _ENDED.get(board.name)
    if kept is not None and kept[0] == board and kept[1] <= until_us < kept[2]:
        return kept[3]
    reach = max(1, min(REACH, board.keep_periods))
    out: list[Ended] = []
    for spec, period in ended_periods(board, until_us, reach, REACH_S):
        stored = board.renamed(w.period_board(board.name, w.parse_window(spec), period.id))
        out.append(Ended(wh.PERIOD_ENDED, board, spec, period, stored))
    ends = [w.next_reset_us(w.parse_window(s), board.timezone, until_us) for s in board.windows]
    valid_until = min([e for e in ends if e is not None], default=until_us + 1_000_000)
    if board.tournament is not None:
        out += tournament_ends(board, until_us, reach)
        valid_until = min(valid_until, until_us + 1_000_000)  # a tournament's periods end inside a window's
    if len(_ENDED) >= _ENDED_CAP:
        _ENDED.clear()
    _ENDED[board.name] = (board, until_us, valid_until, out)
    return out


@functools.lru_cache(maxsize=65_536)
def _delivery_id(hook: wh.Webhook, event: str, subject: str) -> str:
    return wh.delivery_id(hook, event, subject)


def tournament_ends(board: Board, until_us: int, reach: int) -> list[Ended]:
    """The tournament's active periods that ended at or before `until_us`: each ranked in
    the board's window of its reset (or, without one, the board's all-time window)."""
    tournament = board.tournament
    assert tournament is not None
    window = tp.reset_window(tournament)
    if window is None:
        found = tp.period_by_id(tournament, board.timezone, tp.ONCE)
        if found is None or found.end_us > until_us or "all" not in board.windows:
            return []
        return [Ended(wh.TOURNAMENT_ENDED, board, "all", w.Period(found.id, found.start_us, found.end_us), board)]
    spec = next(s for s in board.windows if w.parse_window(s).spec == window.spec)
    cycles = [
        w.period_at(window, board.timezone, until_us),
        *w.previous_periods(window, board.timezone, until_us, reach),
    ]
    out = []
    for cycle in reversed(cycles):
        found = tp.period_by_id(tournament, board.timezone, cycle.id)
        if found is None or found.end_us > until_us:
            continue
        stored = board.renamed(w.period_board(board.name, window, cycle.id))
        out.append(Ended(wh.TOURNAMENT_ENDED, board, spec, w.Period(found.id, found.start_us, found.end_us), stored))
    return out


def body_of(delivery_id: str, ended: Ended, results: Results) -> dict[str, Any]:
    end_us = ended.period.end_us
    assert end_us is not None
    ended_at = datetime.fromtimestamp(end_us / 1_000_000, UTC).isoformat().replace("+00:00", "Z")
    query = f"window={quote(ended.window, safe='')}&period={quote(ended.period.id, safe='')}"
    return {
        "id": delivery_id,
        "event": ended.event,
        "board": ended.board.name,
        "window": ended.window,
        "period": ended.period.id,
        "start_us": ended.period.start_us,
        "end_us": end_us,
        "ended_at": ended_at,
        "count": results.count,
        "top": [e.to_json() for e in results.entries],
        "results": f"/v1/boards/{quote(ended.board.name, safe='')}/results?{query}",
    }


class HttpPost:
    """POSTs with one httpx client a process, made on first use."""

    def __init__(self) -> None:
        self._client: Any = None

    async def __call__(self, url: str, body: bytes, headers: Mapping[str, str], timeout_s: float) -> int:
        import httpx

        if self._client is None:
            # No redirects: a webhook answers where it was set, or not at all.
            self._client = httpx.AsyncClient(follow_redirects=False, trust_env=False)
        response = await self._client.post(url, content=body, headers=dict(headers), timeout=timeout_s)
        return int(response.status_code)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
