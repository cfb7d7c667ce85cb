"""The consumer that queues signed webhook deliveries for every event of a transaction.

One INSERT ... SELECT puts an outbox row for each (event, enabled endpoint that takes its
type): nothing is read into Python, nothing is sent here, and with no endpoints it
inserts nothing. The worker sends them after the commit, so a callback never waits
for the business's systems.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from pesadesk.config import Settings
from pesadesk.db.sql import ListSql, db_time
from pesadesk.events.types import Published

WEBHOOK_DELIVERY = "webhook_delivery"


_ENDPOINT = "CAST(w.id AS VARCHAR(20))"
_FAN_OUT = ListSql(
    "INSERT INTO outbox (kind, dedupe_key, payload, status, attempts, next_attempt_at, "  # noqa: S608 - fixed text, bound values
    "created_at, updated_at) "
    f"SELECT DISTINCT '{WEBHOOK_DELIVERY}', 'webhook:' || e.event_id || ':' || {_ENDPOINT}, "
    f"""'{{{{"event_id": "' || e.event_id || '", "endpoint_id": ' || {_ENDPOINT} || '}}}}', """
    "'pending', 0, :now, :now, :now "
    "FROM events e "
    "JOIN webhook_subscriptions s ON s.event_type IN ('*', e.type) "
    "JOIN webhook_endpoints w ON w.id = s.endpoint_id "
    "WHERE e.event_id {events} AND w.enabled",
    events="text",
)


def webhook_deliveries(
    session: Session, published: Sequence[Published], settings: Settings, now: datetime
) -> None:
    """Queue one delivery per event and endpoint that takes it."""
    del settings  # every endpoint is in the database
    if not published:
        return
    conn = session.connection()
    events = [item.event_id for item in published]
    _FAN_OUT.run(conn, {"now": db_time(conn, now), "events": events})
