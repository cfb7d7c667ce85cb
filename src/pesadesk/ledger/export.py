"""The ledger as the accountant's journal (CONTRACT §10): one line per leg, streamed.

Journals are chosen by their time and written whole, legs together, oldest first, so
every journal in the file balances (debits = credits) whatever the window. Dates are
the East Africa Time day; amounts are shillings with two decimals (JSON: numbers);
CSV cells that a spreadsheet would run are neutralised.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime
from typing import Any

from sqlalchemy import select

from pesadesk.core.clock import to_eat
from pesadesk.core.csvcells import safe_row
from pesadesk.core.errors import InvalidInput
from pesadesk.core.money import to_decimal, to_json_number
from pesadesk.db.models import LedgerEntry, LedgerJournal
from pesadesk.db.session import Database

FIELDS = ["date", "journal_id", "account", "debit", "credit", "currency", "reference", "memo"]
FORMATS = ("csv", "json")
CURRENCY = "KES"
_CHUNK = 64_000


def _query(start: datetime | None, end: datetime | None) -> Any:
    query = select(
        LedgerJournal.created_at, LedgerEntry.journal_id, LedgerEntry.account,
        LedgerEntry.debit_cents, LedgerEntry.credit_cents, LedgerJournal.reference,
        LedgerJournal.memo,
    ).join(LedgerJournal, LedgerJournal.journal_id == LedgerEntry.journal_id)  # fmt: skip
    if start is not None:
        query = query.where(LedgerJournal.created_at >= start)
    if end is not None:
        query = query.where(LedgerJournal.created_at < end)
    return query.order_by(LedgerJournal.created_at, LedgerEntry.journal_id, LedgerEntry.id)


def _line(row: Any, *, numbers: bool) -> dict[str, Any]:
    at, journal_id, account, debit, credit, reference, memo = row
    amount = to_json_number if numbers else (lambda cents: f"{to_decimal(cents):.2f}")
    return {
        "date": to_eat(at).date().isoformat(), "journal_id": journal_id, "account": account,
        "debit": amount(debit), "credit": amount(credit), "currency": CURRENCY,
        "reference": reference or "", "memo": memo or "",
    }  # fmt: skip


def stream(db: Database, start: datetime | None, end: datetime | None, fmt: str) -> Iterator[str]:
    """The legs of every journal made in [start, end), as CSV or a JSON array, in pieces
    of about 64 KB; rows are read in chunks, never all at once."""
    if fmt not in FORMATS:
        raise InvalidInput("format must be csv or json")
    with (
        db.read() as session,
        closing(session.execute(_query(start, end).execution_options(yield_per=1000))) as rows,
    ):
        yield from (_csv(rows) if fmt == "csv" else _json(rows))


def _csv(rows: Any) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, FIELDS)
    writer.writeheader()
    for row in rows:
        writer.writerow(safe_row(_line(row, numbers=False)))
        if buffer.tell() > _CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _json(rows: Any) -> Iterator[str]:
    pieces = ["["]
    size = 1
    first = True
    for row in rows:
        piece = ("" if first else ",") + json.dumps(_line(row, numbers=True))
        first = False
        pieces.append(piece)
        size += len(piece)
        if size > _CHUNK:
            yield "".join(pieces)
            pieces, size = [], 0
    pieces.append("]")
    yield "".join(pieces)
