"""Customers, what they owe and buy, orders, and the payments that pay them."""

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
    String,
    Text,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from pesadesk.db.models.base import Base
from pesadesk.db.types import UTCDateTime


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


class SaleQr(Base):
    """The Dynamic QR Daraja made for a POS sale, kept so it is asked for once."""

    __tablename__ = "sale_qr_codes"

    sale_pk: Mapped[int] = mapped_column(ForeignKey("pos_sales.id"), primary_key=True)
    account: Mapped[str] = mapped_column(String(40), primary_key=True)
    png: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
