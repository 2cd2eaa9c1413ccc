"""The distributed webhook store: two tables of the Podium keyspace, read and written through
the store's session. A delivery is added with `IF NOT EXISTS` and every change of it is a
lightweight transaction on (state, owner, lease), as the job store's are: Paxos lets one of
two processes claim or end a delivery, and tells the other.

Both tables are small: a webhook a row, and a delivery a row per webhook and finished
period, each kept `KEPT_S` (the table's default time to live, past the day of retries), so
the pending ones are found by reading the table whole every few seconds, as the job store's
running jobs are."""

from __future__ import annotations

from typing import TYPE_CHECKING

from podium.domain.webhooks import Webhook
from podium.plumbing import names
from podium.webhooks.base import KEPT_S, Delivery
from podium.webhooks.sqlite import CHANGED, COLUMNS, HOOK_COLUMNS, delivery_of, hook_of, hook_row, row_of

if TYPE_CHECKING:
    from podium.store.cassandra import CassandraStore

HOOKS = "{ks}." + names.WEBHOOKS_TABLE
DELIVERIES = "{ks}." + names.WEBHOOK_DELIVERIES_TABLE
SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {HOOKS} (name text PRIMARY KEY, url text, events text, secret text, "
    "created_at_us bigint)",
    f"CREATE TABLE IF NOT EXISTS {DELIVERIES} (id text PRIMARY KEY, webhook text, event text, subject text, "
    "body text, created_at_us bigint, state text, owner text, lease_until_us bigint, next_at_us bigint, "
    f"attempts int, last_error text, delivered_at_us bigint) WITH default_time_to_live = {KEPT_S}",
)


class CassandraWebhookStore:
    def __init__(self, store: CassandraStore) -> None:
        self._store = store  # owns the session: closing the store closes it

    async def prepare(self) -> None:
        """Create the tables if missing (idempotent; each process may run it at start)."""
        for statement in SCHEMA:
            await self._store.execute(statement)

    async def put_webhook(self, hook: Webhook) -> None:
        await self._store.execute(f"INSERT INTO {HOOKS} ({HOOK_COLUMNS}) VALUES (?, ?, ?, ?, ?)", hook_row(hook))

    async def webhook(self, name: str) -> Webhook | None:
        rows = await self._store.execute(f"SELECT {HOOK_COLUMNS} FROM {HOOKS} WHERE name = ?", (name,))
        return hook_of(rows[0]) if rows else None

    async def webhooks(self) -> list[Webhook]:
        rows = await self._store.execute(f"SELECT {HOOK_COLUMNS} FROM {HOOKS}")
        return sorted(map(hook_of, rows), key=lambda h: h.name)

    async def delete_webhook(self, name: str) -> bool:
        # Plain writes only on this table (a lightweight transaction beside plain writes of the
        # same row may be ordered wrongly); two deletes racing both say they deleted: harmless.
        if await self.webhook(name) is None:
            return False
        await self._store.execute(f"DELETE FROM {HOOKS} WHERE name = ?", (name,))
        return True

    async def add_delivery(self, delivery: Delivery) -> bool:
        placeholders = ", ".join("?" for _ in row_of(delivery))
        rows = await self._store.execute(
            f"INSERT INTO {DELIVERIES} ({COLUMNS}) VALUES ({placeholders}) IF NOT EXISTS", row_of(delivery)
        )
        return bool(rows[0][0])  # [applied]

    async def delivery(self, delivery_id: str) -> Delivery | None:
        rows = await self._store.execute(f"SELECT {COLUMNS} FROM {DELIVERIES} WHERE id = ?", (delivery_id,))
        return _read(rows[0]) if rows else None

    async def pending(self) -> list[Delivery]:
        rows = await self._store.execute(f"SELECT {COLUMNS} FROM {DELIVERIES}")
        found = (d for d in map(_read, rows) if d.state == "pending")
        return sorted(found, key=lambda d: (d.created_at_us, d.id))

    async def deliveries(self, webhook: str, limit: int) -> list[Delivery]:
        rows = await self._store.execute(f"SELECT {COLUMNS} FROM {DELIVERIES}")
        mine = sorted((d for d in map(_read, rows) if d.webhook == webhook), key=lambda d: (-d.created_at_us, d.id))
        return mine[:limit]

    async def save_delivery(self, delivery: Delivery, seen: Delivery) -> bool:
        rows = await self._store.execute(
            f"UPDATE {DELIVERIES} SET {CHANGED} WHERE id = ? IF state = ? AND owner = ? AND lease_until_us = ?",
            (*row_of(delivery)[1:], delivery.id, seen.state, seen.owner, seen.lease_until_us),
        )
        return bool(rows[0][0])

    async def forget(self, before_us: int) -> int:
        return 0  # the table's time to live drops them

    async def close(self) -> None:
        return None


def _read(row: object) -> Delivery:
    d = delivery_of(row)  # type: ignore[arg-type]
    return d.but(attempts=d.attempts or 0, last_error=d.last_error or "", owner=d.owner or "")
