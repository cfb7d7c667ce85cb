"""Operations: metrics from the database, request ids, the morning summary."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from pesadesk.config import Settings
from pesadesk.db.models import OutboxMessage
from pesadesk.db.session import Database
from pesadesk.services.daily import queue_daily_summary
from pesadesk.testing import FrozenClock
from tests.helpers import pay


def test_metrics_show_callbacks_and_money_by_status(client: TestClient) -> None:
    """/metrics counts callbacks by outcome and sums payments by status from the tables."""
    pay(client, "120.00", "NOBODY", txn="MET0001")
    pay(client, "120.00", "NOBODY", txn="MET0001")
    text = client.get("/metrics").text
    assert 'pesadesk_callbacks_total{outcome="ok",source="c2b_confirmation"} 1.0' in text
    assert 'pesadesk_callbacks_total{outcome="duplicate",source="c2b_confirmation"} 1.0' in text
    assert 'pesadesk_payments{source="c2b",status="unallocated"} 1.0' in text
    assert 'pesadesk_payments_amount_kes{source="c2b",status="unallocated"} 120.0' in text
    assert "pesadesk_callback_seconds_bucket" in text


def test_request_id_is_echoed_or_made(client: TestClient) -> None:
    """A given X-Request-ID comes back; without one, a fresh id is made."""
    given = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = client.get("/healthz")
    assert len(made.headers["x-request-id"]) == 32
    hostile = client.get("/healthz", headers={"X-Request-ID": "x" * 500})
    assert hostile.headers["x-request-id"] != "x" * 500


def test_morning_summary_is_queued_once_after_eight(db: Database, db_url: str) -> None:
    """Before 08:00 EAT nothing; after, one message per admin, and only once that day."""
    settings = Settings.model_validate(
        {
            "database_url": db_url,
            "admin_numbers": ["0700111111", "0700222222"],
            "whatsapp": {"enabled": True},
        }
    )
    early = FrozenClock(datetime(2026, 2, 6, 4, 30, tzinfo=UTC))  # 07:30 in Nairobi
    assert queue_daily_summary(db, settings=settings, clock=early) is False
    later = FrozenClock(datetime(2026, 2, 6, 5, 30, tzinfo=UTC))
    assert queue_daily_summary(db, settings=settings, clock=later) is True
    assert queue_daily_summary(db, settings=settings, clock=later) is False
    with db.read() as session:
        rows = session.execute(select(OutboxMessage.dedupe_key)).scalars().all()
    assert sorted(rows) == [
        "wa:daily:2026-02-06:254700111111",
        "wa:daily:2026-02-06:254700222222",
    ]
