"""Human ids (`CUST-001`, `INV-20260206-0001`, `POS-20260206-0001`) that stay unique
when requests race: the counter is bumped by one atomic upsert, whose row lock makes
concurrent transactions take turns."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from pesadesk.core.clock import eat_date

_BUMP = text(
    "INSERT INTO sequences (name, value) VALUES (:name, 1) "
    "ON CONFLICT (name) DO UPDATE SET value = sequences.value + 1 RETURNING value"
)


def next_value(session: Session, name: str) -> int:
    return int(session.execute(_BUMP, {"name": name}).scalar_one())


def daily_id(session: Session, prefix: str, now: datetime) -> str:
    """`PREFIX-YYYYMMDD-NNNN`, numbered per East Africa Time day."""
    day = eat_date(now).strftime("%Y%m%d")
    return f"{prefix}-{day}-{next_value(session, f'{prefix}-{day}'):04d}"


def customer_id(session: Session) -> str:
    return f"CUST-{next_value(session, 'CUST'):03d}"


def normalize_reference(raw: str | None) -> str:
    """What a customer typed as the account number, in the form our ids are stored in."""
    return (raw or "").strip().upper()
