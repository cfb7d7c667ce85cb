"""Status vocabularies shared by the API, the services and the database."""

from __future__ import annotations

from enum import StrEnum


class InvoiceStatus(StrEnum):
    UNPAID = "UNPAID"
    PARTIALLY_PAID = "PARTIALLY_PAID"
    PAID = "PAID"
    CANCELLED = "CANCELLED"


class SaleStatus(StrEnum):
    PENDING = "PENDING"
    PARTIALLY_PAID = "PARTIALLY_PAID"
    PAID = "PAID"


class PaymentStatus(StrEnum):
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMEOUT = "timeout"
    UNALLOCATED = "unallocated"
    PENDING_VERIFICATION = "pending_verification"  # waits for Daraja to confirm it (§8)
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"


class WebhookSource(StrEnum):
    STK = "stk"
    C2B_VALIDATION = "c2b_validation"
    C2B_CONFIRMATION = "c2b_confirmation"
    B2C_RESULT = "b2c_result"
    B2C_TIMEOUT = "b2c_timeout"


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    def allows(self, needed: Role) -> bool:
        order = (Role.VIEWER, Role.OPERATOR, Role.ADMIN)
        return order.index(self) >= order.index(needed)


def invoice_status(amount_cents: int, paid_cents: int) -> InvoiceStatus:
    """UNPAID, PARTIALLY_PAID or PAID from what has been paid against the amount."""
    if not 0 <= paid_cents <= amount_cents:
        raise ValueError(f"paid {paid_cents} outside 0..{amount_cents}")
    if paid_cents == 0:
        return InvoiceStatus.UNPAID
    if paid_cents < amount_cents:
        return InvoiceStatus.PARTIALLY_PAID
    return InvoiceStatus.PAID
