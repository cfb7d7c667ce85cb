"""How an incoming amount is spread over what a customer owes.

Rules (the seed's Kelly OS flow):
- a payment for one invoice pays that invoice first;
- anything left (and any payment to the customer's account) pays the oldest unpaid
  invoices first (FIFO);
- what is still left becomes credit on the account (the balance goes negative);
- a new invoice for a customer holding credit is paid from that credit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class OpenInvoice:
    """An invoice that can still take money: `due_cents` = amount - paid > 0."""

    key: int
    due_cents: int

    def __post_init__(self) -> None:
        if self.due_cents <= 0:
            raise ValueError("an open invoice owes something")


@dataclass(frozen=True)
class Allocation:
    """`cents` placed on invoice `invoice_key`, or left as credit when it is None."""

    invoice_key: int | None
    cents: int


def allocate(
    amount_cents: int,
    open_invoices: Sequence[OpenInvoice],
    *,
    target: int | None = None,
) -> list[Allocation]:
    """Spread `amount_cents`: the `target` invoice first, then oldest first, then credit.

    `open_invoices` must be ordered oldest first. The parts always add up to the amount,
    and no invoice receives more than it owes.
    """
    if amount_cents <= 0:
        raise ValueError("only a positive amount can be allocated")
    ordered = list(open_invoices)
    if target is not None:
        ordered.sort(key=lambda inv: inv.key != target)  # stable: target first, rest FIFO
    parts: list[Allocation] = []
    left = amount_cents
    for invoice in ordered:
        if left == 0:
            break
        take = min(left, invoice.due_cents)
        parts.append(Allocation(invoice.key, take))
        left -= take
    if left:
        parts.append(Allocation(None, left))
    return parts


def credit_to_apply(credit_cents: int, invoice_due_cents: int) -> int:
    """How much of a customer's credit a new invoice takes."""
    return max(0, min(credit_cents, invoice_due_cents))
