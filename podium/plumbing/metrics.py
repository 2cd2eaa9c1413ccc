"""Prometheus metrics: every process serves them at /metrics."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response

SUBMISSIONS = Counter("podium_submissions_total", "Scores accepted by the api (appended to the log)")
REQUESTS = Counter("podium_http_requests_total", "HTTP answers", ["method", "route", "status"])
DB_WORKER_RECORDS = Counter(
    "podium_db_worker_records_total", "Log records handled by the db-worker", ["outcome"]
)  # outcome: applied, redelivered, duplicate_key, invalid, wrong_region (docs/global.md)
RANK_WORKER_CHANGES = Counter(
    "podium_rank_worker_changes_total", "Change events handled by the rank-worker", ["outcome"]
)  # outcome: applied, stale
AUTH_REFUSALS = Counter(
    "podium_auth_refusals_total", "Requests refused for their API key", ["reason"]
)  # reason: missing, unknown, revoked, scope
RULE_REFUSALS = Counter(
    "podium_rule_refusals_total", "Submissions refused for breaking a board's score rule", ["board", "rule"]
)
RATE_LIMITED = Counter("podium_rate_limited_total", "Requests refused by a rate limit", ["limit"])  # key, address
WORKER_ERRORS = Counter("podium_worker_errors_total", "Worker batches that failed and were retried", ["worker"])
CONSUMERS_REPLACED = Counter(
    "podium_kafka_consumers_replaced_total", "Kafka consumers replaced after too long out of their group", ["group"]
)
CONSUMER_LAG = Gauge("podium_consumer_lag", "Records not yet consumed, per partition", ["group", "partition"])
APPLY_LATENCY = Histogram(
    "podium_apply_latency_seconds",
    "From a score's submission to its total being applied to the rank index",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

# One series a process, joined onto any other series by instance (docs/global.md says why the
# region is not a label on every metric).
REGION_INFO = Gauge("podium_region_info", "This process's region and its home region", ["region", "home_region"])


async def metrics_endpoint(request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
