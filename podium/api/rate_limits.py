"""Rate limits, checked first: a pure ASGI middleware, so that a request over its limit is
answered 429 before any routing, body or backend work.

A request with a key counts against its key (`rate_key_*`); one without a key, or with a
read key (a player's client), also against its client address (`rate_address_*`).
Health checks and metrics are never limited: a load balancer or scraper must not be
turned away. Behind a proxy, the client address is the proxy's unless uvicorn is told to
trust its forwarded headers (docs/operations.md)."""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from podium.api.errors import error_body
from podium.api.responses import json_response
from podium.domain.limits import Rate, retry_after_s
from podium.errors import BackendUnavailable
from podium.limits.base import RateLimiter
from podium.plumbing.metrics import RATE_LIMITED
from podium.settings import Settings

log = logging.getLogger("podium.api")

UNLIMITED_PATHS = frozenset({"/healthz", "/metrics"})
WARN_EVERY_S = 10.0


class RateLimits:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.per_key = Rate(settings.rate_key_per_s, settings.rate_key_burst)
        self.per_address = Rate(settings.rate_address_per_s, settings.rate_address_burst)
        self.off = self.per_key.unlimited and self.per_address.unlimited
        self.quiet_until = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.off or scope["type"] not in ("http", "websocket") or scope["path"] in UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        refused = await self.refusal(scope)
        if refused is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            # Refused before the handshake: the server answers 403 to the upgrade.
            await send({"type": "websocket.close", "code": 1008, "reason": "rate limited"})
        else:
            await refused(scope, receive, send)

    async def refusal(self, scope: Scope) -> Response | None:
        """The 429 a request over its limit is answered (counted as refused), or None to let
        it through. For a limited request (not `off`, not an unlimited path): the lean path
        (api/submit_path.py) calls it as its own step."""
        try:
            refused = await self.over_limit(scope)
        except BackendUnavailable as exc:
            # Open, not closed: a Redis fault must not turn every player away; the
            # pipeline behind still answers 503 if it needs that Redis itself.
            if time.monotonic() >= self.quiet_until:  # one warning every few seconds, not one a request
                self.quiet_until = time.monotonic() + WARN_EVERY_S
                log.warning("rate limits unavailable: requests let through", extra={"error": exc.message})
            return None
        if refused is None:
            return None
        limit, wait_s = refused
        RATE_LIMITED.labels(limit=limit).inc()
        seconds = retry_after_s(wait_s)
        return json_response(
            error_body("rate_limited", f"too many requests ({limit} limit); retry after {seconds} s"),
            429,
            headers={"Retry-After": str(seconds)},
        )

    async def over_limit(self, scope: Scope) -> tuple[str, float] | None:
        """The limit the request is over and the seconds until it would not be, or None."""
        limiter: RateLimiter = scope["app"].state.services.rate_limiter
        state: dict[str, Any] = scope.get("state", {})
        key_id, key_scope = state.get("key_id"), state.get("key_scope")
        if key_id is not None:
            wait_s = await limiter.take(f"key:{key_id}", self.per_key)
            if wait_s > 0:
                return "key", wait_s
        if key_id is None or key_scope == "read":
            client = scope.get("client")
            host = client[0] if client else "unknown"
            wait_s = await limiter.take(f"address:{host}", self.per_address)
            if wait_s > 0:
                return "address", wait_s
        return None
