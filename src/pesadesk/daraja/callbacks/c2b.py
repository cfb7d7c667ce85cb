"""C2B validation and confirmation bodies, and Pull Transactions items: a customer paid.

This is the one reader of a C2B payment, strict on every field that decides where money
goes, so a confirmation, a validation and a payment recovered by Pull Transactions all
become the same `C2BPayment` and travel the same pipeline.

Rules (each broken one raises, with the reason):

- `TransID`: 4 to 40 letters and digits (`CallbackError`, an `InvalidInput`);
- `TransAmount`: present, a number, above zero (`InvalidAmount`), at most 2 decimals
  (`LossyAmount`), at most KES 250,000, Safaricom's per-transaction ceiling;
- `TransTime`: `YYYYMMDDHHmmss` in East Africa Time, read as aware UTC (absent: None);
- text fields must be strings or numbers, never objects, lists or booleans.

What is kept as sent, cut to what the payments table holds: `BillRefNumber` (not
stripped: matching ignores case and spaces later; 100 characters), `MSISDN` (64), and
the payer's names joined (200). Since 2023 the MSISDN is a SHA-256 of `2547XXXXXXXX`
(v1) or masked (`2547 ***** 126`, v2); `msisdn_hash` is that hash, or the hash of the
number when it came in clear, so a known customer can be recognised either way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal, overload

from pydantic import ValidationError

from pesadesk.core.clock import parse_daraja_timestamp
from pesadesk.core.errors import InvalidAmount, InvalidPhone
from pesadesk.core.money import positive_cents
from pesadesk.core.phone import normalize_phone, phone_hash
from pesadesk.daraja.callbacks.common import as_text, mapping, opt_cents
from pesadesk.daraja.errors import CallbackError
from pesadesk.daraja.schemas import PullTransaction, parse_pull_time

__all__ = [
    "BILL_REF_MAX",
    "MAX_C2B_CENTS",
    "MSISDN_MAX",
    "PAYER_NAME_MAX",
    "C2BNotice",
    "C2BPayment",
    "MsisdnKind",
    "classify_msisdn",
    "parse_c2b_payment",
    "parse_pull_transaction",
]

MsisdnKind = Literal["hashed", "masked", "plain", "empty", "unknown"]

MAX_C2B_CENTS: Final = 250_000 * 100  # Safaricom's per-transaction ceiling (reference §11)
BILL_REF_MAX: Final = 100
MSISDN_MAX: Final = 64
PAYER_NAME_MAX: Final = 200

_HASH: Final = re.compile(r"[0-9a-fA-F]{64}")
_TRANS_ID: Final = re.compile(r"[A-Za-z0-9]{4,40}")
_DARAJA_TIME: Final = re.compile(r"\d{14}")


@dataclass(frozen=True)
class C2BNotice:
    """A C2B body as far as it could be read; a validation's amount may be unreadable.

    The first eight fields are those the ingest path records; the rest is what Daraja
    sent besides, for people and for checks.
    """

    trans_id: str
    amount_cents: int | None
    bill_ref: str
    msisdn_as_sent: str | None
    msisdn_hash: str | None
    payer_name: str | None
    trans_time: datetime | None
    shortcode: str | None
    transaction_type: str = ""
    invoice_number: str = ""
    org_account_balance_cents: int | None = None
    third_party_trans_id: str = ""
    msisdn_kind: MsisdnKind = "empty"
    phone: str | None = None  # the normalised number, only when it came in clear
    first_name: str = ""
    middle_name: str = ""
    last_name: str = ""
    amount_problem: str | None = None  # why `amount_cents` is None (answer C2B00013)


@dataclass(frozen=True)
class C2BPayment(C2BNotice):
    """A C2B payment whose amount is known: a confirmation, or a Pull Transactions item."""

    amount_cents: int


def classify_msisdn(raw: object) -> tuple[MsisdnKind, str | None, str | None]:
    """What a C2B MSISDN is: (kind, lowercase SHA-256 hex, normalised phone if plain).

    A hash is kept lowercased; a number in clear is normalised and hashed the way
    Daraja hashes it; a masked number has no hash.
    """
    text = as_text(raw)
    if not text:
        return "empty", None, None
    if _HASH.fullmatch(text):
        return "hashed", text.lower(), None
    if "*" in text:
        return "masked", None, None
    try:
        phone = normalize_phone(text)
    except InvalidPhone:
        return "unknown", None, None
    return "plain", phone_hash(phone), phone


def _raw_text(value: object, key: str) -> str:
    """A scalar as sent (not stripped); objects, lists and booleans are refused."""
    if value is None:
        return ""
    if isinstance(value, Mapping | list | bool):
        raise CallbackError(f"{key} must be a string")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _text(data: Mapping[str, Any], key: str) -> str:
    return _raw_text(data.get(key), key).strip()


def _trans_id(value: object, key: str = "TransID") -> str:
    trans_id = _raw_text(value, key).strip()
    if not trans_id:
        raise CallbackError(f"{key} is missing")
    if not _TRANS_ID.fullmatch(trans_id):
        raise CallbackError(f"{key} must be 4-40 letters and digits")
    return trans_id


def _amount(value: object, key: str = "TransAmount") -> int:
    """Exact positive cents, at most M-Pesa's ceiling; the error keeps its class."""
    if value is None:
        raise InvalidAmount(f"{key} is missing")
    try:
        cents = positive_cents(value)
    except InvalidAmount as exc:  # LossyAmount stays LossyAmount
        raise type(exc)(f"{key}: {exc.message}") from None
    if cents > MAX_C2B_CENTS:
        raise InvalidAmount(f"{key} is above M-Pesa's 250,000 limit")
    return cents


