"""Webhook endpoints: the business's URLs that get signed events (CONTRACT §10).

Each service function owns its transaction. The signing secret is shown once, in the
answer to `create`; it is kept (sealed with `$PESADESK_SECRET_KEY` when that is set)
because signing needs it, and no view shows it again. Creating, deleting and
re-enabling an endpoint is in the audit trail.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from pesadesk.core.clock import Clock
from pesadesk.core.events import TYPE_NAMES
from pesadesk.db.models.webhooks import WebhookEndpoint, WebhookSubscription
from pesadesk.db.session import Database
from pesadesk.events.errors import EndpointNotFound, InvalidEndpoint
from pesadesk.events.signing import new_secret
from pesadesk.secrets import KEY_ENV, seal, unseal
from pesadesk.shared import audit
from pesadesk.shared.apikeys import Principal
from pesadesk.shared.pages import Page, PageRequest, newest_first

EVERY = "*"
MAX_URL = 2000


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def endpoint_view(row: WebhookEndpoint, events: Sequence[str]) -> dict[str, Any]:
    return {
        "id": row.id,
        "url": row.url,
        "events": sorted(events),
        "enabled": row.enabled,
        "status": "enabled" if row.enabled else "disabled",
        "failing_since": _iso(row.failing_since),
        "last_success_at": _iso(row.last_success_at),
        "disabled_at": _iso(row.disabled_at),
        "disabled_reason": row.disabled_reason,
        "created_at": row.created_at.isoformat(),
    }


def check_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if len(url) > MAX_URL or parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidEndpoint(f"url must be an http or https URL of at most {MAX_URL} characters")
    return url


def check_events(events: Sequence[str]) -> list[str]:
    """The event types, each known; `*` alone stands for every type."""
    chosen = {e.strip() for e in events}
    if not chosen:
        raise InvalidEndpoint("events must name at least one event type, or '*'")
    unknown = sorted(chosen - {EVERY, *TYPE_NAMES})
    if unknown:
        raise InvalidEndpoint(
            f"unknown event type {unknown[0]!r}; known: {', '.join(TYPE_NAMES)} or '*'"
        )
    return [EVERY] if EVERY in chosen else sorted(chosen)


def stored_secret(plain: str) -> str:
    key = os.environ.get(KEY_ENV)
    return seal(plain, key) if key else plain


def signing_secret(stored: str) -> str:
    """The plain `whsec_` secret of an endpoint (opens a sealed one)."""
    opened = unseal(SecretStr(stored))
    assert opened is not None
    return opened.get_secret_value()


def _types(session: Session, ids: Sequence[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        rows = session.execute(
            select(WebhookSubscription.endpoint_id, WebhookSubscription.event_type).where(
                WebhookSubscription.endpoint_id.in_(ids)
            )
        )
        for endpoint_id, event_type in rows:
            found[endpoint_id].append(event_type)
    return found


def _live(session: Session, endpoint_id: int) -> WebhookEndpoint:
    row = session.get(WebhookEndpoint, endpoint_id)
    if row is None or row.deleted_at is not None:
        raise EndpointNotFound(f"no webhook endpoint {endpoint_id}")
    return row


def create(
    db: Database, *, url: str, events: Sequence[str], actor: Principal, clock: Clock
) -> dict[str, Any]:
    """A new endpoint, with its signing secret shown this once."""
    url, types = check_url(url), check_events(events)
    secret, now = new_secret(), clock.now()
    with db.write() as session:
        row = WebhookEndpoint(url=url, secret=stored_secret(secret), enabled=True,
                              created_at=now, updated_at=now)  # fmt: skip
        session.add(row)
        session.flush()
        session.add_all(WebhookSubscription(endpoint_id=row.id, event_type=t) for t in types)
        view = endpoint_view(row, types)
        audit.record(session, actor=actor.name, action="webhook_endpoint.created",
                     subject=f"webhook_endpoint:{row.id}", now=now, after=view)  # fmt: skip
    return {**view, "secret": secret}


def get(db: Database, endpoint_id: int) -> dict[str, Any]:
    with db.read() as session:
        row = _live(session, endpoint_id)
        return endpoint_view(row, _types(session, [row.id])[row.id])


def list_endpoints(db: Database, page: PageRequest) -> Page:
    """Every endpoint not deleted, newest first."""
    with db.read() as session:
        query = select(WebhookEndpoint).where(WebhookEndpoint.deleted_at.is_(None))
        found = newest_first(session, query, page, keys=[(WebhookEndpoint.id, int)],
                             view=lambda row: endpoint_view(row, []))  # fmt: skip
        types = _types(session, [item["id"] for item in found.data])
    for item in found.data:
        item["events"] = sorted(types[item["id"]])
    return found


def delete(db: Database, *, endpoint_id: int, actor: Principal, clock: Clock) -> None:
    """The endpoint gets nothing more (deliveries not yet made are dropped); its delivery
    log stays."""
    now = clock.now()
    with db.write() as session:
        row = _live(session, endpoint_id)
        row.deleted_at, row.enabled, row.updated_at = now, False, now
        audit.record(session, actor=actor.name, action="webhook_endpoint.deleted",
                     subject=f"webhook_endpoint:{row.id}", now=now)  # fmt: skip


def enable(db: Database, *, endpoint_id: int, actor: Principal, clock: Clock) -> dict[str, Any]:
    """Turn a disabled endpoint back on (after its owner fixed it); new events reach it
    again, and missed ones can be sent with redeliver."""
    now = clock.now()
    with db.write() as session:
        row = _live(session, endpoint_id)
        was = row.enabled
        row.enabled, row.failing_since, row.updated_at = True, None, now
        row.disabled_at = row.disabled_reason = None
        view = endpoint_view(row, _types(session, [row.id])[row.id])
        if not was:
            audit.record(session, actor=actor.name, action="webhook_endpoint.enabled",
                         subject=f"webhook_endpoint:{row.id}", now=now, after=view)  # fmt: skip
    return view
