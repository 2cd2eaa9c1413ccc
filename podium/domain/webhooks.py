"""Webhooks: where Podium sends a competition's results, and the rules of sending them.

Pure: a webhook's settings and their checks (events, the URL against the operator's
allow-list), a delivery's id, its signature and its retry schedule. Sending, storing and
deciding when a period's results are final live in podium/usecases/deliveries.py."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from podium.errors import InvalidInput, Unprocessable

PERIOD_ENDED = "period_ended"  # a period of a board's window ended: its final standings
TOURNAMENT_ENDED = "tournament_ended"  # an active period of a tournament ended: its final standings
TIER_CHANGED = "tier_changed"  # a user's own total moved it across a tier's score cut-off (domain/tier_changes.py)
EVENTS = (PERIOD_ENDED, TOURNAMENT_ENDED, TIER_CHANGED)

MAX_URL_CHARS = 2000
MIN_SECRET_CHARS = 16
MAX_SECRET_CHARS = 200
SIGNATURE_HEADER = "X-Podium-Signature"
DELIVERY_HEADER = "X-Podium-Delivery"
EVENT_HEADER = "X-Podium-Event"


class UrlNotAllowed(Unprocessable):
    """A webhook URL outside the operator's allow-list (PODIUM_WEBHOOK_ALLOW): a 422."""

    code = "url_not_allowed"


@dataclass(frozen=True, slots=True)
class Webhook:
    name: str
    url: str
    events: tuple[str, ...]
    secret: str
    created_at_us: int  # a webhook made again under the same name is a new one: new delivery ids

    def wants(self, event: str) -> bool:
        return event in self.events

    def to_json(self) -> dict[str, Any]:
        """What the API shows: never the secret."""
        return {"name": self.name, "url": self.url, "events": list(self.events), "created_at_us": self.created_at_us}


def check_webhook(name: str, body: Any, allow: Sequence[str], created_at_us: int) -> Webhook:
    """The webhook a PUT body describes; InvalidInput (400) saying what is wrong, or
    UrlNotAllowed (422) for a URL the allow-list does not cover."""
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object", code="invalid_body")
    unknown = sorted(set(body) - {"url", "events", "secret"})
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(unknown)}", code="invalid_body")
    url, events, secret = body.get("url"), body.get("events"), body.get("secret")
    if not isinstance(url, str) or not 0 < len(url) <= MAX_URL_CHARS:
        raise InvalidInput(f"url must be a string of 1-{MAX_URL_CHARS} characters", code="invalid_url")
    check_url(url, allow)
    if not isinstance(events, list) or not events or any(e not in EVENTS for e in events):
        raise InvalidInput(f"events must be a non-empty array of {', '.join(EVENTS)}", code="invalid_events")
    if not isinstance(secret, str) or not MIN_SECRET_CHARS <= len(secret) <= MAX_SECRET_CHARS:
        raise InvalidInput(
            f"secret must be a string of {MIN_SECRET_CHARS}-{MAX_SECRET_CHARS} characters", code="invalid_secret"
        )
    return Webhook(name, url, tuple(dict.fromkeys(events)), secret, created_at_us)


def check_url(url: str, allow: Sequence[str]) -> None:
    """An http(s) URL without credentials, that one entry of `allow` covers: a host
    ("hooks.example.com", "*.example.com": any port, either scheme) or a URL prefix
    ("https://hooks.example.com/podium/": that scheme, host, port and path on)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("url must be an http:// or https:// URL with a host", code="invalid_url")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput("url must not carry credentials: sign with the secret instead", code="invalid_url")
    if not any(_covers(entry, url, parts.hostname) for entry in allow):
        listed = ", ".join(allow) if allow else "nothing (PODIUM_WEBHOOK_ALLOW is empty)"
        raise UrlNotAllowed(f"url {url!r} is not in the allow-list; it allows: {listed}")


def _covers(entry: str, url: str, host: str) -> bool:
    entry = entry.strip()
    if not entry:
        return False
    if "://" in entry:
        # A prefix ends where a URL part ends, so "https://a.com" does not cover "https://a.com.evil".
        return url == entry or (url.startswith(entry) and (entry.endswith("/") or url[len(entry)] in "/?#"))
    entry = entry.lower().strip("[]")
    if entry.startswith("*."):
        return host.endswith(entry[1:])
    return host == entry


def sign(secret: str, body: bytes) -> str:
    """The value of X-Podium-Signature: HMAC-SHA256 of the exact body, keyed by the secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed_by(secret: str, body: bytes, signature: str) -> bool:
    """What a receiver checks (in constant time)."""
    return hmac.compare_digest(sign(secret, body), signature)


def delivery_id(hook: Webhook, event: str, subject: str) -> str:
    """One id per (webhook, event, what it is about): every process that finds the same
    period ended names its delivery the same, so the store keeps one, and the receiver
    drops a repeat by it."""
    text = json.dumps([hook.name, hook.created_at_us, event, subject])
    return "dlv_" + hashlib.sha256(text.encode()).hexdigest()[:32]


def tier_delivery_id(hook: Webhook, subject: str, at_us: int) -> str:
    """The id of a tier_changed delivery: the subject names the board, user and version, and
    the time the total that made the change was written (`Total.updated_at_us`) tells a
    board deleted and made again (its versions start again at 1) from the old one. Not its
    log position: a change told by a step of a later total (the db-worker's steps,
    domain/tier_changes.py) has that total's position, and the feed may bring it either way
    (a step when the later write landed first), so one change would have two ids."""
    return delivery_id(hook, TIER_CHANGED, f"{subject}@{at_us}")


def backoff_s(attempts: int, first_s: float, max_s: float) -> float:
    """How long to wait after the `attempts`-th failed try: doubling from `first_s`, at
    most `max_s` (2, 4, 8 … s, then hourly with the defaults)."""
    return float(min(max_s, first_s * 2 ** min(max(attempts - 1, 0), 40)))
