"""Prometheus metrics, one registry per app so tests can build many apps.

Counters and histograms are updated where things happen; the money and queue gauges
are read from the database at scrape time, so several processes never disagree.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from pesadesk.db.models import OutboxMessage, Payment
from pesadesk.db.session import Database


class DatabaseCollector(Collector):
    """Payments and amounts by status, and the outbox depth, straight from the tables."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[GaugeMetricFamily]:
        count = GaugeMetricFamily(
            "pesadesk_payments", "Payments by status and source", labels=["status", "source"]
        )
        amount = GaugeMetricFamily(
            "pesadesk_payments_amount_kes",
            "Sum of payment amounts by status and source, in shillings",
            labels=["status", "source"],
        )
        outbox = GaugeMetricFamily(
            "pesadesk_outbox_messages", "Outbox by status", labels=["status"]
        )
        with self.db.read() as session:
            for status, source, n, cents in session.execute(
                select(
                    Payment.status,
                    Payment.source,
                    func.count(),
                    func.coalesce(func.sum(Payment.amount_cents), 0),
                ).group_by(Payment.status, Payment.source)
            ):
                count.add_metric([status, source], n)
                amount.add_metric([status, source], int(cents) / 100)
            for status, n in session.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            ):
                outbox.add_metric([status], n)
        yield count
        yield amount
        yield outbox


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.callbacks = Counter(
            "pesadesk_callbacks_total",
            "Callbacks received, by kind and outcome (ok, duplicate, error, refused)",
            ["source", "outcome"],
            registry=self.registry,
        )
        self.callback_seconds = Histogram(
            "pesadesk_callback_seconds",
            "Time from receiving a callback to its durable commit",
            ["source"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
        )
        self.daraja_seconds = Histogram(
            "pesadesk_daraja_request_seconds",
            "Daraja API calls by path and HTTP status (0: no answer)",
            ["path", "status"],
            registry=self.registry,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )

    def daraja_hooks(self) -> dict[str, list[Callable[..., Any]]]:
        """httpx event hooks timing every Daraja call (OAuth included)."""

        async def started(request: httpx.Request) -> None:
            request.extensions["pesadesk_started"] = time.perf_counter()

        async def finished(response: httpx.Response) -> None:
            began = response.request.extensions.get("pesadesk_started")
            if began is not None:
                self.daraja_seconds.labels(
                    response.request.url.path, str(response.status_code)
                ).observe(time.perf_counter() - began)

        return {"request": [started], "response": [finished]}

    def watch_database(self, db: Database) -> None:
        self.registry.register(DatabaseCollector(db))
