"""Domain events: what changed about money, said once, in the transaction that changed it.

Code that moves money returns (or publishes) these; `pesadesk.events.publish` stores
them with a snapshot of the object after the change and hands them to the consumers that
run in the same transaction (the admins' WhatsApp notices, the signed webhooks). Each
event names its subject by the key the code holding it has at hand; the publisher looks
the objects up for all events of a transaction at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class Event:
    """Something that happened to money; `type` is its public name (CONTRACT §10)."""

    type: ClassVar[str] = ""


@dataclass(frozen=True)
class PaymentEvent(Event):
    payment_id: str


@dataclass(frozen=True)
class PaymentCompleted(PaymentEvent):
    """Money arrived: an STK payment succeeded or a C2B payment was recorded (placed or
    kept unallocated)."""

    type: ClassVar[str] = "payment.completed"


@dataclass(frozen=True)
class PaymentFailed(PaymentEvent):
    """An STK payment ended without money: failed, cancelled or timed out."""

    type: ClassVar[str] = "payment.failed"


@dataclass(frozen=True)
class PaymentFlagged(PaymentEvent):
    """A payment needs a person: pesadesk will not place or settle it by itself."""

    type: ClassVar[str] = "payment.flagged"
    reason: str = ""


@dataclass(frozen=True)
class InvoiceEvent(Event):
    invoice_pk: int


@dataclass(frozen=True)
class InvoicePaid(InvoiceEvent):
    type: ClassVar[str] = "invoice.paid"


@dataclass(frozen=True)
class InvoicePartiallyPaid(InvoiceEvent):
    type: ClassVar[str] = "invoice.partially_paid"


@dataclass(frozen=True)
class RefundEvent(Event):
    """A refund or payout settled by Daraja's answer."""

    refund_id: str


@dataclass(frozen=True)
class RefundCompleted(RefundEvent):
    type: ClassVar[str] = "refund.completed"


@dataclass(frozen=True)
class RefundFailed(RefundEvent):
    type: ClassVar[str] = "refund.failed"


@dataclass(frozen=True)
class PayoutCompleted(RefundEvent):
    type: ClassVar[str] = "payout.completed"


@dataclass(frozen=True)
class PayoutFailed(RefundEvent):
    type: ClassVar[str] = "payout.failed"


EVENT_TYPES: tuple[type[Event], ...] = (
    PaymentCompleted,
    PaymentFailed,
    PaymentFlagged,
    InvoicePaid,
    InvoicePartiallyPaid,
    RefundCompleted,
    RefundFailed,
    PayoutCompleted,
    PayoutFailed,
)
TYPE_NAMES: tuple[str, ...] = tuple(kind.type for kind in EVENT_TYPES)


def refund_settled(kind: str, succeeded: bool, refund_id: str) -> RefundEvent:
    """The event for a refund (`kind` "refund") or payout that completed or failed."""
    if kind == "payout":
        return PayoutCompleted(refund_id) if succeeded else PayoutFailed(refund_id)
    return RefundCompleted(refund_id) if succeeded else RefundFailed(refund_id)


def invoice_events(touched: Sequence[tuple[int, str]]) -> list[Event]:
    """`invoice.paid` or `invoice.partially_paid` for every invoice money reached, given
    (invoice key, new status)."""
    return [
        InvoicePaid(pk) if status == "PAID" else InvoicePartiallyPaid(pk) for pk, status in touched
    ]
