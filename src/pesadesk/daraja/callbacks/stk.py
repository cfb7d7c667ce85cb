"""The STK Push callback: `Body.stkCallback`, its metadata looked up by `Name`.

A success is only as good as its metadata: CONTRACT §8 wants one that lacks
`MpesaReceiptNumber` or `Amount`, or whose `CallbackMetadata.Item` is not a list of
`{Name, Value}` objects, held for STK Query instead of completing a payment with no
receipt. So the parser never fails on such shapes: it reads what it can and says what is
wrong in `problems`; `incomplete_reason` (None when the success can be trusted) is what
the desk checks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from pesadesk.core.errors import InvalidAmount
from pesadesk.core.money import to_cents
from pesadesk.daraja.callbacks.common import (
    as_text,
    mapping,
    normalise_key,
    opt_daraja_time,
    opt_text,
)
from pesadesk.daraja.errors import CallbackError
from pesadesk.daraja.result_codes import StkStatus, code_str, stk_message, stk_status

__all__ = ["StkCallback", "parse_stk_callback"]

_RECEIPT: Final = re.compile(r"[A-Za-z0-9]{4,40}")


@dataclass(frozen=True)
class StkCallback:
    """An STK Push result: `Body.stkCallback`."""

    merchant_request_id: str
    checkout_request_id: str
    result_code: str
    result_desc: str
    amount_cents: int | None = None
    receipt: str | None = None
    transaction_date: datetime | None = None
    phone: str | None = None
    balance_cents: int | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    problems: tuple[str, ...] = ()  # what is missing or malformed, in reading order

    @property
    def status(self) -> StkStatus:
        return stk_status(self.result_code)

    @property
    def succeeded(self) -> bool:
        return self.result_code == "0"

    @property
    def message(self) -> str:
        return stk_message(self.result_code, self.result_desc)

    @property
    def incomplete_reason(self) -> str | None:
        """Why this success cannot complete a payment by itself (confirm it by STK Query
        first); None when it can, and for every result that is not a success."""
        if not self.succeeded or not self.problems:
            return None
        return "; ".join(self.problems)

    @property
    def trustworthy(self) -> bool:
        """False for a success without receipt or amount, or with malformed metadata."""
        return self.incomplete_reason is None


def _items(block: object, problems: list[str]) -> list[object]:
    """`CallbackMetadata.Item` as a list, noting any other shape it came in."""
    if block is None:
        return []
    if not isinstance(block, Mapping):
        problems.append("CallbackMetadata is not an object")
        return []
    items = block.get("Item")
    if isinstance(items, list):
        return items
    if isinstance(items, Mapping):
        problems.append("CallbackMetadata.Item is an object, not a list")
        return [items]
    problems.append("CallbackMetadata.Item is missing or not a list")
    return []


def _metadata(block: object, problems: list[str]) -> dict[str, Any]:
    """`{Name: Value}` of the items (a valueless item is None); the first of a name wins."""
    found: dict[str, Any] = {}
    for item in _items(block, problems):
        name = item.get("Name") if isinstance(item, Mapping) else None
        if not isinstance(item, Mapping) or not isinstance(name, str) or not name.strip():
            problems.append("a CallbackMetadata item is not a {Name, Value} object")
            continue
        key = normalise_key(name.strip())
        if key in found:
            problems.append(f"{key} appears more than once in CallbackMetadata")
            continue
        found[key] = item.get("Value")
    return found


def _scalar(metadata: Mapping[str, Any], name: str, problems: list[str]) -> object:
    value = metadata.get(name)
    if isinstance(value, Mapping | list | bool):
        problems.append(f"{name} is not a plain value")
        return None
    return value


def _amount(metadata: Mapping[str, Any], problems: list[str]) -> int | None:
    value = _scalar(metadata, "Amount", problems)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return to_cents(value)
    except InvalidAmount as exc:
        problems.append(f"Amount: {exc.message}")
        return None


def _balance(metadata: Mapping[str, Any]) -> int | None:
    """Information only (and usually valueless): unreadable is None, not a problem."""
    try:
        value = metadata.get("Balance")
        return None if value in (None, "") else to_cents(value)
    except InvalidAmount:
        return None


def _success_problems(amount: int | None, receipt: str | None) -> list[str]:
    """What a success needs before it may complete a payment on its own word."""
    problems = []
    if receipt is None:
        problems.append("MpesaReceiptNumber is missing")
    elif not _RECEIPT.fullmatch(receipt):
        problems.append("MpesaReceiptNumber does not look like an M-Pesa receipt")
    if amount is None:
        problems.append("Amount is missing")
    elif amount <= 0:
        problems.append("Amount is not above zero")
    return problems


def parse_stk_callback(payload: object) -> StkCallback:
    """`{"Body": {"stkCallback": {...}}}` to an `StkCallback`; only a body without the
    stkCallback shape, a CheckoutRequestID or a ResultCode is refused."""
    body = mapping(mapping(payload, "callback").get("Body"), "Body")
    cb = mapping(body.get("stkCallback"), "Body.stkCallback")
    checkout = as_text(cb.get("CheckoutRequestID"))
    if not checkout:
        raise CallbackError("Body.stkCallback.CheckoutRequestID is missing")
    if "ResultCode" not in cb:
        raise CallbackError("Body.stkCallback.ResultCode is missing")
    result_code = code_str(cb.get("ResultCode"))
    problems: list[str] = []
    metadata = _metadata(cb.get("CallbackMetadata"), problems)
    amount = _amount(metadata, problems)
    receipt = opt_text(_scalar(metadata, "MpesaReceiptNumber", problems))
    if result_code == "0":
        problems += _success_problems(amount, receipt)
    return StkCallback(
        merchant_request_id=as_text(cb.get("MerchantRequestID")),
        checkout_request_id=checkout,
        result_code=result_code,
        result_desc=as_text(cb.get("ResultDesc")),
        amount_cents=amount,
        receipt=receipt,
        transaction_date=opt_daraja_time(_scalar(metadata, "TransactionDate", problems)),
        phone=opt_text(_scalar(metadata, "PhoneNumber", problems)),
        balance_cents=_balance(metadata),
        metadata=metadata,
        problems=tuple(problems),
    )
