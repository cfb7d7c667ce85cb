"""Daraja result codes, classified by code (compared as strings), never by description.

`ResultCode` arrives as `0` or `"0"`, and some codes are not numbers at all
(`SFC_IC0003`, `R000001`), so every lookup first turns the code into its string form.
"""

from __future__ import annotations

from typing import Final, Literal

StkStatus = Literal["completed", "cancelled", "timeout", "failed"]

SUCCESS: Final = "0"

# CONTRACT §4: 0 completed; 1032 cancelled; 1037 and 1019 timeout; anything else failed.
_STK_STATUS: Final[dict[str, StkStatus]] = {
    "0": "completed",
    "1032": "cancelled",
    "1037": "timeout",
    "1019": "timeout",
}

STK_MESSAGES: Final[dict[str, str]] = {
    "0": "Payment received.",
    "1": "The customer does not have enough money in M-Pesa.",
    "2": "The amount is below the M-Pesa minimum.",
    "3": "The amount is above the M-Pesa maximum for one payment.",
    "4": "The customer has reached their daily M-Pesa limit.",
    "8": "The paybill or till has reached its maximum balance.",
    "17": "The same amount was asked of this customer less than 2 minutes ago.",
    "26": "M-Pesa is busy; try again shortly.",
    "1001": "The customer has another M-Pesa request in progress; try again in a minute.",
    "1019": "The payment request expired before the customer completed it.",
    "1025": "M-Pesa could not send the prompt (the reference may be too long).",
    "1032": "The customer cancelled the payment prompt.",
    "1037": "The customer's phone could not be reached, or no PIN was entered.",
    "2001": "The customer entered a wrong M-Pesa PIN.",
    "2028": "The shortcode is not allowed this transaction type (check paybill/till setup).",
    "8006": "The customer's M-Pesa PIN is locked.",
    "9999": "M-Pesa could not send the prompt.",
    "SFC_IC0003": "The shortcode or till does not exist (check paybill/till setup).",
}

B2C_MESSAGES: Final[dict[str, str]] = {
    "0": "Payment sent.",
    "1": "The B2C utility account does not have enough money.",
    "2": "The amount is below the B2C minimum (KES 10).",
    "3": "The amount is above the B2C maximum.",
    "4": "The daily B2C limit has been reached.",
    "8": "The recipient's M-Pesa balance would exceed its maximum.",
    "11": "The debit party is in an invalid state.",
    "15": "Duplicate request.",
    "17": "Internal failure at M-Pesa.",
    "18": "The initiator credential check failed.",
    "20": "The initiator could not be resolved.",
    "21": "The initiator does not have the role for this request.",
    "24": "Required fields are missing.",
    "26": "M-Pesa is busy; try again shortly.",
    "2001": "The initiator name, password or certificate is wrong.",
    "2006": "The account status does not allow this transaction.",
    "2028": "The request is not permitted by the shortcode's product assignment.",
    "2040": "The recipient is not a registered M-Pesa customer.",
    "8006": "The initiator's security credential is locked.",
    "R000001": "The transaction has already been reversed.",
    "R000002": "The original transaction id is not valid.",
    "SFC_IC0003": "The recipient number does not exist on M-Pesa.",
}

# Codes after which the same request may succeed a little later.
TRANSIENT_RESULT_CODES: Final = frozenset({"17", "26", "1001", "9999"})


def code_str(code: object) -> str:
    """`0`, `"0"`, `" 0 "` -> `"0"`: result codes compare as strings."""
    if code is None:
        return ""
    if isinstance(code, bool):
        return str(int(code))
    if isinstance(code, float) and code.is_integer():
        return str(int(code))
    return str(code).strip()


def stk_status(code: object) -> StkStatus:
    """The payment status an STK result code leads to."""
    return _STK_STATUS.get(code_str(code), "failed")


def stk_message(code: object, fallback: str | None = None) -> str:
    """A sentence for people; `fallback` (Daraja's ResultDesc) for codes we do not know."""
    key = code_str(code)
    return STK_MESSAGES.get(key) or fallback or f"M-Pesa result code {key}."


def b2c_message(code: object, fallback: str | None = None) -> str:
    """A sentence for people about a B2C, reversal or status result code."""
    key = code_str(code)
    return B2C_MESSAGES.get(key) or fallback or f"M-Pesa result code {key}."


def is_success(code: object) -> bool:
    return code_str(code) == SUCCESS
