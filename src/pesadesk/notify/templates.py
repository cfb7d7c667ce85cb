"""Message texts. Shapes the seed fixed: `Order #123`, `KES 500.00`, `+254722000000`."""

from __future__ import annotations

from pesadesk.core.money import format_kes
from pesadesk.core.phone import display_phone


def order_paid(
    *, order_id: int, amount_cents: int, receipt: str | None, phone: str, location: str
) -> str:
    return (
        "New paid order!\n"
        f"Order #{order_id}\n"
        f"Amount: {format_kes(amount_cents)}\n"
        f"M-Pesa receipt: {receipt or 'pending'}\n"
        f"Customer: {display_phone(phone)}\n"
        f"Deliver to: {location}\n"
        "Order confirmed and ready to prepare!"
    )


def order_payment_failed(*, order_id: int, amount_cents: int, status: str, reason: str) -> str:
    return f"Payment {status} for Order #{order_id} ({format_kes(amount_cents)}): {reason}"


def paid_but_not_pending(
    *, order_id: int, amount_cents: int, receipt: str | None, status: str
) -> str:
    return (
        f"Payment of {format_kes(amount_cents)} received for Order #{order_id} "
        f"(receipt {receipt or 'pending'}), but the order is {status}: refund or reinstate it."
    )
