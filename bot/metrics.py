"""The bot's Prometheus metrics, in one registry of its own, and the `GET /metrics` route.

Other modules import the metric objects and increment them where the thing happens, e.g.
`metrics.DUPLICATES_DROPPED.inc()`. A registry of our own (not
prometheus-client's global one) keeps `/metrics` to what the bot means to publish, and lets
several bots in one test process share it without "duplicated timeseries" errors.

Label values are small closed sets: never put an issue number, a user or a raw URL in a label
(use `api_endpoint` for GitLab paths), or the series multiply without bound.
"""

from __future__ import annotations

import collections
import re
from collections.abc import Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

# The `*_created` series double every counter's lines and nobody here graphs them.
disable_created_metrics()
REGISTRY = CollectorRegistry(auto_describe=True)

class DeliveryCounts(Collector):
    """Webhook deliveries by event kind and outcome, counted in a plain `collections.Counter` and
    read when `/metrics` is scraped: every delivery passes here, and a labelled Prometheus
    counter costs each one a lookup and a lock (bench/README.md). Only the event loop counts."""

    def __init__(self) -> None:
        self.counts: collections.Counter[tuple[str, str]] = collections.Counter()

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "vorhoelle_webhook_deliveries",
            "Webhook deliveries received, by GitLab event kind and what the bot did with them "
            "(queued, ignored, reloading, duplicate, unauthorized, invalid, unavailable, error).",
            labels=["event", "outcome"],
        )
        for (event, outcome), count in self.counts.copy().items():   # a copy: a scrape may run in a thread
            family.add_metric([event, outcome], count)
        yield family


DELIVERIES = DeliveryCounts()
REGISTRY.register(DELIVERIES)
DUPLICATES_DROPPED = Counter(
    "vorhoelle_duplicate_deliveries_dropped",
    "Deliveries dropped because their Idempotency-Key was already handled (GitLab's manual resend).",
    registry=REGISTRY,
)
QUEUE_DEPTH = Gauge(
    "vorhoelle_queue_depth",
    "Issues waiting for a converge (queued, not yet running).",
    registry=REGISTRY,
)
CONVERGE_DURATION = Histogram(
    "vorhoelle_converge_duration_seconds",
    "Time to converge one issue, by outcome (ok, error).",
    ["outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    registry=REGISTRY,
)
GITLAB_CALLS = Counter(
    "vorhoelle_gitlab_api_calls",
    "Calls to the GitLab API, by endpoint template (see api_endpoint) and HTTP status "
    "(or 'error' when no response came back).",
    ["endpoint", "status"],
    registry=REGISTRY,
)
GITLAB_RETRIES = Counter(
    "vorhoelle_gitlab_retries",
    "GitLab API calls retried, by reason (5xx, 429, timeout, connection).",
    ["reason"],
    registry=REGISTRY,
)
NOTIFICATIONS = Counter(
    "vorhoelle_notifications",
    "Notifications handed to a channel, by channel (whatsapp for every recipient) and outcome (sent, failed).",
    ["channel", "outcome"],
    registry=REGISTRY,
)
CATCH_UP_LAG = Gauge(
    "vorhoelle_catch_up_lag_seconds",
    "At the end of the last catch-up pass: how far its window reached back, in seconds.",
    registry=REGISTRY,
)
CATCH_UP_LAST_SUCCESS = Gauge(
    "vorhoelle_catch_up_last_success_timestamp_seconds",
    "Unix time at which the last catch-up pass finished without error (0: none yet).",
    registry=REGISTRY,
)
RECONCILE_ISSUES = Counter(
    "vorhoelle_reconcile_issues",
    "Issues a full reconcile converged, by outcome (converged, failed).",
    ["outcome"],
    registry=REGISTRY,
)
RECONCILE_CONVERGED = Gauge(
    "vorhoelle_reconcile_progress_issues",
    "Issues the full reconcile under way (or the last one) has converged so far, resumed runs included.",
    registry=REGISTRY,
)
RECONCILE_LAST_SUCCESS = Gauge(
    "vorhoelle_reconcile_last_success_timestamp_seconds",
    "Unix time at which the last complete full reconcile started (0: none yet in this process).",
    registry=REGISTRY,
)
CONFIG_RELOADS = Counter(
    "vorhoelle_config_reloads",
    "Reloads of the project's .vorhoelle.yml, by outcome (applied, removed, invalid, unavailable).",
    ["outcome"],
    registry=REGISTRY,
)


def delivery(event: str, outcome: str) -> None:
    """Count one webhook delivery."""
    DELIVERIES.counts[event, outcome] += 1


_ID_SEGMENT = re.compile(r"^(\d+|[^/]*%2[Ff][^/]*)$")


def api_endpoint(path: str) -> str:
    """Turn a GitLab API path into a label value: ids and encoded paths become `:id`.

    `/api/v4/projects/group%2Fjobs/issues/12/notes?page=2` -> `/projects/:id/issues/:id/notes`.
    """
    path = path.split("?", 1)[0]
    if path.startswith("/api/v4"):
        path = path[len("/api/v4"):]
    segments = [":id" if _ID_SEGMENT.match(part) else part for part in path.split("/")]
    return "/".join(segments) or "/"


def retry_reason(error: BaseException | None) -> str:
    """A retried failure as a label value: `429`, `5xx`, or `connection` (nothing came back)."""
    status = getattr(error, "status", 0) or 0
    if status == 429:
        return "429"
    return "5xx" if status >= 500 else "connection"


async def metrics_endpoint(request: Request) -> Response:
    """The metrics; with `server.metrics_token` set, only for `Authorization: Bearer <it>`."""
    from bot.web.bearer import bearer_matches

    token = request.app.state.runtime.settings.server.metrics_token
    if token is not None and not bearer_matches(token, request.headers.get("authorization")):
        return JSONResponse({"error": "unauthorized", "detail": "send `Authorization: Bearer <server.metrics_token>`"},
                            status_code=401, headers={"WWW-Authenticate": 'Bearer realm="vorhoelle-metrics"'})
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


def routes() -> list[BaseRoute]:
    return [Route("/metrics", metrics_endpoint, methods=["GET"])]
