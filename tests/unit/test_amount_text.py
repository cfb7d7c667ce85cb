"""Amount text is read as Daraja and statements write it, and nothing looser."""

from __future__ import annotations

import pytest

from pesadesk.core.errors import InvalidAmount
from pesadesk.core.money import to_cents


@pytest.mark.parametrize("text", ["1_000", "1e3", "1E+2", "٣٠٠", "0x10", "１００", "- 5"])
def test_amount_text_decimal_would_take_but_daraja_never_sends_is_refused(text: str) -> None:
    """Underscores, exponents and other scripts' digits are not an amount (no credit)."""
    with pytest.raises(InvalidAmount):
        to_cents(text)


@pytest.mark.parametrize(
    ("text", "cents"),
    [("5000.00", 500000), (" 1,234.50 ", 123450), ("-25", -2500), (".5", 50), ("+3", 300)],
)
def test_amount_text_as_written_by_daraja_and_statements_is_read(text: str, cents: int) -> None:
    """Plain ASCII amounts, with thousands commas and a sign, keep their exact cents."""
    assert to_cents(text) == cents
