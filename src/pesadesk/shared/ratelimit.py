"""Rate limits kept in the database, so every `serve` process on one PostgreSQL counts
against the same limit (an in-memory counter would allow each process its own).

A fixed one-minute window per key: one atomic upsert counts the hit and returns the
count, so racing requests in several processes cannot slip past the limit together.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import text

from pesadesk.core.errors import RateLimited
from pesadesk.db.session import Database
from pesadesk.db.sql import Sql, db_time

WINDOW = timedelta(minutes=1)
_HIT = Sql(
    "INSERT INTO rate_limits (key, window_start, hits) VALUES (:key, :start, 1) "
    "ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_limits.hits + 1 "
    "RETURNING hits"
)
_FORGET = text("DELETE FROM rate_limits WHERE window_start < :before")


def _window(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0)


def hit(db: Database, *, key: str, per_minute: int, now: datetime, what: str) -> None:
    """Count one request for `key`; `RateLimited` (with Retry-After) past `per_minute`."""
    start = _window(now)
    with db.write() as session:
        conn = session.connection()
        hits = int(_HIT.run(conn, {"key": key[:120], "start": db_time(conn, start)}).scalar_one())
        if hits == 1:  # the first hit of a window clears windows long gone
            session.execute(_FORGET, {"before": db_time(conn, start - 10 * WINDOW)})
    if hits > per_minute:
        wait = math.ceil((start + WINDOW - now).total_seconds())
        raise RateLimited(f"more than {per_minute} {what} a minute", retry_after=max(1, wait))
