"""Money is integer cents inside pesadesk; Decimal only at the edges.

Daraja sends amounts as strings ("5000.00") or JSON numbers (1.00); both are parsed
through `Decimal` so that no float ever takes part in arithmetic.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from pesadesk.core.errors import InvalidAmount, LossyAmount

CENTS = 100
# Far above any real M-Pesa amount, far below what a 64-bit cents column holds: an amount
# above it is refused as input, never left to overflow a column or a sum.
MAX_CENTS = 10**14
# How an amount is written, in a callback, a statement or a request: ASCII digits, an
# optional sign and decimal point. `Decimal` alone would also take "1_000", "1e3" and
# digits of other scripts, none of which Daraja sends.
AMOUNT_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def to_cents(value: object) -> int:
    """Exact cents of `value` (str, int, Decimal); refuses anything lossy or non-numeric."""
    if isinstance(value, bool):
        raise InvalidAmount(f"amount must be a number, got {value!r}")
    if isinstance(value, float):
        # JSON numbers decoded without parse_float=Decimal: go through their shortest repr.
        value = repr(value)
    elif isinstance(value, str):
        value = value.strip().replace(",", "")
        if not AMOUNT_TEXT.fullmatch(value):
            raise InvalidAmount(f"amount must be a number, got {value!r}")
    try:
        amount = Decimal(value)  # type: ignore[arg-type]
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidAmount(f"amount must be a number, got {value!r}") from None
    if not amount.is_finite():
        raise InvalidAmount(f"amount must be finite, got {value!r}")
    cents = amount * CENTS
    if abs(cents) > MAX_CENTS:
        raise InvalidAmount(f"amount {value!r} is too large")
    if cents != cents.to_integral_value():
        raise LossyAmount(f"amount {value!r} has more than 2 decimal places")
    return int(cents)


def positive_cents(value: object) -> int:
    """Like `to_cents`, but zero and negative amounts are refused."""
    cents = to_cents(value)
    if cents <= 0:
        raise InvalidAmount(f"amount must be greater than zero, got {value!r}")
    return cents


def whole_shillings(cents: int) -> int:
    """Shillings for STK Push and B2C, which take whole numbers only; never rounds."""
    if cents % CENTS:
        raise LossyAmount(f"M-Pesa takes whole shillings; {format_kes(cents)} is not one")
    return cents // CENTS


def to_json_number(cents: int) -> float:
    """Shillings as a JSON number for output only (exact for any realistic amount)."""
    return cents / CENTS


def to_decimal(cents: int) -> Decimal:
    return Decimal(cents) / CENTS


def format_kes(cents: int) -> str:
    """`KES 1,234.50`, as people read it."""
    sign = "-" if cents < 0 else ""
    shillings, rest = divmod(abs(cents), CENTS)
    return f"{sign}KES {shillings:,}.{rest:02d}"
