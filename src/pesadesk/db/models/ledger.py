"""The ledger: journal headers and their immutable legs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from pesadesk.db.models.base import Base
from pesadesk.db.types import UTCDateTime


class LedgerJournal(Base):
    """A journal's header, written after its legs: the database refuses it unless the legs
    balance, refuses legs for a journal already closed, and (the legs' deferred foreign key)
    refuses a commit with legs but no header. Headers and legs are never updated or deleted.
    """

    __tablename__ = "ledger_journals"

    journal_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    reference: Mapped[str | None] = mapped_column(String(100))
    memo: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class LedgerEntry(Base):
    """One immutable leg of a money movement. Rows are never updated or deleted.

    Accounts: `cash` (M-Pesa money held), `receivable` (what customers owe; a negative
    sum is credit), `sales` (invoiced income), `suspense` (money not yet placed).
    """

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    journal_id: Mapped[str] = mapped_column(
        ForeignKey("ledger_journals.journal_id", deferrable=True, initially="DEFERRED"),
        index=True,
    )
    kind: Mapped[str] = mapped_column(String(30))
    account: Mapped[str] = mapped_column(String(20))
    customer_pk: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    invoice_pk: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    payment_id: Mapped[str | None] = mapped_column(ForeignKey("payments.id"), index=True)
    debit_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    credit_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint(
            "(debit_cents > 0 AND credit_cents = 0) OR (credit_cents > 0 AND debit_cents = 0)",
            name="one_side_positive",
        ),
    )
