"""Tables. Money columns are integer cents (`*_cents`); times are aware UTC.

Uniqueness that protects money (TransID, receipts, sequence numbers, key hashes) is a
database constraint here, so concurrent requests cannot get around it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pesadesk.db.types import UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (Index(None, "phone_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(12), unique=True)  # one customer a number
    phone_hash: Mapped[str | None] = mapped_column(String(64))
    balance_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PosSale(Base):
    __tablename__ = "pos_sales"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pos_id: Mapped[str] = mapped_column(String(40), unique=True)
    customer_pk: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    total_cents: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (CheckConstraint("total_cents > 0", name="total_positive"),)


class PosSaleItem(Base):
    __tablename__ = "pos_sale_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sale_pk: Mapped[int] = mapped_column(ForeignKey("pos_sales.id"), index=True)
    product_id: Mapped[str] = mapped_column(String(100))
    product_name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_cents: Mapped[int] = mapped_column(BigInteger)
    line_total_cents: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price_cents >= 0", name="price_not_negative"),
    )


class Invoice(Base):
    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[str] = mapped_column(String(40), unique=True)
    customer_pk: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    pos_sale_pk: Mapped[int | None] = mapped_column(ForeignKey("pos_sales.id"), unique=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    amount_paid_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(20))
    description: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint(
            "amount_paid_cents >= 0 AND amount_paid_cents <= amount_cents", name="paid_in_range"
        ),
        Index(None, "customer_pk", "status", "created_at"),
    )


class Payment(Base):
    """One payment attempt or receipt; `id` is `PAY-C2B-{TransID}` or `PAY-{order}-{unix}`."""

    __tablename__ = "payments"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    order_id: Mapped[int | None] = mapped_column(Integer, index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="KES")
    method: Mapped[str] = mapped_column(String(20), default="mpesa")
    status: Mapped[str] = mapped_column(String(24), index=True)
    source: Mapped[str] = mapped_column(String(10))
    # The collection account that took the money, and its shortcode (CONTRACT §9).
    account: Mapped[str | None] = mapped_column(String(40), index=True)
    shortcode: Mapped[str | None] = mapped_column(String(20))
    phone: Mapped[str | None] = mapped_column(String(64))
    msisdn_hash: Mapped[str | None] = mapped_column(String(64))
    payer_name: Mapped[str | None] = mapped_column(String(200))
    reference: Mapped[str | None] = mapped_column(String(100))
    provider_ref: Mapped[str | None] = mapped_column(String(100), unique=True)
    receipt: Mapped[str | None] = mapped_column(String(40), unique=True)
    customer_pk: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    invoice_pk: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    pos_sale_pk: Mapped[int | None] = mapped_column(ForeignKey("pos_sales.id"))
    unplaced_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    refund_reserved_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    refunded_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    merchant_request_id: Mapped[str | None] = mapped_column(String(100))
    result_code: Mapped[str | None] = mapped_column(String(20))
    result_desc: Mapped[str | None] = mapped_column(String(300))
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A callback of unproven origin (or an STK success lacking its receipt) waits for
    # Daraja's confirmation: why, and the receipt it claimed (not unique until confirmed).
    verify_reason: Mapped[str | None] = mapped_column(String(120))
    claimed_status: Mapped[str | None] = mapped_column(String(24))
    claimed_receipt: Mapped[str | None] = mapped_column(String(40))
    # The ConversationID Daraja gave pesadesk's own Transaction Status question about it:
    # only the answer carrying it can confirm the payment (a forger never sees it).
    verify_token: Mapped[str | None] = mapped_column(String(100))
    next_query_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    query_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint("unplaced_cents >= 0", name="unplaced_not_negative"),
        # Refunds asked for (and not failed) can never add up to more than was paid.
        CheckConstraint(
            "refund_reserved_cents >= 0 AND refund_reserved_cents <= amount_cents",
            name="refunds_within_amount",
        ),
        CheckConstraint(
            "refunded_cents >= 0 AND refunded_cents <= refund_reserved_cents",
            name="refunded_within_reserved",
        ),
        # One PIN prompt in flight per order: a second /pay while one waits is refused.
        Index(
            "uq_payments_one_processing_per_order",
            "order_id",
            unique=True,
            sqlite_where=text("status = 'processing' AND order_id IS NOT NULL"),
            postgresql_where=text("status = 'processing' AND order_id IS NOT NULL"),
        ),
    )


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


class WebhookLog(Base):
    """A callback exactly as it arrived, stored before anything reads it."""

    __tablename__ = "webhook_logs"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    source: Mapped[str] = mapped_column(String(30))
    # How it reached us: `callback` (Safaricom over HTTP), `pull` (Pull Transactions),
    # `statement` (a statement row imported by a person).
    origin: Mapped[str] = mapped_column(String(12), default="callback", server_default="callback")
    # The token or the allow-list passed it (or pesadesk asked Daraja itself): CONTRACT §8.
    proven: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    raw_body: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(100))
    processed: Mapped[bool] = mapped_column(Boolean, default=False)
    is_duplicate: Mapped[bool] = mapped_column(Boolean, default=False)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)
    # Why it is not processed: `invalid` (malformed), `review` (needs a person), `refused`
    # (token or address), `transient` (lock timeout, deadlock: retried), `failed` (other).
    error_kind: Mapped[str | None] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index(None, "processed", "flagged", "received_at"),
        Index(None, "source", "external_id"),
    )


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    owner: Mapped[str] = mapped_column(String(100), default="", server_default="")
    role: Mapped[str] = mapped_column(String(20))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("role IN ('viewer', 'operator', 'admin')", name="role_known"),
    )


class Event(Base):
    """A money change, written in the transaction that made it (CONTRACT §10). `data` is
    the changed object as the API shows it."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(100))
    data: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    __table_args__ = (Index(None, "type", "id"),)