def _trans_time(data: Mapping[str, Any]) -> datetime | None:
    text = _text(data, "TransTime")
    if not text:
        return None
    if not _DARAJA_TIME.fullmatch(text):
        raise CallbackError("TransTime must be YYYYMMDDHHmmss")
    try:
        return parse_daraja_timestamp(text)
    except ValueError:
        raise CallbackError("TransTime must be YYYYMMDDHHmmss") from None


def _balance(data: Mapping[str, Any]) -> int | None:
    """The paybill's new balance is informative only: unreadable is None, not an error."""
    try:
        return opt_cents(data.get("OrgAccountBalance"), "OrgAccountBalance")
    except CallbackError:
        return None


def _joined_name(*parts: str) -> str | None:
    name = " ".join(part for part in parts if part)
    return name[:PAYER_NAME_MAX] or None


@overload
def parse_c2b_payment(payload: object, *, require_amount: Literal[True] = True) -> C2BPayment: ...
@overload
def parse_c2b_payment(payload: object, *, require_amount: bool) -> C2BNotice: ...
def parse_c2b_payment(payload: object, *, require_amount: bool = True) -> C2BNotice:
    """A C2B validation/confirmation body to a `C2BPayment`; raises with the reason.

    With `require_amount=False` (validation), a bad `TransAmount` (unreadable, zero or
    less, lossy, over the ceiling) gives a `C2BNotice` whose `amount_cents` is None and
    whose `amount_problem` says why, so the caller can answer `C2B00013`.
    """
    data = mapping(payload, "C2B body")
    trans_id = _trans_id(data.get("TransID"))
    amount: int | None = None
    problem: str | None = None
    try:
        amount = _amount(data.get("TransAmount"))
    except InvalidAmount as exc:
        if require_amount:
            raise
        problem = exc.message
    kind, msisdn_hash, phone = classify_msisdn(_text(data, "MSISDN"))
    as_sent = _text(data, "MSISDN")[:MSISDN_MAX] or None
    names = [_text(data, key) for key in ("FirstName", "MiddleName", "LastName")]
    cls: type[C2BNotice] = C2BPayment if require_amount else C2BNotice
    return cls(
        trans_id=trans_id,
        amount_cents=amount,
        bill_ref=_raw_text(data.get("BillRefNumber"), "BillRefNumber")[:BILL_REF_MAX],
        msisdn_as_sent=as_sent,
        msisdn_hash=msisdn_hash,
        payer_name=_joined_name(*names),
        trans_time=_trans_time(data),
        shortcode=_text(data, "BusinessShortCode") or None,
        transaction_type=_text(data, "TransactionType"),
        invoice_number=_text(data, "InvoiceNumber"),
        org_account_balance_cents=_balance(data),
        third_party_trans_id=_text(data, "ThirdPartyTransID"),
        msisdn_kind=kind,
        phone=phone,
        first_name=names[0],
        middle_name=names[1],
        last_name=names[2],
        amount_problem=problem,
    )


def parse_pull_transaction(
    item: PullTransaction | Mapping[str, Any], *, shortcode: str | None = None
) -> C2BPayment:
    """One Pull Transactions item as the `C2BPayment` its confirmation would have been.

    The item does not name the shortcode, so the caller who asked says which it was.
    Same rules as a confirmation; `trxDate` without an offset is East Africa Time.
    """
    if not isinstance(item, PullTransaction):
        try:
            item = PullTransaction.model_validate(mapping(item, "Pull Transactions item"))
        except ValidationError as exc:
            fields = sorted({str(error["loc"][0]) for error in exc.errors() if error["loc"]})
            raise CallbackError(
                f"Pull Transactions item lacks or garbles {', '.join(fields)}"
            ) from None
    try:
        received = parse_pull_time(item.trx_date)
    except ValueError:
        raise CallbackError(f"trxDate is not a date and time: {item.trx_date!r}") from None
    kind, msisdn_hash, phone = classify_msisdn(item.msisdn)
    sender = item.sender.strip()
    return C2BPayment(
        trans_id=_trans_id(item.transaction_id, "transactionId"),
        amount_cents=_amount(item.amount, "amount"),
        bill_ref=item.bill_reference[:BILL_REF_MAX],
        msisdn_as_sent=item.msisdn.strip()[:MSISDN_MAX] or None,
        msisdn_hash=msisdn_hash,
        payer_name=_joined_name(sender),
        trans_time=received,
        shortcode=shortcode,
        transaction_type=item.transaction_type,
        msisdn_kind=kind,
        phone=phone,
        first_name=sender,
    )
