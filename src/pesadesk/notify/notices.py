"""The WhatsApp messages people get when money moves: a consumer of domain events.

Admins hear of every order payment (paid, or failed with the reason, or paid for an order
that was cancelled meanwhile); a customer hears when their refund or payout has left.
Each message is an outbox row with a dedupe key, one per recipient, so an event seen
twice (a replayed callback) never queues a second message.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pesadesk.config import Settings
from pesadesk.core.events import (
    PaymentCompleted,
    PaymentFailed,
    PayoutCompleted,
    RefundCompleted,
)
from pesadesk.core.money import format_kes
from pesadesk.db.models import Order, Refund
from pesadesk.events.types import Published
from pesadesk.notify import templates
from pesadesk.notify.admins import WHATSAPP_TEXT, notify_admins
from pesadesk.outbox import store as outbox


def _orders(session: Session, payments: list[Any]) -> dict[int, Order]:
    ids = {p.order_id for p in payments if p.order_id is not None}
    if not ids:
        return {}
    return {o.id: o for o in session.execute(select(Order).where(Order.id.in_(ids))).scalars()}


def _order_text(event: object, payment: Any, order: Order) -> tuple[str, str]:
    """(dedupe event name, text) for an order's payment."""
    if isinstance(event, PaymentFailed):
        text = templates.order_payment_failed(
            order_id=order.id, amount_cents=payment.amount_cents, status=payment.status,
            reason=payment.result_desc or payment.status,
        )  # fmt: skip
        return "unpaid", text
    if payment.needs_review:  # the order was cancelled while its prompt was open
        text = templates.paid_but_not_pending(
            order_id=order.id, amount_cents=payment.amount_cents, receipt=payment.receipt,
            status=order.status,
        )  # fmt: skip
        return "paid", text
    text = templates.order_paid(
        order_id=order.id, amount_cents=payment.amount_cents, receipt=payment.receipt,
        phone=payment.phone or order.customer_phone, location=order.delivery_location,
    )  # fmt: skip
    return "paid", text


def order_notices(
    session: Session, published: Sequence[Published], settings: Settings, now: datetime
) -> None:
    """Tell the admins about order payments that settled."""
    if not settings.whatsapp.enabled:
        return
    settled = [p for p in published if isinstance(p.event, PaymentCompleted | PaymentFailed)]
    payments = [p.row for p in settled if p.row.order_id is not None]
    orders = _orders(session, payments)
    for item in settled:
        payment = item.row
        order = orders.get(payment.order_id) if payment.order_id is not None else None
        if order is None:
            continue
        name, text = _order_text(item.event, payment, order)
        notify_admins(session, settings=settings, event=name, subject=payment.id, text=text,
                      now=now)  # fmt: skip


def refund_notices(
    session: Session, published: Sequence[Published], settings: Settings, now: datetime
) -> None:
    """Tell the customer their refund or payout has been sent."""
    if not settings.whatsapp.enabled:
        return
    for item in published:
        refund = item.row
        if not isinstance(item.event, RefundCompleted | PayoutCompleted):
            continue
        assert isinstance(refund, Refund)
        text = (
            f"Your M-Pesa {refund.kind} of {format_kes(refund.amount_cents)} has been sent"
            f" (receipt {refund.receipt or 'pending'})."
        )
        outbox.enqueue(session, kind=WHATSAPP_TEXT, dedupe_key=f"wa:refund:{refund.refund_id}",
                       payload={"to": refund.phone, "body": text}, now=now)  # fmt: skip
