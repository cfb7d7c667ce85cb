"""Statement reconciliation: match the M-Pesa statement against pesadesk by receipt.

The statement is streamed in chunks; each chunk's receipts are looked up in one query,
so memory holds one chunk plus the set of statement receipts (needed to find payments
the statement lacks), never the whole file or the whole payments table.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pesadesk.core.clock import Clock
from pesadesk.core.errors import NotFound
from pesadesk.core.money import to_decimal, to_json_number
from pesadesk.core.statuses import PaymentStatus, WebhookSource
from pesadesk.db.models import Payment, StatementImport
from pesadesk.db.session import Database
from pesadesk.pipeline.contract import Origin
from pesadesk.pipeline.run import Job, Pipeline
from pesadesk.reconcile.statement import StatementHeader, StatementRow, read_statement
from pesadesk.shared.pages import Page, PageRequest, newest_first

CHUNK = 2000
MONEY_ARRIVED = frozenset(
    {
        PaymentStatus.COMPLETED.value,
        PaymentStatus.UNALLOCATED.value,
        PaymentStatus.REFUNDED.value,
        PaymentStatus.PARTIALLY_REFUNDED.value,
    }
)


class StatementNotFound(NotFound):
    """Raised when no imported statement has that id."""

    code = "statement_not_found"


@dataclass
class Report:
    matched: list[str] = field(default_factory=list)
    missing_in_pesadesk: list[str] = field(default_factory=list)
    missing_in_statement: list[str] = field(default_factory=list)
    amount_mismatches: list[dict[str, Any]] = field(default_factory=list)
    status_mismatches: list[dict[str, Any]] = field(default_factory=list)
    missing_rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    rows: int = 0
    paid_in_rows: int = 0
    withdrawal_rows: int = 0
    failed_rows_unknown_here: int = 0
    period_start: datetime | None = None
    period_end: datetime | None = None

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "paid_in_rows": self.paid_in_rows,
            "withdrawal_rows": self.withdrawal_rows,
            "matched": len(self.matched),
            "missing_in_pesadesk": len(self.missing_in_pesadesk),
            "missing_in_statement": len(self.missing_in_statement),
            "amount_mismatches": len(self.amount_mismatches),
            "status_mismatches": len(self.status_mismatches),
            "failed_rows_unknown_here": self.failed_rows_unknown_here,
        }


def _chunks(rows: Iterator[StatementRow]) -> Iterator[list[StatementRow]]:
    while chunk := list(islice(rows, CHUNK)):
        yield chunk


def _compare(report: Report, row: StatementRow, known: tuple[int, str] | None) -> None:
    if known is None:
        if row.completed:
            report.missing_in_pesadesk.append(row.receipt)
            report.missing_rows[row.receipt] = {
                "amount_cents": row.paid_in_cents,
                "account_no": row.account_no,
                "other_party": row.other_party,
                "completed_at": row.completed_at.isoformat() if row.completed_at else None,
            }
        else:
            report.failed_rows_unknown_here += 1
        return
    amount, status = known
    arrived_here = status in MONEY_ARRIVED
    if row.completed != arrived_here:
        report.status_mismatches.append(
            {"receipt": row.receipt, "statement_status": row.status, "pesadesk_status": status}
        )
    elif amount != row.paid_in_cents:
        report.amount_mismatches.append(
            {
                "receipt": row.receipt,
                "statement_amount": to_json_number(row.paid_in_cents),
                "pesadesk_amount": to_json_number(amount),
            }
        )
    else:
        report.matched.append(row.receipt)


def build_report(
    session: Session, lines: Iterable[str], *, progress: Callable[[int], None] | None = None
) -> Report:
    header = StatementHeader()
    report = Report()
    seen: set[str] = set()
    first: datetime | None = None
    last: datetime | None = None
    for chunk in _chunks(read_statement(lines, header)):
        report.rows += len(chunk)
        incoming = [row for row in chunk if row.paid_in_cents > 0]
        report.withdrawal_rows += sum(1 for row in chunk if row.withdrawn_cents > 0)
        report.paid_in_rows += len(incoming)
        for row in chunk:
            seen.add(row.receipt)
            if row.completed_at is not None:
                first = row.completed_at if first is None else min(first, row.completed_at)
                last = row.completed_at if last is None else max(last, row.completed_at)
        known = {
            receipt: (amount, status)
            for receipt, amount, status in session.execute(
                select(Payment.receipt, Payment.amount_cents, Payment.status).where(
                    Payment.receipt.in_([row.receipt for row in incoming])
                )
            )
        }
        for row in incoming:
            _compare(report, row, known.get(row.receipt))
        if progress is not None:
            progress(len(chunk))
    report.period_start = header.period_start or first
    report.period_end = header.period_end or last
    if report.period_start and report.period_end:
        when = Payment.paid_at
        for (receipt,) in session.execute(
            select(Payment.receipt)
            .where(
                Payment.receipt.is_not(None),
                Payment.status.in_(MONEY_ARRIVED),
                when >= report.period_start,
                when <= report.period_end,
            )
            .execution_options(yield_per=5000)
        ):
            if receipt and receipt not in seen:
                report.missing_in_statement.append(receipt)
    return report


def report_view(entry: StatementImport) -> dict[str, Any]:
    """The whole stored report (its lists can hold a million receipts)."""
    stored = json.loads(entry.report_json)
    stored.pop("missing_rows", None)
    return {**summary_view(entry), **stored}


def summary_view(entry: StatementImport) -> dict[str, Any]:
    """What a listing shows: no receipt lists, so a page of big reports stays small."""
    return {
        "id": entry.id,
        "filename": entry.filename,
        "imported_by": entry.imported_by,
        "imported_at": entry.imported_at.isoformat(),
        "rows": entry.rows,
        "period": {
            "from": entry.period_start.isoformat() if entry.period_start else None,
            "to": entry.period_end.isoformat() if entry.period_end else None,
        },
    }


def import_statement(
    db: Database,
    *,
    lines: Iterable[str],
    filename: str,
    imported_by: str | None,
    clock: Clock,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Build the report against the database and store it; returns the stored view."""
    with db.read() as session:
        report = build_report(session, lines, progress=progress)
    body = {
        "period": {
            "from": report.period_start.isoformat() if report.period_start else None,
            "to": report.period_end.isoformat() if report.period_end else None,
        },
        "matched": report.matched,
        "missing_in_pesadesk": report.missing_in_pesadesk,
        "missing_in_statement": report.missing_in_statement,
        "amount_mismatches": report.amount_mismatches,
        "status_mismatches": report.status_mismatches,
        "counts": report.counts(),
        "missing_rows": report.missing_rows,
    }
    with db.write() as session:
        entry = StatementImport(
            filename=filename[:300],
            imported_at=clock.now(),
            imported_by=imported_by,
            period_start=report.period_start,
            period_end=report.period_end,
            rows=report.rows,
            report_json=json.dumps(body),
        )
        session.add(entry)
        session.flush()
        return report_view(entry)


