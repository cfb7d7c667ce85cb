"""The consumer that queues signed webhook deliveries for every event of a transaction.

One INSERT ... SELECT puts an outbox row for each (event, enabled endpoint that takes its
type): nothing is read into Python, nothing is sent here, and with no endpoints it
inserts nothing. The worker sends them after the commit, so a callback never waits
for the business's systems.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from pesadesk.config import Settings
from pesadesk.db.sql import Sql, db_time
from pesadesk.events.types import Published

WEBHOOK_DELIVERY = "webhook_delivery"


@functools.cache
def _fan_out(count: int) -> Sql:
    ids = ", ".join(f":event_{i}" for i in range(count))
    endpoint = "CAST(w.id AS VARCHAR(20))"
    return Sql(
        "INSERT INTO outbox (kind, dedupe_key, payload, status, attempts, next_attempt_at, "  # noqa: S608 - fixed text, bound values
        "created_at, updated_at) "
        f"SELECT DISTINCT '{WEBHOOK_DELIVERY}', 'webhook:' || e.event_id || ':' || {endpoint}, "
        f"""'{{"event_id": "' || e.event_id || '", "endpoint_id": ' || {endpoint} || '}}', """
        "'pending', 0, :now, :now, :now "
        "FROM events e "
        "JOIN webhook_subscriptions s ON s.event_type IN ('*', e.type) "
        "JOIN webhook_endpoints w ON w.id = s.endpoint_id "
        f"WHERE e.event_id IN ({ids}) AND w.enabled"
    )


def webhook_deliveries(
    session: Session, published: Sequence[Published], settings: Settings, now: datetime
) -> None:
    """Queue one delivery per event and endpoint that takes it."""
    del settings  # every endpoint is in the database
    if not published:
        return
    conn = session.connection()
    params: dict[str, Any] = {"now": db_time(conn, now)}
    params.update({f"event_{i}": item.event_id for i, item in enumerate(published)})
    _fan_out(len(published)).run(conn, params)
