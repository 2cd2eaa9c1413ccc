"""Webhooks and results (api/webhooks.py, api/results.py): a webhook's settings and how it
shows, its recent deliveries, a finished period's results, and the body POSTed to a webhook."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct

from podium.api.contract.fields import Id
from podium.api.contract.reads import Entry
from podium.domain.webhooks import MAX_SECRET_CHARS, MAX_URL_CHARS, MIN_SECRET_CHARS

Event = Literal["period_ended", "tournament_ended", "tier_changed"]
Url = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=MAX_URL_CHARS,
        description="http:// or https://, covered by the operator's allow-list (PODIUM_WEBHOOK_ALLOW), else 422",
    ),
]
Events = Annotated[list[Event], Meta(min_length=1, description="What the webhook hears of")]
MAX_DELIVERIES_SHOWN = 20


class WebhookSettings(Struct, forbid_unknown_fields=True):
    """A webhook: where to POST, which events, and the secret each body is signed with
    (X-Podium-Signature: sha256=<hex HMAC-SHA256 of the body>)."""

    url: Url
    events: Events
    secret: Annotated[str, Meta(min_length=MIN_SECRET_CHARS, max_length=MAX_SECRET_CHARS, description="Never shown")]


class DeliveryShown(Struct, kw_only=True):
    id: Annotated[str, Meta(description="The id the receiver drops repeats by (X-Podium-Delivery)")]
    event: Event
    subject: Annotated[
        str,
        Meta(
            description="What it is about: <board>/<window>/<period> (period_ended, tournament_ended); "
            "<board>/<window>[/<period>]/<user>/<version> (tier_changed)"
        ),
    ]
    state: Literal["pending", "delivered", "failed"]
    attempts: Annotated[int, Meta(ge=0)]
    created_at_us: int
    next_at_us: Annotated[int, Meta(description="Not tried again before this (UTC microseconds)")]
    delivered_at_us: int | None
    last_error: str


class Webhook(Struct, kw_only=True):
    name: Id
    url: str
    events: list[Event]
    created_at_us: int
    deliveries: Annotated[
        list[DeliveryShown], Meta(description=f"The newest deliveries (at most {MAX_DELIVERIES_SHOWN}), newest first")
    ] = []


class WebhookList(Struct):
    webhooks: list[Webhook]


class ResultsQuery(Struct):
    offset: Annotated[int, Meta(ge=0, le=10_000_000, description="Entries skipped from the top")] = 0
    limit: Annotated[int, Meta(ge=1, le=1000, description="At most this many entries")] = 100


class PeriodResults(Struct, kw_only=True):
    """A finished period's standings, read from the store."""

    board: Id
    window: str
    period: str
    start_us: int
    end_us: int
    final: Annotated[
        bool,
        Meta(
            description="true: the store holds every score accepted before the end (what a delivery waits for); "
            "false: the db-worker is still catching up"
        ),
    ]
    count: Annotated[int, Meta(ge=0, description="Users ranked")]
    entries: list[Entry]


class PeriodEnded(Struct, kw_only=True):
    """The body POSTed to a webhook when a period of a window (period_ended) or an active period
    of a tournament (tournament_ended) ended: its final standings' top and count."""

    id: Annotated[str, Meta(description="The delivery's id, also in X-Podium-Delivery: drop a repeat by it")]
    event: Literal["period_ended", "tournament_ended"]
    board: Id
    window: str
    period: str
    start_us: int
    end_us: int
    ended_at: Annotated[str, Meta(description="end_us as RFC 3339")]
    count: Annotated[int, Meta(ge=0)]
    top: Annotated[list[Entry], Meta(description="The best PODIUM_WEBHOOK_TOP_N, under the board's tie rule")]
    results: Annotated[str, Meta(description="The path of the full results (GET, with a read key)")]


class TierChanged(Struct, kw_only=True):
    """The body POSTed when a user's own total moved it across a tier's score cut-off: one
    delivery per change (per window of the board), with its id, as a score reached it.

    Sent for boards whose tiers are all by score (`min_score`). A tier by place
    (`top_percent`) moves when others score: those passive changes are not sent, and a board
    with any tier by place sends none (README, "Results delivered"). A removal sends nothing;
    a user's return is measured from no tier. The tier is the board's, not the cohort's (a
    tier by score is the same in both)."""

    id: Annotated[str, Meta(description="The delivery's id, also in X-Podium-Delivery: drop a repeat by it")]
    event: Literal["tier_changed"]
    board: Id
    user_id: Id
    cohort: Annotated[
        str | None, Meta(description="On a board with cohorts: the user's cohort, as cohort= takes it; else null")
    ]
    tier: Annotated[str | None, Meta(description="The tier the new total reaches (null: none)")]
    previous_tier: Annotated[str | None, Meta(description="The tier of the user's total before (null: none)")]
    at_us: Annotated[int, Meta(description="When the score that changed it was submitted (UTC microseconds)")]
    window: Annotated[str, Meta(description="The window the change is in (all, day, week, month, cron:...)")]
    period: Annotated[str | None, Meta(description="The window's period (null for all)")]
    score: Annotated[int, Meta(description="The user's total after the change")]
    subscore: int
    version: Annotated[int, Meta(ge=1, description="The total's version: one change, one version")]


TYPES = (WebhookSettings, Webhook, WebhookList, PeriodResults, PeriodEnded, TierChanged)
