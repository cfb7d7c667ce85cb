"""The STK Push callback: `Body.stkCallback`, its metadata looked up by `Name`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pesadesk.daraja.callbacks.common import (
    as_text,
    mapping,
    opt_cents,
    opt_daraja_time,
    opt_text,
    pairs,
)
from pesadesk.daraja.errors import CallbackError
from pesadesk.daraja.result_codes import StkStatus, code_str, stk_message, stk_status

__all__ = ["StkCallback", "parse_stk_callback"]


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

    @property
    def status(self) -> StkStatus:
        return stk_status(self.result_code)

    @property
    def succeeded(self) -> bool:
        return self.result_code == "0"

    @property
    def message(self) -> str:
        return stk_message(self.result_code, self.result_desc)


def parse_stk_callback(payload: object) -> StkCallback:
    """`{"Body": {"stkCallback": {...}}}` to an `StkCallback`."""
    body = mapping(mapping(payload, "callback").get("Body"), "Body")
    cb = mapping(body.get("stkCallback"), "Body.stkCallback")
    checkout = as_text(cb.get("CheckoutRequestID"))
    if not checkout:
        raise CallbackError("Body.stkCallback.CheckoutRequestID is missing")
    if "ResultCode" not in cb:
        raise CallbackError("Body.stkCallback.ResultCode is missing")
    meta_block = cb.get("CallbackMetadata")
    metadata = pairs(meta_block.get("Item"), "Name") if isinstance(meta_block, Mapping) else {}
    phone = opt_text(metadata.get("PhoneNumber"))
    return StkCallback(
        merchant_request_id=as_text(cb.get("MerchantRequestID")),
        checkout_request_id=checkout,
        result_code=code_str(cb.get("ResultCode")),
        result_desc=as_text(cb.get("ResultDesc")),
        amount_cents=opt_cents(metadata.get("Amount"), "Amount"),
        receipt=opt_text(metadata.get("MpesaReceiptNumber")),
        transaction_date=opt_daraja_time(metadata.get("TransactionDate")),
        phone=phone,
        balance_cents=opt_cents(metadata.get("Balance"), "Balance"),
        metadata=metadata,
    )
