"""A customer's statement of account, read from the ledger: one line per journal that
touched what they owe, in the order it happened, with the running balance."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pesadesk.core.money import format_kes, to_json_number
from pesadesk.db.models import LedgerEntry, LedgerJournal
from pesadesk.ledger.rules import RECEIVABLE

# journal kind -> (line kind, what a person reads)
_KINDS = {
    "invoice": ("invoice", "Invoice {ref}"),
    "payment": ("payment", "Payment {ref}"),
    "allocate": ("payment", "Payment {ref} placed"),
    "credit": ("credit_applied", "Credit applied to {ref}"),
    "refund": ("refund", "Refund {ref}"),
}


def statement_lines(session: Session, customer_pk: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(
            LedgerJournal.journal_id,
            LedgerJournal.kind,
            LedgerJournal.reference,
            LedgerJournal.created_at,
            func.sum(LedgerEntry.debit_cents),
            func.sum(LedgerEntry.credit_cents),
        )
        .join(LedgerEntry, LedgerEntry.journal_id == LedgerJournal.journal_id)
        .where(LedgerEntry.customer_pk == customer_pk, LedgerEntry.account == RECEIVABLE)
        .group_by(
            LedgerJournal.journal_id,
            LedgerJournal.kind,
            LedgerJournal.reference,
            LedgerJournal.created_at,
        )
        .order_by(LedgerJournal.created_at, LedgerJournal.journal_id)
    ).all()
    lines: list[dict[str, Any]] = []
    balance = 0
    for journal_id, kind, reference, created_at, debit, credit in rows:
        net = int(debit) - int(credit)
        balance += net
        line_kind, text = _KINDS.get(kind, (kind, "{ref}"))
        ref = reference or journal_id.partition(":")[2]
        description = text.format(ref=ref)
        if net == 0 and int(debit):
            description += f" ({format_kes(int(debit))})"
        lines.append(
            {
                "date": created_at.isoformat(),
                "kind": line_kind,
                "reference": ref,
                "description": description,
                "debit": to_json_number(max(net, 0)),
                "credit": to_json_number(max(-net, 0)),
                "balance": to_json_number(balance),
            }
        )
    return lines
