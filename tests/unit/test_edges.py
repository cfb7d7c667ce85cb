"""Edge helpers: money parsing, phone normalising and masking, EAT time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from pesadesk.core.clock import (
    daraja_timestamp,
    eat_day_bounds,
    format_seed_time,
    parse_daraja_timestamp,
)
from pesadesk.core.errors import InvalidAmount, InvalidPhone, LossyAmount
from pesadesk.core.money import format_kes, positive_cents, to_cents, whole_shillings
from pesadesk.core.phone import mask_phone, normalize_phone, phone_hash


@pytest.mark.parametrize(
    ("raw", "cents"),
    [
        ("5000.00", 500000),
        ("1.5", 150),
        (Decimal("0.01"), 1),
        (7, 700),
        (1.0, 100),
        ("1,234.50", 123450),
    ],
)
def test_amounts_become_exact_cents(raw: object, cents: int) -> None:
    """Daraja's strings and numbers become exact integer cents."""
    assert to_cents(raw) == cents


@pytest.mark.parametrize("raw", ["abc", "", None, True, [], "NaN", "Infinity"])
def test_non_numbers_are_refused(raw: object) -> None:
    """Anything that is not a finite number is an InvalidAmount."""
    with pytest.raises(InvalidAmount):
        to_cents(raw)


def test_more_than_two_decimals_is_lossy() -> None:
    """1.005 cannot be held in cents and is refused rather than rounded."""
    with pytest.raises(LossyAmount):
        to_cents("1.005")


def test_positive_and_whole_amounts() -> None:
    """Zero is not a payment; STK/B2C take whole shillings and never round."""
    with pytest.raises(InvalidAmount):
        positive_cents("0")
    assert whole_shillings(50000) == 500
    with pytest.raises(LossyAmount):
        whole_shillings(50050)
    assert format_kes(50000) == "KES 500.00"
    assert format_kes(123456789) == "KES 1,234,567.89"


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("0722000000", "254722000000"),
        ("0110000000", "254110000000"),
        ("+254722000000", "254722000000"),
        ("254722000000", "254722000000"),
        ("722000000", "254722000000"),
        ("0722 000 000", "254722000000"),
    ],
)
def test_kenyan_numbers_normalise(raw: str, normal: str) -> None:
    """Every accepted spelling becomes the 12 digits Daraja wants."""
    assert normalize_phone(raw) == normal


@pytest.mark.parametrize("raw", ["12345", "+255722000000", "07220000001", "0200000000", "hello"])
def test_other_numbers_are_refused(raw: str) -> None:
    """Non-Kenyan, landline or malformed numbers are an InvalidPhone."""
    with pytest.raises(InvalidPhone):
        normalize_phone(raw)


def test_phone_hash_matches_daraja_sample() -> None:
    """The hash Daraja sends for 254722000000 (reference §4) is what we compute."""
    assert (
        phone_hash("254722000000")
        == "8556a495c390f3ba95d2bdf6d06436f2fd09f516531f0a7cd9591c60812fa46d"
    )


def test_phone_numbers_are_masked_in_text() -> None:
    """Logs show 25472****126, never the whole number."""
    assert mask_phone("paid by 254722000126 ok") == "paid by 25472****126 ok"


def test_daraja_times_are_nairobi_time() -> None:
    """Daraja's YYYYMMDDHHmmss is EAT: 12:13 in Nairobi is 09:13 UTC, and back."""
    moment = parse_daraja_timestamp("20260206121325")
    assert moment == datetime(2026, 2, 6, 9, 13, 25, tzinfo=UTC)
    assert daraja_timestamp(moment) == "20260206121325"
    assert format_seed_time(moment) == "2026-02-06 12:13:25"
    start, end = eat_day_bounds(date(2026, 2, 6))
    assert (start.hour, end.hour) == (21, 21)
