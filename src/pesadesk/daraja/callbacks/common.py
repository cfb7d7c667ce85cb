"""Small readers shared by the callback parsers: JSON scalars to text, cents and times.

Daraja sends the same field as a string or a number depending on the API and the year,
and leaves values out (STK's `Balance`); these helpers absorb that once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from pesadesk.core.clock import EAT, parse_daraja_timestamp
from pesadesk.core.errors import InvalidAmount
from pesadesk.core.money import to_cents
from pesadesk.daraja.errors import CallbackError

__all__ = [
    "as_text",
    "cents_of",
    "mapping",
    "normalise_key",
    "opt_b2c_time",
    "opt_cents",
    "opt_daraja_time",
    "opt_text",
    "pairs",
]

_B2C_TIME: Final = "%d.%m.%Y %H:%M:%S"


def mapping(value: object, what: str) -> Mapping[str, Any]:
    """`value` as a JSON object, or a `CallbackError` naming `what` was expected."""
    if not isinstance(value, Mapping):
        raise CallbackError(f"{what} is missing or not an object")
    return value


def as_text(value: object) -> str:
    """A JSON scalar as text; numbers that are whole stay without `.0`."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def opt_text(value: object) -> str | None:
    """Like `as_text`, but an empty value is None."""
    text = as_text(value)
    return text or None


def cents_of(value: object, what: str) -> int:
    """Exact cents of a Daraja amount; anything else is a `CallbackError` naming the field."""
    try:
        return to_cents(value)
    except InvalidAmount as exc:
        raise CallbackError(f"{what}: {exc.message}") from None


def opt_cents(value: object, what: str) -> int | None:
    """Like `cents_of`, but a missing or blank amount is None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return cents_of(value, what)


def opt_daraja_time(value: object) -> datetime | None:
    """`YYYYMMDDHHmmss` (EAT) as aware UTC; missing or unreadable is None."""
    text = as_text(value)
    if not text:
        return None
    try:
        return parse_daraja_timestamp(text)
    except ValueError:
        return None


def opt_b2c_time(value: object) -> datetime | None:
    """`06.07.2024 22:48:52` (EAT) as aware UTC."""
    text = as_text(value)
    if not text:
        return None
    try:
        moment = datetime.strptime(text, _B2C_TIME)  # noqa: DTZ007 - EAT attached below
    except ValueError:
        return opt_daraja_time(text)
    return moment.replace(tzinfo=EAT).astimezone(UTC)


def normalise_key(key: str) -> str:
    """`Originator Conversation ID` and `OriginatorCoversationID` -> `OriginatorConversationID`."""
    compact = key.replace(" ", "")
    if compact == "OriginatorCoversationID":
        return "OriginatorConversationID"
    return compact


def pairs(value: object, key_field: str) -> dict[str, Any]:
    """`[{"Name": n, "Value": v}, ...]` (or a single object) as `{n: v}`; no Value -> None."""
    items: list[object]
    if value is None:
        return {}
    if isinstance(value, Mapping):
        items = [value]
    elif isinstance(value, list):
        items = value
    else:
        raise CallbackError(f"expected a list of {key_field}/Value items")
    result: dict[str, Any] = {}
    for item in items:
        if not isinstance(item, Mapping) or key_field not in item:
            continue
        result[normalise_key(str(item[key_field]))] = item.get("Value")
    return result
