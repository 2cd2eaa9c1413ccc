"""The OpenAPI paths of webhooks and results (podium/api/webhooks.py), and the document's
`webhooks`: the bodies Podium POSTs. Schemas are generated from the declared types
(api/contract/webhooks.py)."""

from __future__ import annotations

from typing import Any

from podium.api.contract.operations import BOARD, ERRORS, ID, PERIOD, answer, body, ref
from podium.api.contract.schema import query_parameters
from podium.api.contract.webhooks import ResultsQuery

NAME = {"name": "name", "in": "path", "required": True, "schema": ID}
UNKNOWN = answer("No webhook of that name", "Error")
NOT_ALLOWED = answer("url_not_allowed: the URL is outside the allow-list (PODIUM_WEBHOOK_ALLOW)", "Error")
RESULTS_WINDOW = {
    "name": "window",
    "in": "query",
    "required": False,
    "schema": {"type": "string"},
    "description": "One of the board's windows (default: the first with periods)",
}
RESULTS_PERIOD = {**PERIOD, "description": "A finished period of the window (default: the last one finished)"}
SIGNED = {
    "X-Podium-Signature": {
        "schema": {"type": "string"},
        "description": "sha256=<hex HMAC-SHA256 of the body, keyed by the webhook's secret>",
    },
    "X-Podium-Delivery": {"schema": {"type": "string"}, "description": "The delivery's id: drop a repeat by it"},
    "X-Podium-Event": {"schema": {"type": "string"}, "description": "The event"},
}

PATHS: dict[str, Any] = {
    "/v1/webhooks": {
        "get": {
            "summary": "Every webhook, by name (secrets never shown)",
            "operationId": "listWebhooks",
            "responses": {"200": answer("The webhooks", "WebhookList"), **ERRORS},
        },
    },
    "/v1/webhooks/{name}": {
        "parameters": [NAME],
        "put": {
            "summary": "Create or replace a webhook: where Podium POSTs the results of each period that ends",
            "operationId": "putWebhook",
            "requestBody": body("WebhookSettings"),
            "responses": {
                "201": answer("Created", "Webhook"),
                "200": answer(
                    "Replaced (its pending deliveries go to the new URL, signed with the new secret)", "Webhook"
                ),
                "422": NOT_ALLOWED,
                **ERRORS,
            },
        },
        "get": {
            "summary": "A webhook and its newest deliveries",
            "operationId": "getWebhook",
            "responses": {
                "200": answer("The webhook", "Webhook"),
                "404": UNKNOWN,
                **{k: v for k, v in ERRORS.items() if k != "404"},
            },
        },
        "delete": {
            "summary": "Delete a webhook; its pending deliveries are given up",
            "operationId": "deleteWebhook",
            "responses": {"204": answer("Deleted"), "404": UNKNOWN, **{k: v for k, v in ERRORS.items() if k != "404"}},
        },
    },
    "/v1/boards/{board}/results": {
        "parameters": [BOARD],
        "get": {
            "summary": "A finished period's full results, from the store",
            "operationId": "getResults",
            "description": "final: true once the store holds every score accepted before the period's end (what a "
            "webhook's delivery waits for). A one-shot tournament's results: window=all, period=once.",
            "parameters": [RESULTS_WINDOW, RESULTS_PERIOD, *query_parameters(ResultsQuery)],
            "responses": {
                "200": answer("The standings", "PeriodResults"),
                "409": answer("period_not_ended: the period is still running", "Error"),
                **ERRORS,
            },
        },
    },
}


def posted(summary: str, schema: str) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "parameters": [{"name": k, "in": "header", "required": True, **v} for k, v in SIGNED.items()],
            "requestBody": {"required": True, "content": {"application/json": {"schema": ref(schema)}}},
            "responses": {"2XX": {"description": "Taken: never sent again (else retried with backoff for a day)"}},
        }
    }


WEBHOOKS: dict[str, Any] = {
    "period_ended": posted("A period of a board's window ended; its final standings", "PeriodEnded"),
    "tournament_ended": posted("An active period of a tournament ended; its final standings", "PeriodEnded"),
    "tier_changed": posted(
        "A user's own total moved it across a tier's score cut-off (boards whose tiers are all by min_score)",
        "TierChanged",
    ),
}
