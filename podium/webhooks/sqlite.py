"""The embedded webhook store: a SQLite file of its own in the data directory (webhooks.db)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from podium.domain.webhooks import Webhook
from podium.plumbing.sqlite_thread import SqliteThread
from podium.webhooks.base import Delivery

SCHEMA = """
CREATE TABLE IF NOT EXISTS webhooks (
    name TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at_us INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id TEXT PRIMARY KEY,
    webhook TEXT NOT NULL,
    event TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at_us INTEGER NOT NULL,
    state TEXT NOT NULL,
    owner TEXT NOT NULL,
    lease_until_us INTEGER NOT NULL,
    next_at_us INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    last_error TEXT NOT NULL,
    delivered_at_us INTEGER
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_state ON webhook_deliveries (state, created_at_us);
"""
# In Delivery's field order: one order for every adapter.
COLUMNS = (
    "id, webhook, event, subject, body, created_at_us, state, owner, lease_until_us, next_at_us, attempts, "
    "last_error, delivered_at_us"
)
CHANGED = ", ".join(f"{c} = ?" for c in COLUMNS.split(", ")[1:])
HOOK_COLUMNS = "name, url, events, secret, created_at_us"


def row_of(d: Delivery) -> tuple[Any, ...]:
    return (
        d.id, d.webhook, d.event, d.subject, d.body, d.created_at_us, d.state, d.owner, d.lease_until_us,
        d.next_at_us, d.attempts, d.last_error, d.delivered_at_us,
    )  # fmt: skip


def delivery_of(row: Sequence[Any]) -> Delivery:
    return Delivery(*row)


def hook_row(h: Webhook) -> tuple[Any, ...]:
    return (h.name, h.url, json.dumps(list(h.events)), h.secret, h.created_at_us)


def hook_of(row: Sequence[Any]) -> Webhook:
    name, url, events, secret, created_at_us = row
    return Webhook(name, url, tuple(json.loads(events)), secret, created_at_us)


class SqliteWebhookStore:
    def __init__(self, path: Path) -> None:
        self._db = SqliteThread(path, name="webhooks")

    async def open(self) -> None:
        await self._db.run(lambda conn: conn.executescript(SCHEMA))

    async def put_webhook(self, hook: Webhook) -> None:
        sql = f"INSERT OR REPLACE INTO webhooks ({HOOK_COLUMNS}) VALUES (?, ?, ?, ?, ?)"
        await self._db.run(lambda conn: conn.execute(sql, hook_row(hook)))

    async def webhook(self, name: str) -> Webhook | None:
        def select(conn: sqlite3.Connection) -> Webhook | None:
            row = conn.execute(f"SELECT {HOOK_COLUMNS} FROM webhooks WHERE name = ?", (name,)).fetchone()
            return hook_of(row) if row is not None else None

        return await self._db.run(select)

    async def webhooks(self) -> list[Webhook]:
        def select(conn: sqlite3.Connection) -> list[Webhook]:
            return [hook_of(r) for r in conn.execute(f"SELECT {HOOK_COLUMNS} FROM webhooks ORDER BY name")]

        return await self._db.run(select)

    async def delete_webhook(self, name: str) -> bool:
        return await self._db.run(
            lambda conn: conn.execute("DELETE FROM webhooks WHERE name = ?", (name,)).rowcount == 1
        )

    async def add_delivery(self, delivery: Delivery) -> bool:
        placeholders = ", ".join("?" for _ in row_of(delivery))
        sql = f"INSERT INTO webhook_deliveries ({COLUMNS}) VALUES ({placeholders}) ON CONFLICT (id) DO NOTHING"
        return await self._db.run(lambda conn: conn.execute(sql, row_of(delivery)).rowcount == 1)

    async def delivery(self, delivery_id: str) -> Delivery | None:
        def select(conn: sqlite3.Connection) -> Delivery | None:
            row = conn.execute(f"SELECT {COLUMNS} FROM webhook_deliveries WHERE id = ?", (delivery_id,)).fetchone()
            return delivery_of(row) if row is not None else None

        return await self._db.run(select)

    async def pending(self) -> list[Delivery]:
        sql = f"SELECT {COLUMNS} FROM webhook_deliveries WHERE state = 'pending' ORDER BY created_at_us, id"
        return await self._db.run(lambda conn: [delivery_of(r) for r in conn.execute(sql)])

    async def deliveries(self, webhook: str, limit: int) -> list[Delivery]:
        sql = f"SELECT {COLUMNS} FROM webhook_deliveries WHERE webhook = ? ORDER BY created_at_us DESC, id LIMIT ?"
        return await self._db.run(lambda conn: [delivery_of(r) for r in conn.execute(sql, (webhook, limit))])

    async def save_delivery(self, delivery: Delivery, seen: Delivery) -> bool:
        # One statement: SQLite runs it atomically, whichever connection (process) races it.
        sql = f"UPDATE webhook_deliveries SET {CHANGED} WHERE id = ? AND state = ? AND owner = ? AND lease_until_us = ?"
        params = (*row_of(delivery)[1:], delivery.id, seen.state, seen.owner, seen.lease_until_us)
        return await self._db.run(lambda conn: conn.execute(sql, params).rowcount == 1)

    async def forget(self, before_us: int) -> int:
        """Drop the deliveries that ended (delivered or failed) before `before_us`."""
        sql = "DELETE FROM webhook_deliveries WHERE state != 'pending' AND created_at_us < ?"
        return await self._db.run(lambda conn: conn.execute(sql, (before_us,)).rowcount)

    async def close(self) -> None:
        await self._db.close()
