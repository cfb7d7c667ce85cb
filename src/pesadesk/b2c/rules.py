"""The rules of money going out over B2C, with no I/O: statuses, commands, limits, and
the errors a refund or payout can be refused with."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from pesadesk.core.errors import Conflict, Forbidden, InvalidInput, NotFound, PesadeskError
from pesadesk.core.money import format_kes
from pesadesk.core.statuses import PaymentStatus

PENDING_APPROVAL = "pending_approval"
PROCESSING = "processing"
COMPLETED = "completed"
FAILED = "failed"
REJECTED = "rejected"
STATUSES = (PENDING_APPROVAL, PROCESSING, COMPLETED, FAILED, REJECTED)
COMMANDS = ("BusinessPayment", "SalaryPayment", "PromotionPayment")
REFUNDABLE = (PaymentStatus.COMPLETED.value, PaymentStatus.PARTIALLY_REFUNDED.value)
CHECK_BASE_SECONDS = 30.0
FIRST_CHECK_AFTER = timedelta(minutes=10)  # no result by then (or a crash): ask
CHECK_CAP_SECONDS = 900.0


class B2CNotConfigured(PesadeskError):
    """M-Pesa B2C (refunds) not configured. Contact admin."""

    code = "b2c_not_configured"


class RefundNotFound(NotFound):
    """Raised when no refund has that id."""

    code = "refund_not_found"


class RefundNotAllowed(Conflict):
    """Raised when the payment cannot be refunded in its present state."""

    code = "refund_not_allowed"


class RefundAmountInvalid(InvalidInput):
    """Raised when a refund amount is outside the limits or above what remains."""

    code = "refund_amount_invalid"


class InsufficientFunds(Conflict):
    """Raised when the B2C utility account is known to hold less than the refund."""

    code = "insufficient_funds"


class RefundNotPending(Conflict):
    """Raised when a refund is no longer waiting for approval."""

    code = "refund_not_pending"


class SamePerson(Forbidden):
    """Raised when the person who asked for a refund tries to approve or reject it."""

    code = "same_person"


@dataclass(frozen=True)
class NewRefund:
    payment_id: str
    amount_cents: int | None
    reason: str | None
    command_id: str | None


@dataclass(frozen=True)
class NewPayout:
    phone: str
    amount_cents: int
    command_id: str | None
    remarks: str | None


def originator_id(refund_id: str) -> str:
    """Our OriginatorConversationID: the refund id plus a random part, because refund ids
    restart with a new database and a sandbox shortcode is shared by every developer, and
    Daraja (and Transaction Status) must never take one refund for another."""
    return f"pesadesk-{refund_id}-{secrets.token_hex(4)}"


def command(command_id: str | None) -> str:
    chosen = command_id or "BusinessPayment"
    if chosen not in COMMANDS:
        raise InvalidInput(f"command_id must be one of {', '.join(COMMANDS)}")
    return chosen


def check_limits(amount: int, *, min_shillings: int, max_shillings: int) -> None:
    """Within `refunds.min_amount`..`refunds.max_amount`, in whole shillings."""
    low, high = min_shillings * 100, max_shillings * 100
    if amount < low:
        raise RefundAmountInvalid(f"{format_kes(amount)} is under the minimum {format_kes(low)}")
    if amount > high:
        raise RefundAmountInvalid(f"{format_kes(amount)} is over the maximum {format_kes(high)}")
    if amount % 100:
        raise RefundAmountInvalid("B2C pays whole shillings only")


def needs_approval(amount: int, *, threshold_shillings: int) -> bool:
    """Above `refunds.approval_threshold` a second person must approve."""
    return amount > threshold_shillings * 100


def remaining(amount_cents: int, reserved_cents: int) -> int:
    """What is left to refund of a payment once other refunds are reserved."""
    return amount_cents - reserved_cents
