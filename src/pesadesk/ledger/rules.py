"""Posting rules: each business event becomes balanced, immutable ledger legs.

Accounts:
- `cash`       money received on M-Pesa (debit when it arrives);
- `receivable` what customers owe (debit when invoiced, credit when paid; a customer's
               receivable sum below zero is credit held for them);
- `sales`      invoiced income (credit when invoiced);
- `suspense`   money received but not placed yet (credit on arrival, debit when placed).

A leg on `receivable` with an invoice belongs to that invoice; without one it is the
customer's unapplied credit. Every journal's debits equal its credits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pesadesk.receivables.rules import Allocation

CASH = "cash"
RECEIVABLE = "receivable"
SALES = "sales"
SUSPENSE = "suspense"


@dataclass(frozen=True)
class Leg:
    kind: str
    account: str
    debit_cents: int = 0
    credit_cents: int = 0
    customer_key: int | None = None
    invoice_key: int | None = None

    def __post_init__(self) -> None:
        if (self.debit_cents > 0) == (self.credit_cents > 0) or min(
            self.debit_cents, self.credit_cents
        ) < 0:
            raise ValueError("a leg has exactly one positive side")


def is_balanced(legs: Iterable[Leg]) -> bool:
    legs = list(legs)
    return sum(leg.debit_cents for leg in legs) == sum(leg.credit_cents for leg in legs)


def invoice_issued(*, invoice_key: int, customer_key: int | None, amount_cents: int) -> list[Leg]:
    return [
        Leg("invoice_issued", RECEIVABLE, debit_cents=amount_cents,
            customer_key=customer_key, invoice_key=invoice_key),
        Leg("invoice_issued", SALES, credit_cents=amount_cents, invoice_key=invoice_key),
    ]  # fmt: skip


def payment_received(amount_cents: int) -> Leg:
    return Leg("payment_received", CASH, debit_cents=amount_cents)


def placed(
    parts: Sequence[Allocation], *, customer_key: int | None, kind: str = "payment_placed"
) -> list[Leg]:
    """Receivable credits for each part: on its invoice, or as the customer's credit."""
    return [
        Leg(kind, RECEIVABLE, credit_cents=part.cents, customer_key=customer_key,
            invoice_key=part.invoice_key)
        for part in parts
    ]  # fmt: skip


def held_in_suspense(amount_cents: int, kind: str = "unallocated") -> Leg:
    return Leg(kind, SUSPENSE, credit_cents=amount_cents)


def released_from_suspense(amount_cents: int) -> Leg:
    return Leg("allocated_later", SUSPENSE, debit_cents=amount_cents)


def credit_applied(*, customer_key: int, invoice_key: int, amount_cents: int) -> list[Leg]:
    """Move a customer's unapplied credit onto one invoice."""
    return [
        Leg("credit_applied", RECEIVABLE, debit_cents=amount_cents, customer_key=customer_key),
        Leg("credit_applied", RECEIVABLE, credit_cents=amount_cents,
            customer_key=customer_key, invoice_key=invoice_key),
    ]  # fmt: skip
