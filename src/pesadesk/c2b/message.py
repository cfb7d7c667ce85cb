"""Reading a C2B (Paybill/Till) confirmation or validation body, exactly once, strictly.

Since 2023 the payer's MSISDN arrives hashed (hex SHA-256 of `2547XXXXXXXX`, v1) or
masked (`2547 ***** 126`, v2); old integrations still see it in clear. We keep what
was sent and note the hash when there is one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pesadesk.core.clock import parse_daraja_timestamp
from pesadesk.core.errors import InvalidAmount, InvalidInput, InvalidPhone
from pesadesk.core.money import positive_cents
from pesadesk.core.phone import normalize_phone, phone_hash

MAX_C2B_CENTS = 250_000 * 100  # Safaricom's per-transaction ceiling
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_TRANS_ID = re.compile(r"[A-Za-z0-9]{4,40}")


@dataclass(frozen=True)
class C2BTransaction:
    trans_id: str
    amount_cents: int
    bill_ref: str
    msisdn_as_sent: str | None
    msisdn_hash: str | None
    payer_name: str | None
    trans_time: datetime | None
    shortcode: str | None


def classify_msisdn(raw: object) -> tuple[str | None, str | None]:
    """(as sent, sha256 hex) for a hashed, masked or plain MSISDN."""
    if raw is None or raw == "":
        return None, None
    text = str(raw).strip()
    if _SHA256_HEX.fullmatch(text.lower()):
        return text, text.lower()
    if "*" in text:
        return text, None
    try:
        return text, phone_hash(normalize_phone(text))
    except InvalidPhone:
        return text, None


def _text(payload: dict[str, Any], key: str, *, strip: bool = True) -> str | None:
    value = payload.get(key)
    if value is None:
        return None
    if isinstance(value, dict | list):
        raise InvalidInput(f"{key} must be a string")
    return str(value).strip() if strip else str(value)


def parse_c2b(payload: object) -> C2BTransaction:
    """Validate a decoded C2B body; raises `InvalidInput` with the reason otherwise."""
    if not isinstance(payload, dict):
        raise InvalidInput("C2B body must be a JSON object")
    trans_id = _text(payload, "TransID")
    if not trans_id:
        raise InvalidInput("TransID is missing")
    if not _TRANS_ID.fullmatch(trans_id):
        raise InvalidInput("TransID must be 4-40 letters and digits")
    if "TransAmount" not in payload:
        raise InvalidAmount("TransAmount is missing")
    amount = positive_cents(payload["TransAmount"])
    if amount > MAX_C2B_CENTS:
        raise InvalidAmount("TransAmount is above M-Pesa's 250,000 limit")
    as_sent, hashed = classify_msisdn(payload.get("MSISDN"))
    names = [_text(payload, key) for key in ("FirstName", "MiddleName", "LastName")]
    name = " ".join(n for n in names if n) or None
    trans_time: datetime | None = None
    raw_time = _text(payload, "TransTime")
    if raw_time:
        try:
            trans_time = parse_daraja_timestamp(raw_time)
        except ValueError:
            raise InvalidInput("TransTime must be YYYYMMDDHHmmss") from None
    return C2BTransaction(
        trans_id=trans_id,
        amount_cents=amount,
        # kept as sent (the contract's `reference`); matching ignores case and spaces
        bill_ref=(_text(payload, "BillRefNumber", strip=False) or "")[:100],
        msisdn_as_sent=as_sent[:64] if as_sent else None,
        msisdn_hash=hashed,
        payer_name=name[:200] if name else None,
        trans_time=trans_time,
        shortcode=_text(payload, "BusinessShortCode"),
    )
