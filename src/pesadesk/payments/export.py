"""Payments as a stream of JSON or CSV, for the API, the CLI export and the dashboard.
Rows go out as they are read, so a million payments never sit in memory at once."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime
from typing import Any

from sqlalchemy import Select

from pesadesk.core.csvcells import safe_row
from pesadesk.core.errors import InvalidInput
from pesadesk.core.statuses import PaymentStatus
from pesadesk.db.models import Payment
from pesadesk.db.session import Database
from pesadesk.payments.views import BOOKED_AT, payment_select, payment_view

CSV_FIELDS = [
    "id", "order_id", "amount", "currency", "method", "status", "phone", "reference",
    "provider_ref", "receipt", "source", "created_at", "updated_at", "customer_id",
    "invoice_id", "pos_id", "account", "shortcode", "paid_at",
]  # fmt: skip


METHODS = ("mpesa",)
SOURCES = ("stk", "c2b")  # STK Push for orders; Paybill/Till, pulled or imported


def row_view(row: Any) -> dict[str, Any]:
    """A `payment_select()` row as the API shows a payment."""
    return payment_view(
        row, customer_id=row.customer_id, invoice_id=row.invoice_id, pos_id=row.pos_id
    )


def filtered(
    *,
    status: str | None = None,
    method: str | None = None,
    source: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    needs_review: bool | None = None,
    account: str | None = None,
) -> Select[Any]:
    query = payment_select()
    if account:
        query = query.where(Payment.account == account)
    if needs_review is not None:
        query = query.where(Payment.needs_review.is_(needs_review))
    if status:
        if status not in {s.value for s in PaymentStatus}:
            raise InvalidInput(f"status must be one of {', '.join(PaymentStatus)}")
        query = query.where(Payment.status == status)
    if method:
        if method not in METHODS:
            raise InvalidInput(f"method must be one of {', '.join(METHODS)}")
        query = query.where(Payment.method == method)
    if source:
        if source not in SOURCES:
            raise InvalidInput(f"source must be one of {', '.join(SOURCES)}")
        query = query.where(Payment.source == source)
    if start:
        query = query.where(start <= BOOKED_AT)
    if end:
        query = query.where(end > BOOKED_AT)
    selected: Select[Any] = query
    return selected


def stream(db: Database, query: Select[Any], fmt: str) -> Iterator[str]:
    """Newest first, read in chunks as the pieces go out."""
    query = query.order_by(Payment.created_at.desc(), Payment.id.desc())
    with (
        db.read() as session,
        closing(session.execute(query.execution_options(yield_per=500))) as rows,
    ):
        if fmt == "csv":
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, CSV_FIELDS, extrasaction="ignore")
            writer.writeheader()
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            for row in rows:
                writer.writerow(safe_row(row_view(row)))
                if buffer.tell() > 64_000:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
            yield buffer.getvalue()
            return
        yield "["
        first = True
        for row in rows:
            yield ("" if first else ",") + json.dumps(row_view(row))
            first = False
        yield "]"
