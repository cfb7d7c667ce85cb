"""C2B validation and confirmation bodies: a customer paid the paybill or till."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from pesadesk.core.errors import InvalidAmount, InvalidPhone
from pesadesk.core.money import to_cents
from pesadesk.core.phone import normalize_phone
from pesadesk.daraja.callbacks.common import as_text, mapping, opt_cents, opt_daraja_time
from pesadesk.daraja.errors import CallbackError

__all__ = ["C2BPayment", "MsisdnKind", "classify_msisdn", "parse_c2b_payment"]

MsisdnKind = Literal["hashed", "masked", "plain", "empty", "unknown"]

_HASH: Final = re.compile(r"[0-9a-fA-F]{64}")


def classify_msisdn(raw: object) -> tuple[MsisdnKind, str | None, str | None]:
    """What a C2B MSISDN is: (kind, sha256 hash if hashed, normalised phone if plain).

    Since 2023 Daraja sends a lowercase hex SHA-256 of `2547XXXXXXXX` (v1) or a masked
    `2547 ***** 126` (v2); older payloads carry the number in clear.
    """
    text = as_text(raw)
    if not text:
        return "empty", None, None
    if _HASH.fullmatch(text):
        return "hashed", text.lower(), None
    if "*" in text:
        return "masked", None, None
    try:
        return "plain", None, normalize_phone(text)
    except InvalidPhone:
        return "unknown", None, None


@dataclass(frozen=True)
class C2BPayment:
    """A C2B validation or confirmation: a customer paid the paybill or till."""

    transaction_type: str
    trans_id: str
    trans_time: datetime | None
    amount_raw: str
    amount_cents: int | None
    business_shortcode: str
    bill_ref_number: str
    invoice_number: str
    org_account_balance_cents: int | None
    third_party_trans_id: str
    msisdn: str
    msisdn_kind: MsisdnKind
    msisdn_hash: str | None
    phone: str | None
    first_name: str
    middle_name: str
    last_name: str

    @property
    def customer_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.middle_name, self.last_name) if p)


def parse_c2b_payment(payload: object, *, require_amount: bool = True) -> C2BPayment:
    """A C2B validation/confirmation body to a `C2BPayment`.

    With `require_amount=False` (validation), a bad `TransAmount` gives `amount_cents`
    None so the caller can answer `C2B00013` instead of failing.
    """
    data = mapping(payload, "C2B body")
    trans_id = as_text(data.get("TransID"))
    if not trans_id:
        raise CallbackError("TransID is missing")
    amount_raw = as_text(data.get("TransAmount"))
    try:
        amount_cents: int | None = to_cents(data.get("TransAmount"))
    except InvalidAmount as exc:
        if require_amount:
            raise CallbackError(f"TransAmount: {exc.message}") from None
        amount_cents = None
    kind, msisdn_hash, phone = classify_msisdn(data.get("MSISDN"))
    try:
        balance = opt_cents(data.get("OrgAccountBalance"), "OrgAccountBalance")
    except CallbackError:
        balance = None
    return C2BPayment(
        transaction_type=as_text(data.get("TransactionType")),
        trans_id=trans_id,
        trans_time=opt_daraja_time(data.get("TransTime")),
        amount_raw=amount_raw,
        amount_cents=amount_cents,
        business_shortcode=as_text(data.get("BusinessShortCode")),
        bill_ref_number="" if data.get("BillRefNumber") is None else str(data["BillRefNumber"]),
        invoice_number=as_text(data.get("InvoiceNumber")),
        org_account_balance_cents=balance,
        third_party_trans_id=as_text(data.get("ThirdPartyTransID")),
        msisdn=as_text(data.get("MSISDN")),
        msisdn_kind=kind,
        msisdn_hash=msisdn_hash,
        phone=phone,
        first_name=as_text(data.get("FirstName")),
        middle_name=as_text(data.get("MiddleName")),
        last_name=as_text(data.get("LastName")),
    )
