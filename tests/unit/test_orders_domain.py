"""Order status moves and the STK callback URL token."""

from __future__ import annotations

import pytest

from pesadesk.accounts.urls import with_webhook_token
from pesadesk.config import Settings
from pesadesk.core.errors import InvalidTransition
from pesadesk.notify.templates import order_paid
from pesadesk.stk.rules import check_move


@pytest.mark.parametrize(
    ("current", "wanted"),
    [
        ("pending", "confirmed"),
        ("confirmed", "preparing"),
        ("preparing", "delivered"),
        ("pending", "cancelled"),
        ("confirmed", "cancelled"),
        ("preparing", "cancelled"),
    ],
)
def test_allowed_moves(current: str, wanted: str) -> None:
    """The forward chain and cancelling before delivery are allowed."""
    assert check_move(current, wanted) is True


@pytest.mark.parametrize(
    ("current", "wanted"),
    [
        ("delivered", "cancelled"),
        ("pending", "preparing"),
        ("pending", "delivered"),
        ("cancelled", "pending"),
        ("delivered", "pending"),
        ("preparing", "confirmed"),
    ],
)
def test_other_moves_are_refused(current: str, wanted: str) -> None:
    """Skipping ahead, going back, or cancelling a delivered order is an InvalidTransition."""
    with pytest.raises(InvalidTransition):
        check_move(current, wanted)


def test_repeating_the_current_status_changes_nothing() -> None:
    """PATCHing the status an order already has is a no-op, not an error."""
    assert check_move("preparing", "preparing") is False


def test_callback_urls_carry_the_webhook_token() -> None:
    """With security.webhook_token set, the URL given to Daraja carries ?token=."""
    plain = Settings()
    assert with_webhook_token("https://x.ke/api/mpesa/callback", plain) == (
        "https://x.ke/api/mpesa/callback"
    )
    secured = Settings.model_validate({"security": {"webhook_token": "s3cret"}})
    assert with_webhook_token("https://x.ke/api/mpesa/callback", secured) == (
        "https://x.ke/api/mpesa/callback?token=s3cret"
    )
    assert with_webhook_token("https://x.ke/cb?a=1", secured) == "https://x.ke/cb?a=1&token=s3cret"


def test_admin_message_has_the_seed_shapes() -> None:
    """`Order #123`, `KES 500.00`, the receipt, `+254…` and the location are in the text."""
    text = order_paid(
        order_id=123, amount_cents=50_000, receipt="NLJ7RT61SV", phone="254722000000",
        location="Kilimani",
    )  # fmt: skip
    for part in ("Order #123", "KES 500.00", "NLJ7RT61SV", "+254722000000", "Kilimani"):
        assert part in text
