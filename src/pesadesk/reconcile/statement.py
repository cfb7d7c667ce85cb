"""Reading the M-Pesa org-portal statement export (CSV).

Layout (reference §13): a few preamble lines (`Time Period:,From,<start>,To,<end>` among
them), then the 13-column header `Receipt No.,Completion Time,...,A/C No.`, then one
row per transaction. Dates are day-first Nairobi time, sometimes without seconds;
amounts may carry thousands separators in quotes; withdrawals may be negative.
Rows are yielded one at a time so a million-row file never sits in memory.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pesadesk.core.clock import EAT
from pesadesk.core.errors import InvalidInput
from pesadesk.core.money import to_cents

HEADER_FIRST = "receipt no."
DATE_FORMATS = (
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
)


class StatementError(InvalidInput):
    """Raised when a file is not an M-Pesa statement export we can read."""

    code = "invalid_statement"


@dataclass(frozen=True)
class StatementRow:
    line: int
    receipt: str
    completed_at: datetime | None
    status: str
    paid_in_cents: int
    withdrawn_cents: int
    details: str
    reason_type: str
    other_party: str
    account_no: str

    @property
    def completed(self) -> bool:
        return self.status.strip().lower() == "completed"


@dataclass
class StatementHeader:
    period_start: datetime | None = None
    period_end: datetime | None = None


def parse_time(text: str) -> datetime:
    """A statement time (Nairobi) as aware UTC."""
    value = text.strip()
    for fmt in DATE_FORMATS:
        try:
            parsed = datetime.strptime(value, fmt)  # noqa: DTZ007 - EAT attached below
        except ValueError:
            continue
        return parsed.replace(tzinfo=EAT).astimezone(UTC)
    raise StatementError(f"unreadable time {value!r}")


def _amount(text: str | None, line: int, column: str) -> int:
    value = (text or "").strip().strip('"')
    if not value:
        return 0
    try:
        return to_cents(value)
    except InvalidInput:
        raise StatementError(f"line {line}: {column} {value!r} is not an amount") from None


def _preamble(cells: list[str], header: StatementHeader) -> None:
    if cells and cells[0].strip().lower().startswith("time period"):
        stamps = [c for c in cells[1:] if c.strip() and c.strip().lower() not in ("from", "to")]
        if len(stamps) >= 2:
            header.period_start = parse_time(stamps[0])
            header.period_end = parse_time(stamps[1])


# M-Pesa receipts are short runs of capitals and digits (`RKL51ZDR4F`, `QGK12XYZ9`).
RECEIPT = re.compile(r"[A-Z0-9]{8,12}")


def read_statement(lines: Iterable[str], header: StatementHeader) -> Iterator[StatementRow]:
    """Rows of the statement; fills `header` from the preamble as it goes."""
    reader = csv.reader(lines)
    try:
        yield from _rows(reader, header)
    except csv.Error as exc:  # a field over 128 KB, a stray NUL, a broken quote
        raise StatementError(f"line {reader.line_num}: not a CSV row ({exc})") from None


def _rows(reader: Any, header: StatementHeader) -> Iterator[StatementRow]:
    columns: dict[str, int] | None = None
    for cells in reader:
        line = reader.line_num
        if columns is None:
            if cells and cells[0].strip().lower().lstrip("\ufeff") == HEADER_FIRST:
                columns = {name.strip().lower(): i for i, name in enumerate(cells)}
                missing = {"receipt no.", "completion time", "transaction status", "paid in",
                           "withdrawn"} - columns.keys()  # fmt: skip
                if missing:
                    raise StatementError(f"header lacks {', '.join(sorted(missing))}")
            else:
                _preamble(cells, header)
            continue
        if not any(cell.strip() for cell in cells):
            continue

        def cell(name: str, cells: list[str] = cells, columns: dict[str, int] = columns) -> str:
            index = columns.get(name)
            return cells[index].strip() if index is not None and index < len(cells) else ""

        receipt = cell("receipt no.").upper()
        if not receipt:
            raise StatementError(f"line {line}: no receipt number")
        if not RECEIPT.fullmatch(receipt):
            raise StatementError(f"line {line}: {receipt[:40]!r} is not an M-Pesa receipt")
        when = cell("completion time") or cell("initiation time")
        yield StatementRow(
            line=line,
            receipt=receipt,
            completed_at=parse_time(when) if when else None,
            status=cell("transaction status"),
            paid_in_cents=_amount(cell("paid in"), line, "Paid In"),
            withdrawn_cents=abs(_amount(cell("withdrawn"), line, "Withdrawn")),
            details=cell("details"),
            reason_type=cell("reason type"),
            other_party=cell("other party info"),
            account_no=cell("a/c no."),
        )
    if columns is None:
        raise StatementError(
            "no 'Receipt No.,Completion Time,...' header: is this an M-Pesa statement export?"
        )