def find_statement(session: Session, statement_id: int) -> StatementImport:
    entry = session.get(StatementImport, statement_id)
    if entry is None:
        raise StatementNotFound(f"no imported statement {statement_id}")
    return entry


def import_missing_payments(
    pipeline: Pipeline, *, statement_id: int, receipts: list[str] | None
) -> dict[str, list[str]]:
    """Record statement rows pesadesk never heard of as C2B payments: each row goes
    through the callback pipeline (its log row marked `statement`), placed as a
    confirmation would be. Idempotent: a receipt already known is a duplicate."""
    with pipeline.db.read() as session:
        stored = json.loads(find_statement(session, statement_id).report_json)
    missing: dict[str, dict[str, Any]] = stored.get("missing_rows", {})
    wanted = receipts if receipts is not None else list(missing)
    imported: list[str] = []
    skipped: list[str] = []
    for receipt in wanted:
        row = missing.get(receipt.upper())
        if row is None:
            skipped.append(receipt)
            continue
        body = {
            "receipt": receipt.upper(),
            "amount": str(to_decimal(int(row["amount_cents"]))),
            "completed_at": row.get("completed_at"),
            "account_no": row.get("account_no") or "",
            "other_party": row.get("other_party") or "",
            "statement_id": statement_id,
        }
        result = pipeline.run_one(
            Job(source=WebhookSource.C2B_CONFIRMATION.value, raw=json.dumps(body).encode(),
                origin=Origin.STATEMENT)
        )  # fmt: skip
        done = result.outcome is not None and not result.outcome.duplicate
        (imported if done else skipped).append(receipt.upper())
    return {"imported": imported, "skipped": skipped}


def list_statements(db: Database, page: PageRequest) -> Page:
    with db.read() as session:
        return newest_first(
            session, select(StatementImport), page, keys=[(StatementImport.id, int)],
            view=summary_view,
        )  # fmt: skip


def get_statement(db: Database, statement_id: int) -> dict[str, Any]:
    with db.read() as session:
        return report_view(find_statement(session, statement_id))
