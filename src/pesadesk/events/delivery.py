"""Sending one event to one endpoint: the outbox handler for `webhook_delivery`.

The body is the event as `GET /api/events` shows it, signed per Standard Webhooks. A 2xx
answer within 10 s is delivered; anything else is retried by the outbox with the webhook
policy (`core.retry.WEBHOOK_RETRY`). Every try is logged with its status code and time,
in the transaction that records the outbox message (the handler hands back a finish).
An endpoint that has failed without a single success for three days is disabled and the
admins are told on WhatsApp.

At most `per_endpoint` requests go to one endpoint at once from a process; more wait up
to half a second for a slot, then are postponed, so one slow endpoint cannot fill every
slot of the worker.
"""

from __future__ import annotations

import asyncio
import functools
import json
import random
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pesadesk import __version__
from pesadesk.config import Settings
from pesadesk.core.clock import Clock
from pesadesk.db.models import Event
from pesadesk.db.models.webhooks import WebhookAttempt, WebhookEndpoint
from pesadesk.db.session import Database
from pesadesk.events.endpoints import signing_secret
from pesadesk.events.signing import headers
from pesadesk.notify.admins import notify_admins
from pesadesk.outbox.worker import Claimed, Finish, Postpone, current_message

log = structlog.get_logger(__name__)

TIMEOUT_SECONDS = 10.0
DISABLE_AFTER = timedelta(days=3)
MAX_POSTPONE = 600.0  # seconds a message for a saturated endpoint is put off at most
MAX_ANSWER_BYTES = 64 * 1024  # what is read of an answer (only to keep the connection)


@dataclass(frozen=True)
class Target:
    endpoint_id: int
    url: str
    secret: str
    event_id: str
    body: str


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    duration_ms: int
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None


def event_body(event: Event) -> str:
    """What the receiver gets: `{id, type, created_at, data}`, as `GET /api/events`."""
    return json.dumps(
        {"id": event.event_id, "type": event.type, "created_at": event.created_at.isoformat(),
         "data": json.loads(event.data)}, separators=(",", ":"),
    )  # fmt: skip


async def _drain(response: httpx.Response) -> None:
    """Read a short answer to its end, so the connection is kept for the next delivery; a
    long one is not read (the connection is closed instead)."""
    read = 0
    async for chunk in response.aiter_raw():
        read += len(chunk)
        if read > MAX_ANSWER_BYTES:
            break


