"""Answers about money coming in: payments, their ledger legs, orders and STK Push."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, RootModel

from pesadesk.api.schemas.common import Answer, Kes, Page, Phone, SeedTime, Time
from pesadesk.core.statuses import PaymentStatus
from pesadesk.stk.rules import OrderStatus

PaymentId = Annotated[
    str,
    Field(
        description="`PAY-{order}-{unix}` (STK Push) or `PAY-C2B-{TransID}` (paybill, till)",
        examples=["PAY-C2B-RKL51ZDR4F"],
    ),
]


class Payment(Answer):
    """The seed's payment object (CONTRACT §4), plus where the money went."""

    id: PaymentId
    order_id: int | None = Field(description="The order (STK Push); null for C2B")
    amount: Kes
    currency: Literal["KES"]
    method: Literal["mpesa"]
    status: PaymentStatus
    phone: str | None = Field(
        description="As M-Pesa sent it: 2547XXXXXXXX, or masked (`2547 ***** 126`) for C2B",
        examples=["254722000000"],
    )
    reference: str | None = Field(
        description="`Order #123` (STK Push) or the BillRefNumber as sent (C2B)",
        examples=["INV-20260206-0001"],
    )
    provider_ref: str | None = Field(
        description="CheckoutRequestID (STK Push) or TransID (C2B)", examples=["RKL51ZDR4F"]
    )
    receipt: str | None = Field(description="The M-Pesa receipt", examples=["RKL51ZDR4F"])
    source: Literal["stk", "c2b"]
    account: str | None = Field(description="The collection account", examples=["default"])
    shortcode: str | None = Field(examples=["600966"])
    created_at: SeedTime
    updated_at: SeedTime
    paid_at: SeedTime | None = Field(description="When M-Pesa says the customer paid")
    msisdn_hash: str | None = Field(
        description="SHA-256 of the payer's number, when C2B sent it hashed", examples=[None]
    )
    payer_name: str | None = Field(examples=["NICHOLAS"])
    customer_id: str | None = Field(examples=["CUST-001"])
    invoice_id: str | None = Field(examples=["INV-20260206-0001"])
    pos_id: str | None = Field(examples=[None])
    unplaced_amount: Kes = Field(
        description="Money not yet on an invoice or account", examples=[0.0]
    )
    result_code: str | None = Field(description="M-Pesa's result code", examples=["0"])
    result_desc: str | None = Field(examples=["The service request is processed successfully."])
    needs_review: bool = Field(description="A person must look at it (POST …/review closes it)")


class PaymentList(Page[Payment]):
    """Payments, newest first."""


class LedgerLeg(Answer):
    journal_id: str = Field(examples=["payment:PAY-C2B-RKL51ZDR4F"])
    kind: str = Field(examples=["payment"])
    account: str = Field(description="cash, receivable, sales or suspense", examples=["cash"])
    debit: Kes = Field(examples=[3000.0])
    credit: Kes = Field(examples=[0.0])
    invoice_id: str | None = Field(examples=["INV-20260206-0001"])
    customer_id: str | None = Field(examples=["CUST-001"])
    created_at: Time


class PaymentLedger(Answer):
    """The ledger legs a payment's money moved by (receipt, placement, refunds)."""

    data: list[LedgerLeg]


class Order(Answer):
    id: int = Field(examples=[123])
    status: OrderStatus
    customer_phone: Phone
    amount: Kes
    delivery_location: str = Field(examples=["Kilimani, Nairobi"])
    items: list[dict[str, Any]] = Field(examples=[[{"name": "Chapati", "quantity": 5}]])
    created_at: Time
    updated_at: Time


class OrderList(Page[Order]):
    """Orders, newest first."""


class PayAccepted(Answer):
    """Daraja took the STK Push: the PIN prompt is on its way to the phone."""

    payment_id: str = Field(examples=["PAY-123-1770368400"])
    order_id: int = Field(examples=[123])
    status: Literal["processing"]
    provider_ref: str | None = Field(
        description="Daraja's CheckoutRequestID", examples=["ws_CO_191220191020363925"]
    )
    amount: Kes
    message: str = Field(examples=["Success. Request accepted for processing"])


class PaymentListing(RootModel[list[Payment] | PaymentList]):
    """Without `limit` or `cursor`: every matching payment as a plain array (the seed's
    shape, streamed); with either: one page."""


CSV_EXAMPLE = (
    "id,order_id,amount,currency,method,status,phone,reference,provider_ref,receipt,source,"
    "created_at,updated_at,customer_id,invoice_id,pos_id,account,shortcode,paid_at\r\n"
    "PAY-C2B-RKL51ZDR4F,,3000.0,KES,mpesa,completed,2547 ***** 126,INV-20260206-0001,"
    "RKL51ZDR4F,RKL51ZDR4F,c2b,2026-02-06 12:00:00,2026-02-06 12:00:00,CUST-001,"
    "INV-20260206-0001,,default,600966,2026-02-06 12:00:00\r\n"
)