class RateLimit(Base):
    """Requests counted per key and minute, shared by every process on the database."""

    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)


class SaleQr(Base):
    """The Dynamic QR Daraja made for a POS sale, kept so it is asked for once."""

    __tablename__ = "sale_qr_codes"

    sale_pk: Mapped[int] = mapped_column(ForeignKey("pos_sales.id"), primary_key=True)
    account: Mapped[str] = mapped_column(String(40), primary_key=True)
    png: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Sequence(Base):
    """Counters for human ids (`INV-20260206` -> 17); bumped with one atomic upsert."""

    __tablename__ = "sequences"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class Order(Base):
    """A customer's order, paid by STK Push (the Hive flow)."""

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_phone: Mapped[str] = mapped_column(String(12))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    delivery_location: Mapped[str] = mapped_column(String(300))
    items_json: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (CheckConstraint("amount_cents > 0", name="amount_positive"),)


class OutboxMessage(Base):
    """Work to do after a commit (WhatsApp, STK queries), written in the same transaction
    as the change that caused it. `dedupe_key` makes a replayed callback a no-op."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index(None, "status", "next_attempt_at"),)


class IdempotencyKey(Base):
    """The first result of a money-moving request, replayed for the same key and body."""

    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    response_json: Mapped[str | None] = mapped_column(Text)  # the service's result
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("scope", "key"),)


class StatementImport(Base):
    """One imported M-Pesa statement and the match report made from it."""

    __tablename__ = "statement_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    filename: Mapped[str] = mapped_column(String(300))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    imported_by: Mapped[str | None] = mapped_column(String(100))
    period_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    period_end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rows: Mapped[int] = mapped_column(Integer)
    report_json: Mapped[str] = mapped_column(Text)


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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (CheckConstraint("amount_cents > 0", name="amount_positive"),)


class AuditEntry(Base):
    """Append-only record of financial operations and approvals. Each row carries the
    hash of the one before, so editing or removing a row breaks the chain."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(100))
    before_json: Mapped[str | None] = mapped_column(Text)
    after_json: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)  # the chain cannot fork
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class BalanceSnapshot(Base):
    """A B2C shortcode's utility account funds as Daraja last reported them."""

    __tablename__ = "balance_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(40))
    available_cents: Mapped[int] = mapped_column(BigInteger)
    current_cents: Mapped[int | None] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(40))
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
