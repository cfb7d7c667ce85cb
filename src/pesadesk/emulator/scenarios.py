"""What the emulator's pretend customers do, chosen by phone number (like card test numbers).

Magic phone numbers (STK Push `PhoneNumber`, B2C `PartyB`, C2B simulate `Msisdn`).
The last four digits are the result code where there is one:

=============== ======================= ===========================================
number          scenario                what happens
=============== ======================= ===========================================
any other       success                 paid; callback about 0.3 s later
254700000000    success                 the same, explicitly
254700001032    cancelled               STK result 1032 "Request cancelled by user"
254700001037    timeout                 STK result 1037 "No response from user.";
                                        B2C: the payment goes through but only a
                                        queue timeout reaches QueueTimeOutURL
254700001019    expired                 STK result 1019 "Transaction has expired."
254700000001    insufficient_funds      result 1 "The balance is insufficient ..."
254700002001    wrong_pin               result 2001 "The initiator information is
                                        invalid." (wrong M-Pesa PIN)
2547000050SS    delayed                 success, callback SS seconds late (00-99)
254700002222    duplicate               success, the callback is sent twice
254700000404    no_callback             success, no callback at all: only STK Query
                                        (or Transaction Status) tells the truth
254700000500    daraja_error            the request itself fails: HTTP 500
                                        500.003.1001 "Internal Server Error"
=============== ======================= ===========================================

Everything else follows the customer's virtual wallet: an STK Push or C2B payment
larger than the wallet fails with result 1, and a B2C larger than the business's
utility account fails with result 1.

The control endpoint overrides the table: `POST /emulator/scenarios` with
`{"phone": "254712345678", "scenario": "cancelled"}` for one number,
`{"scenario": "cancelled"}` for every number not in the table, and
`{"scenario": "daraja_down", "requests": 3}` to answer the next 3 API requests
(OAuth excepted) with HTTP 503. See SCENARIOS.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Final

__all__ = [
    "MAGIC_NUMBERS",
    "SCENARIOS",
    "Scenario",
    "UnknownScenario",
    "named_scenario",
    "scenario_for_phone",
]

SUCCESS_DESC: Final = "The service request is processed successfully."


@dataclass(frozen=True)
class Scenario:
    """One customer behaviour: the result it leads to and how its callback is sent."""

    name: str
    result_code: str = "0"
    result_desc: str = SUCCESS_DESC
    # STK Query sometimes words a result differently from the callback (1037).
    query_desc: str | None = None
    # B2C has no PIN prompt: codes that only make sense for STK do not apply to it.
    applies_to_b2c: bool = True
    callback_delay: float | None = None  # seconds on top of the default delay
    callback_copies: int = 1  # 0: no callback, 2: sent twice
    b2c_queue_timeout: bool = False
    http_error: int | None = None  # the request itself fails with this status

    @property
    def succeeds(self) -> bool:
        return self.result_code == "0"


SCENARIOS: Final[dict[str, Scenario]] = {
    s.name: s
    for s in (
        Scenario("success"),
        Scenario("cancelled", "1032", "Request cancelled by user", applies_to_b2c=False),
        Scenario(
            "timeout",
            "1037",
            "No response from user.",
            query_desc="DS timeout user cannot be reached.",
            b2c_queue_timeout=True,
        ),
        Scenario("expired", "1019", "Transaction has expired.", applies_to_b2c=False),
        Scenario("insufficient_funds", "1", "The balance is insufficient for the transaction."),
        Scenario("wrong_pin", "2001", "The initiator information is invalid."),
        Scenario("delayed", callback_delay=5.0),
        Scenario("duplicate", callback_copies=2),
        Scenario("no_callback", callback_copies=0),
        Scenario("daraja_error", http_error=500),
    )
}

MAGIC_NUMBERS: Final[dict[str, str]] = {
    "254700000000": "success",
    "254700001032": "cancelled",
    "254700001037": "timeout",
    "254700001019": "expired",
    "254700000001": "insufficient_funds",
    "254700002001": "wrong_pin",
    "254700002222": "duplicate",
    "254700000404": "no_callback",
    "254700000500": "daraja_error",
}

_DELAYED = re.compile(r"2547000050(\d\d)")


class UnknownScenario(ValueError):
    """Raised when a scenario name is not one the emulator knows."""


def named_scenario(name: str, *, delay_seconds: float | None = None) -> Scenario:
    """The scenario called `name`, optionally with its callback `delay_seconds` late."""
    try:
        scenario = SCENARIOS[name]
    except KeyError:
        known = ", ".join(sorted(SCENARIOS))
        raise UnknownScenario(f"unknown scenario {name!r}; known: {known}") from None
    if delay_seconds is not None:
        scenario = replace(scenario, callback_delay=delay_seconds)
    return scenario


def scenario_for_phone(
    phone: str,
    *,
    overrides: dict[str, Scenario] | None = None,
    default: Scenario | None = None,
) -> Scenario:
    """Control-endpoint override, else the magic-number table, else the default (success)."""
    if overrides and phone in overrides:
        return overrides[phone]
    if phone in MAGIC_NUMBERS:
        return SCENARIOS[MAGIC_NUMBERS[phone]]
    delayed = _DELAYED.fullmatch(phone)
    if delayed:
        return replace(SCENARIOS["delayed"], callback_delay=float(delayed.group(1)))
    return default or SCENARIOS["success"]
