"""Kenyan mobile numbers, normalised to the 12 digits Daraja wants (`2547XXXXXXXX`)."""

from __future__ import annotations

import hashlib
import re

import phonenumbers

from pesadesk.core.errors import InvalidPhone

_MASKABLE = re.compile(r"(?<!\d)(254[17]\d)\d{4}(\d{3})(?!\d)")


def normalize_phone(raw: object) -> str:
    """`07…`, `01…`, `+2547…`, `2547…` or `7…` to `2547…`/`2541…`; anything else is refused."""
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        raise InvalidPhone(f"phone must be a string, got {type(raw).__name__}")
    text = re.sub(r"[\s-]", "", str(raw))
    if not re.fullmatch(r"\+?\d{9,12}", text):
        raise InvalidPhone(f"not a Kenyan mobile number: {mask_phone(text)!r}")
    if len(text) == 9 and text[0] in "17":
        text = "0" + text
    elif text.startswith("254"):
        text = "+" + text
    try:
        number = phonenumbers.parse(text, "KE")
    except phonenumbers.NumberParseException:
        raise InvalidPhone(f"not a Kenyan mobile number: {mask_phone(text)!r}") from None
    national = str(number.national_number)
    if (
        number.country_code != 254
        or len(national) != 9
        or national[0] not in "17"
        or not phonenumbers.is_possible_number(number)
    ):
        raise InvalidPhone(f"not a Kenyan mobile number: {mask_phone(text)!r}")
    return "254" + national


def phone_hash(normalized: str) -> str:
    """What Daraja's C2B v1 sends instead of the MSISDN: hex SHA-256 of `2547XXXXXXXX`."""
    return hashlib.sha256(normalized.encode()).hexdigest()


def mask_phone(text: str) -> str:
    """`254722000126` -> `25472****126`, for logs and error messages."""
    return _MASKABLE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)


def display_phone(normalized: str) -> str:
    return "+" + normalized
