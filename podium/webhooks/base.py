"""The webhook store port: the webhooks an operator set, and every delivery Podium owes
them. A delivery is recorded before it is sent, under an id every process derives alike
(`domain.webhooks.delivery_id`), so of two processes finding one period ended one adds
it. Whoever sends it holds it by a lease, as a job is held (podium/jobstore/): every
change is conditional on the record being as the writer last saw it (state, owner,
lease), so of two senders one wins, and a sender that died leaves a lease that runs out."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Protocol

from podium.domain.webhooks import Webhook

STATES = ("pending", "delivered", "failed")
KEPT_S = 8 * 86_400  # a delivery is kept this long after it was recorded: past its day of retries


@dataclass(frozen=True, slots=True)
class Delivery:
    id: str
    webhook: str  # the webhook's name; its URL and secret are read when it is sent
    event: str
    subject: str  # "<board>/<window>/<period>"; tier_changed: "<board>/<window>[/<period>]/<user>/<version>"
    body: str  # the JSON sent, fixed when recorded: every try sends the same bytes
    created_at_us: int
    state: str = "pending"  # pending → delivered | failed (gave up, or the webhook was deleted)
    owner: str = ""  # the process sending it now ("" none)
    lease_until_us: int = 0  # past this, the owner is taken for dead and another may send it
    next_at_us: int = 0  # not tried again before this (the backoff)
    attempts: int = 0
    last_error: str = ""
    delivered_at_us: int | None = None

    def due(self, now_us: int) -> bool:
        """Pending, its backoff over, and nobody holding it."""
        return self.state == "pending" and self.next_at_us <= now_us and self.lease_until_us <= now_us

    def but(self, **changes: object) -> Delivery:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


class WebhookStore(Protocol):
    async def put_webhook(self, hook: Webhook) -> None:
        """Create or replace the webhook of that name."""
        ...

    async def webhook(self, name: str) -> Webhook | None: ...

    async def webhooks(self) -> list[Webhook]:
        """Every webhook, by name."""
        ...

    async def delete_webhook(self, name: str) -> bool:
        """False if there was none."""
        ...

    async def add_delivery(self, delivery: Delivery) -> bool:
        """Record a delivery; False (and nothing written) if one with its id exists."""
        ...

    async def delivery(self, delivery_id: str) -> Delivery | None: ...

    async def pending(self) -> list[Delivery]:
        """Every delivery still pending (held or not), oldest first."""
        ...

    async def deliveries(self, webhook: str, limit: int) -> list[Delivery]:
        """The webhook's newest deliveries, newest first."""
        ...

    async def save_delivery(self, delivery: Delivery, seen: Delivery) -> bool:
        """Write `delivery` (same id) if the stored one still has `seen`'s state, owner and
        lease: a claim, a retry's schedule, an end. False: another process changed it first."""
        ...

    async def close(self) -> None: ...
