"""Reading events and their deliveries, and sending an event again (CONTRACT §10)."""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from pesadesk.core.clock import Clock
from pesadesk.core.errors import InvalidInput
from pesadesk.core.events import TYPE_NAMES
from pesadesk.db.models import Event, OutboxMessage
from pesadesk.db.models.webhooks import WebhookAttempt, WebhookEndpoint, WebhookSubscription
from pesadesk.db.session import Database
from pesadesk.events.endpoints import EVERY
from pesadesk.events.errors import EndpointNotFound, EventNotFound, NoEndpoint
from pesadesk.events.fanout import WEBHOOK_DELIVERY
from pesadesk.outbox import store as outbox
from pesadesk.shared.pages import Page, PageRequest, newest_first


def event_view(row: Event) -> dict[str, Any]:
    return {
        "id": row.event_id,
        "type": row.type,
        "created_at": row.created_at.isoformat(),
        "data": json.loads(row.data),
    }


def list_events(
    db: Database, paging: PageRequest, *, type: str | None = None, since: datetime | None = None
) -> Page:
    """Events newest first; `type` one of the event types, `since` the earliest time."""
    query = select(Event)
    if type:
        if type not in TYPE_NAMES:
            raise InvalidInput(f"type must be one of {', '.join(TYPE_NAMES)}")
        query = query.where(Event.type == type)
    if since is not None:
        query = query.where(Event.created_at >= since)
    with db.read() as session:
        return newest_first(session, query, paging, keys=[(Event.id, int)], view=event_view)


def get_event(db: Database, event_id: str) -> dict[str, Any]:
    with db.read() as session:
        return event_view(_event(session, event_id))


def _event(session: Session, event_id: str) -> Event:
    row = session.execute(select(Event).where(Event.event_id == event_id)).scalar_one_or_none()
    if row is None:
        raise EventNotFound(f"no event {event_id}")
    return row


def _delivery_status(state: str | None, delivered: bool) -> str:
    """Of the delivery a try belongs to: `delivered` (some try got a 2xx), `retrying`, or
    `failed` (given up, or its endpoint was disabled or deleted)."""
    if delivered:
        return "delivered"
    return "retrying" if state in (outbox.PENDING, outbox.SENDING) else "failed"


def _attempt_view(row: Any) -> dict[str, Any]:
    attempt, event_type, state, next_at, delivered = row
    status = _delivery_status(state, bool(delivered))
    return {
        "id": attempt.id,
        "event_id": attempt.event_id,
        "event_type": event_type,
        "attempt": attempt.attempt,
        "redelivery": attempt.redelivery,
        "succeeded": attempt.succeeded,
        "status_code": attempt.status_code,
        "duration_ms": attempt.duration_ms,
        "error": attempt.error,
        "attempted_at": attempt.attempted_at.isoformat(),
        # The delivery this try belongs to: delivered, still retrying, or given up.
        "delivery_status": status,
        "next_attempt_at": next_at.isoformat() if status == "retrying" and next_at else None,
    }


def deliveries(db: Database, endpoint_id: int, paging: PageRequest) -> Page:
    """Every try at one endpoint, newest first, with the state of its delivery."""
    other = aliased(WebhookAttempt)
    delivered = (
        select(other.id)
        .where(other.outbox_id == WebhookAttempt.outbox_id, other.succeeded.is_(True))
        .exists()
    )
    query: Any = (
        select(
            WebhookAttempt,
            Event.type,
            OutboxMessage.status,
            OutboxMessage.next_attempt_at,
            delivered,
        )
        .join(Event, Event.event_id == WebhookAttempt.event_id)
        .outerjoin(OutboxMessage, OutboxMessage.id == WebhookAttempt.outbox_id)
        .where(WebhookAttempt.endpoint_id == endpoint_id)
    )
    with db.read() as session:
        if session.get(WebhookEndpoint, endpoint_id) is None:
            raise EndpointNotFound(f"no webhook endpoint {endpoint_id}")
        return newest_first(session, query, paging, keys=[(WebhookAttempt.id, int)],
                            view=_attempt_view)  # fmt: skip


def _targets(session: Session, event: Event, endpoint_id: int | None) -> list[int]:
    if endpoint_id is not None:
        row = session.get(WebhookEndpoint, endpoint_id)
        if row is None or row.deleted_at is not None:
            raise EndpointNotFound(f"no webhook endpoint {endpoint_id}")
        if not row.enabled:
            raise NoEndpoint(f"webhook endpoint {endpoint_id} is disabled: enable it first")
        return [row.id]
    return list(
        session.execute(
            select(WebhookEndpoint.id)
            .distinct()
            .join(WebhookSubscription, WebhookSubscription.endpoint_id == WebhookEndpoint.id)
            .where(
                WebhookEndpoint.enabled.is_(True),
                WebhookSubscription.event_type.in_([EVERY, event.type]),
            )
            .order_by(WebhookEndpoint.id)
        ).scalars()
    )


def redeliver(
    db: Database, *, event_id: str, endpoint_id: int | None = None, clock: Clock
) -> dict[str, Any]:
    """Send the event again, as a new delivery with the same `webhook-id`: to one endpoint,
    or to every enabled endpoint that takes its type."""
    now = clock.now()
    with db.write() as session:
        event = _event(session, event_id)
        targets = _targets(session, event, endpoint_id)
        if not targets:
            raise NoEndpoint(f"no enabled webhook endpoint takes {event.type} events")
        token = secrets.token_hex(6)
        for target in targets:
            outbox.enqueue(
                session, kind=WEBHOOK_DELIVERY,
                dedupe_key=f"webhook:{event_id}:{target}:again:{token}",
                payload={"event_id": event_id, "endpoint_id": target, "redelivery": True},
                now=now,
            )  # fmt: skip
    return {"event_id": event_id, "endpoint_ids": targets, "status": "queued"}
