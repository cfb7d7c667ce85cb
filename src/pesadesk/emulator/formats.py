"""How Daraja writes amounts and result codes in its answers and callbacks."""

from __future__ import annotations

from decimal import Decimal

__all__ = ["amount_number", "amount_text", "code_value"]


def amount_text(cents: int) -> str:
    """Shillings as Daraja's strings: `"5.00"`, `"-1540.00"`."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{whole}.{rest:02d}"


def amount_number(cents: int) -> Decimal:
    """Shillings as a JSON number in callbacks (Daraja sends `1.00`, `8959269.60`)."""
    return Decimal(cents) / 100


def code_value(code: str) -> int | str:
    """Result codes go out as numbers when they are numbers (`0`, `1032`)."""
    return int(code) if code.isdigit() else code
