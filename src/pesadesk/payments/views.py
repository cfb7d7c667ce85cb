"""The JSON shapes the API and CLI show for stored objects (CONTRACT §4)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pesadesk.core.clock import format_seed_time
from pesadesk.core.money import to_json_number
from pesadesk.db.models import Customer, Invoice, Payment, PosSale, Refund, WebhookLog
from pesadesk.receivables.pos import sale_items


def customer_view(customer: Customer) -> dict[str, Any]:
    return {
        "customer_id": customer.customer_id,
        "name": customer.name,
        "phone": customer.phone,
        "balance": to_json_number(customer.balance_cents),
        "credit": to_json_number(max(0, -customer.balance_cents)),
        "created_at": customer.created_at.isoformat(),
    }


class InvoiceFields(Protocol):
    """An invoice's ORM object, or a row of its table (the events' snapshots read rows)."""

    invoice_id: str
    status: str
    amount_cents: int
    amount_paid_cents: int
    description: str | None
    created_at: datetime
    updated_at: datetime


def invoice_view(invoice: InvoiceFields, customer_id: str | None) -> dict[str, Any]:
    return {
        "invoice_id": invoice.invoice_id,
        "customer_id": customer_id,
        "status": invoice.status,
        "amount": to_json_number(invoice.amount_cents),
        "amount_paid": to_json_number(invoice.amount_paid_cents),
        "balance": to_json_number(invoice.amount_cents - invoice.amount_paid_cents),
        "description": invoice.description,
        "created_at": invoice.created_at.isoformat(),
        "updated_at": invoice.updated_at.isoformat(),
    }


def invoice_view_loaded(session: Session, invoice: Invoice) -> dict[str, Any]:
    customer_id = (
        session.execute(
            select(Customer.customer_id).where(Customer.id == invoice.customer_pk)
        ).scalar_one_or_none()
        if invoice.customer_pk
        else None
    )
    return invoice_view(invoice, customer_id)


def sale_view(session: Session, sale: PosSale) -> dict[str, Any]:
    invoice_id = session.execute(
        select(Invoice.invoice_id).where(Invoice.pos_sale_pk == sale.id)
    ).scalar_one_or_none()
    customer_id = (
        session.execute(
            select(Customer.customer_id).where(Customer.id == sale.customer_pk)
        ).scalar_one_or_none()
        if sale.customer_pk
        else None
    )
    return {
        "pos_id": sale.pos_id,
        "status": sale.status,
        "total": to_json_number(sale.total_cents),
        "invoice_id": invoice_id,
        "customer_id": customer_id,
        "items": [
            {
                "product_id": item.product_id,
                "product_name": item.product_name,
                "quantity": item.quantity,
                "unit_price": to_json_number(item.unit_price_cents),
                "line_total": to_json_number(item.line_total_cents),
            }
            for item in sale_items(session, sale)
        ],
        "created_at": sale.created_at.isoformat(),
    }


def payment_view(
    payment: Any,
    *,
    customer_id: str | None = None,
    invoice_id: str | None = None,
    pos_id: str | None = None,
) -> dict[str, Any]:
    """The seed's payment object, plus where the money went."""
    order_ref = f"Order #{payment.order_id}" if payment.order_id is not None else None
    return {
        "id": payment.id,
        "order_id": payment.order_id,
        "amount": to_json_number(payment.amount_cents),
        "currency": payment.currency,
        "method": payment.method,
        "status": payment.status,
        "phone": payment.phone,
        "reference": payment.reference if payment.source == "c2b" else order_ref,
        "provider_ref": payment.provider_ref,
        "receipt": payment.receipt,
        "source": payment.source,
        "account": payment.account,
        "shortcode": payment.shortcode,
        "created_at": format_seed_time(payment.created_at),
        "updated_at": format_seed_time(payment.updated_at),
        "paid_at": format_seed_time(payment.paid_at) if payment.paid_at else None,
        "msisdn_hash": payment.msisdn_hash,
        "payer_name": payment.payer_name,
        "customer_id": customer_id,
        "invoice_id": invoice_id,
        "pos_id": pos_id,
        "unplaced_amount": to_json_number(payment.unplaced_cents),
        "result_code": payment.result_code,
        "result_desc": payment.result_desc,
        "needs_review": payment.needs_review,
    }


# When a payment counts, in date filters and stats: when the customer paid, as M-Pesa
# says (TransTime, the statement's time, the STK result), else when it was created.
BOOKED_AT = func.coalesce(Payment.paid_at, Payment.created_at)


def payment_select() -> Any:
    """Payments with the human ids of where they landed, in one query, as plain rows (no
    ORM objects: lists and the callback path read many, and rows are several times cheaper);
    a row has the payment's columns as attributes, plus `customer_id`, `invoice_id`, `pos_id`."""
    table = Payment.__table__
    return (
        select(*table.columns, Customer.customer_id, Invoice.invoice_id, PosSale.pos_id)
        .outerjoin(Customer, Customer.id == Payment.customer_pk)
        .outerjoin(Invoice, Invoice.id == Payment.invoice_pk)
        .outerjoin(PosSale, PosSale.id == Payment.pos_sale_pk)
    )


def webhook_log_view(entry: WebhookLog) -> dict[str, Any]:
    return {
        "id": entry.id,
        "source": entry.source,
        "origin": entry.origin,
        "raw_payload": entry.raw_body.decode("utf-8", errors="replace"),
        "received_at": entry.received_at.isoformat(),
        "processed": entry.processed,
        "is_duplicate": entry.is_duplicate,
        "flagged": entry.flagged,
        "error": entry.error,
        "error_kind": entry.error_kind,
        "attempts": entry.attempts,
        "remote_addr": entry.remote_addr,
        "external_id": entry.external_id,
    }


def refund_view(refund: Refund) -> dict[str, Any]:
    return {
        "refund_id": refund.refund_id,
        "kind": refund.kind,
        "account": refund.account,
        "payment_id": refund.payment_id,
        "phone": refund.phone,
        "amount": to_json_number(refund.amount_cents),
        "command_id": refund.command_id,
        "reason": refund.reason,
        "status": refund.status,
        "requested_by": refund.requested_by,
        "requested_owner": refund.requested_owner or refund.requested_by,
        "decided_by": refund.decided_by,
        "originator_conversation_id": refund.originator_conversation_id,
        "conversation_id": refund.conversation_id,
        "receipt": refund.receipt,
        "result_code": refund.result_code,
        "result_desc": refund.result_desc,
        "created_at": refund.created_at.isoformat() if refund.created_at else None,
        "updated_at": refund.updated_at.isoformat() if refund.updated_at else None,
    }
