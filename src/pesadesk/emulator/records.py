"""What the emulator remembers about each money movement, account and callback."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pesadesk.emulator.formats import amount_text
from pesadesk.emulator.scenarios import Scenario

__all__ = [
    "Account",
    "B2CTransaction",
    "C2BRegistration",
    "Delivery",
    "QrCode",
    "Receipt",
    "StkTransaction",
]


@dataclass
class Account:
    """A shortcode's accounts, in cents."""

    working: int
    utility: int
    charges_paid: int = 0

    def balance_string(self) -> str:
        """Daraja's `Name|Currency|current|available|reserved|uncleared&...` form."""
        rows = (
            ("Working Account", self.working),
            ("Utility Account", self.utility),
            ("Charges Paid Account", self.charges_paid),
        )
        return "&".join(
            f"{name}|KES|{amount_text(c)}|{amount_text(c)}|0.00|0.00" for name, c in rows
        )


@dataclass
class StkTransaction:
    checkout_request_id: str
    merchant_request_id: str
    shortcode: str
    party_b: str
    phone: str
    amount_cents: int
    callback_url: str
    account_reference: str
    transaction_type: str
    scenario: Scenario
    created_at: datetime
    resolve_at: float  # monotonic
    result_code: str | None = None
    result_desc: str = ""
    query_desc: str = ""
    receipt: str | None = None
    completed_at: datetime | None = None

    @property
    def final(self) -> bool:
        return self.result_code is not None


@dataclass
class Receipt:
    """A money movement M-Pesa knows by receipt number (Transaction Status, Reversal)."""

    receipt: str
    kind: Literal["stk", "c2b", "b2c", "reversal"]
    amount_cents: int
    shortcode: str
    phone: str
    name: str
    at: datetime
    status: str = "Completed"
    originator_conversation_id: str = ""
    conversation_id: str = ""
    reversed: bool = False
    bill_ref: str = ""


@dataclass
class B2CTransaction:
    originator_conversation_id: str
    conversation_id: str
    shortcode: str
    phone: str
    amount_cents: int
    command_id: str
    result_url: str
    timeout_url: str
    occasion: str
    scenario: Scenario
    created_at: datetime
    credential_ok: bool = True
    result_code: str | None = None
    result_desc: str = ""
    transaction_id: str = ""
    completed_at: datetime | None = None


@dataclass(frozen=True)
class C2BRegistration:
    shortcode: str
    confirmation_url: str
    validation_url: str
    response_type: str
    version: str


@dataclass
class Delivery:
    """One callback the emulator sent (or tried to)."""

    kind: str
    url: str
    payload: dict[str, Any]
    at: datetime
    status_code: int | None = None
    response: Any = None
    error: str | None = None


@dataclass(frozen=True)
class QrCode:
    """One Dynamic QR the emulator generated (it confirms nothing: no money moves)."""

    request_id: str
    merchant_name: str
    ref_no: str
    amount_cents: int
    trx_code: str
    cpi: str
    text: str  # what the QR decodes to
    at: datetime