class WebhookSender:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        clock: Clock,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = TIMEOUT_SECONDS,
        per_endpoint: int = 8,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.timeout = timeout
        self.per_endpoint = per_endpoint
        self._busy: Counter[int] = Counter()  # requests in flight, per endpoint
        self._deferred: Counter[int] = Counter()  # messages put off while it was saturated
        self._latency: dict[int, float] = {}  # recent seconds per request, per endpoint
        self.client = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
            headers={"user-agent": f"pesadesk/{__version__}"},
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    async def _slot(self, endpoint_id: int) -> None:
        """Wait up to half a second for one of the endpoint's slots; a fast endpoint frees
        one in milliseconds, a slow one does not, and its message is postponed."""
        for _ in range(10):
            if self._busy[endpoint_id] < self.per_endpoint:
                self._busy[endpoint_id] += 1
                return
            await asyncio.sleep(0.05)
        raise Postpone(self._postponement(endpoint_id))

    def _postponement(self, endpoint_id: int) -> float:
        """How long a message waits for a saturated endpoint: about the time the endpoint
        needs for the messages already put off before it, so a backlog for a slow endpoint
        comes back spread out instead of churning through the queue every few seconds."""
        self._deferred[endpoint_id] += 1
        ahead = self._deferred[endpoint_id] / self.per_endpoint
        seconds = min(MAX_POSTPONE, max(2.0, ahead * self._latency.get(endpoint_id, 1.0)))
        return seconds * (1 + random.random() / 4)  # noqa: S311 - spreading, not secrets

    def _took(self, endpoint_id: int, seconds: float) -> None:
        """Keep the endpoint's recent request time; a free slot ends a backlog."""
        before = self._latency.get(endpoint_id, seconds)
        self._latency[endpoint_id] = 0.8 * before + 0.2 * seconds
        if self._busy[endpoint_id] <= 1:
            self._deferred[endpoint_id] = 0

    async def __call__(self, payload: dict[str, Any]) -> Finish | None:
        """Send one delivery; what it met is logged by the returned finish, in the
        transaction that records the outbox message."""
        endpoint_id, event_id = int(payload["endpoint_id"]), str(payload["event_id"])
        await self._slot(endpoint_id)
        try:
            target = await asyncio.to_thread(self._load, endpoint_id, event_id)
            if target is None:
                return None
            outcome = await self._send(target)
            self._took(endpoint_id, outcome.duration_ms / 1000)
        finally:
            self._busy[endpoint_id] -= 1
        message, redelivery = current_message(), bool(payload.get("redelivery"))
        return functools.partial(self._finish, target, outcome, message, redelivery)

    def _load(self, endpoint_id: int, event_id: str) -> Target | None:
        """What to send where; None when the endpoint was disabled or deleted meanwhile."""
        with self.db.read() as session:
            endpoint = session.get(WebhookEndpoint, endpoint_id)
            if endpoint is None or not endpoint.enabled or endpoint.deleted_at is not None:
                log.info("webhook_not_sent", endpoint=endpoint_id, event=event_id,
                         reason="endpoint disabled or deleted")  # fmt: skip
                return None
            event = session.execute(select(Event).where(Event.event_id == event_id)).scalar_one()
            return Target(endpoint_id, endpoint.url, signing_secret(endpoint.secret),
                          event_id, event_body(event))  # fmt: skip

    async def _send(self, target: Target) -> Outcome:
        signed = headers(target.secret, msg_id=target.event_id, at=self.clock.now(),
                         body=target.body)  # fmt: skip
        signed["content-type"] = "application/json"
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            async with (
                asyncio.timeout(self.timeout),
                self.client.stream(
                    "POST", target.url, content=target.body.encode(), headers=signed
                ) as response,  # fmt: skip
            ):
                status = response.status_code
                await _drain(response)
            if not 200 <= status < 300:
                error = f"answered HTTP {status}"
        except TimeoutError:
            error = f"no answer within {self.timeout:g} s"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        duration = round((time.perf_counter() - started) * 1000)
        return Outcome(status, duration, error)

    def _finish(
        self, target: Target, outcome: Outcome, message: Claimed, redelivery: bool,
        session: Session,
    ) -> str | None:  # fmt: skip
        """Log the try and keep the endpoint's health. None when the delivery is over
        (taken, or the endpoint was disabled now); else why it failed, to retry."""
        now = self.clock.now()
        session.add(
            WebhookAttempt(
                endpoint_id=target.endpoint_id, event_id=target.event_id,
                outbox_id=message.id, attempt=message.attempts, redelivery=redelivery,
                succeeded=outcome.ok, status_code=outcome.status_code,
                duration_ms=outcome.duration_ms, error=outcome.error, attempted_at=now,
            )
        )  # fmt: skip
        endpoint = WebhookEndpoint.id == target.endpoint_id
        if outcome.ok:
            session.execute(update(WebhookEndpoint).where(endpoint)
                            .values(failing_since=None, last_success_at=now))  # fmt: skip
            return None
        session.execute(
            update(WebhookEndpoint)
            .where(endpoint, WebhookEndpoint.failing_since.is_(None))
            .values(failing_since=now)
        )
        if self._disable_if_failing(session, target, now):
            return None
        return outcome.error

    def _disable_if_failing(self, session: Session, target: Target, now: datetime) -> bool:
        disabled = session.execute(
            update(WebhookEndpoint)
            .where(
                WebhookEndpoint.id == target.endpoint_id,
                WebhookEndpoint.enabled.is_(True),
                WebhookEndpoint.failing_since <= now - DISABLE_AFTER,
            )
            .values(
                enabled=False,
                disabled_at=now,
                updated_at=now,
                disabled_reason="failed for 3 days without a success",
            )
            .returning(WebhookEndpoint.id)
        ).first()
        if disabled is None:
            return False
        host = urlsplit(target.url).hostname or "?"
        text = (
            f"pesadesk: webhook endpoint #{target.endpoint_id} ({host}) has failed for 3 days "
            "and was disabled. Fix it, turn it back on in Settings, then redeliver what it missed."
        )
        subject = f"{target.endpoint_id}:{now.isoformat()}"
        notify_admins(session, settings=self.settings, event="webhook_disabled",
                      subject=subject, text=text, now=now)  # fmt: skip
        log.warning("webhook_endpoint_disabled", endpoint=target.endpoint_id, host=host)
        return True
