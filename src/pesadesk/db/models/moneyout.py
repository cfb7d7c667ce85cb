"""Money going out: refunds and payouts, customers' requests, the B2C balance."""

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


class Refund(Base):
    """Money going out over B2C: a refund of a payment, or a payout (reward, compensation)."""

    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    refund_id: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    account: Mapped[str | None] = mapped_column(String(40))  # whose B2C pays it out
    payment_id: Mapped[str | None] = mapped_column(ForeignKey("payments.id"), index=True)
    phone: Mapped[str] = mapped_column(String(12))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    command_id: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), index=True)
    requested_by: Mapped[str] = mapped_column(String(100))  # the key's name
    requested_owner: Mapped[str | None] = mapped_column(String(100))  # the person
    requested_key_id: Mapped[int | None] = mapped_column(Integer)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    originator_conversation_id: Mapped[str] = mapped_column(String(100), unique=True)
    conversation_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    receipt: Mapped[str | None] = mapped_column(String(40), unique=True)
    result_code: Mapped[str | None] = mapped_column(String(20))
    result_desc: Mapped[str | None] = mapped_column(String(300))
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    checks: Mapped[int] = mapped_column(Integer, default=0)
    # Daraja's ConversationID for pesadesk's latest Transaction Status question about this
    # refund: an answer from an unproven origin must name it (CONTRACT §8).
    check_token: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (CheckConstraint("amount_cents > 0", name="amount_positive"),)


class RefundRequest(Base):
    """A customer's own request for their money back (CONTRACT §9): `matched` (a refund
    waits for approval), `refused` (it matched, the refund rules said no) or `unmatched`."""

    __tablename__ = "refund_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(String(40), unique=True)
    receipt: Mapped[str] = mapped_column(String(40), index=True)
    phone: Mapped[str] = mapped_column(String(12))
    amount_cents: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(12))
    note: Mapped[str | None] = mapped_column(String(300))
    refund_id: Mapped[str | None] = mapped_column(String(40))
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BalanceSnapshot(Base):
    """A B2C shortcode's utility account funds as Daraja last reported them."""

    __tablename__ = "balance_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(40))
    available_cents: Mapped[int] = mapped_column(BigInteger)
    current_cents: Mapped[int | None] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(40))
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
