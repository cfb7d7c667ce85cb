"""Daraja's request checks: field readers that refuse as Daraja does, and its error answers.

A refused field is `400.002.02 Bad Request - Invalid <Field>`; every synchronous error
goes out in Daraja's envelope `{"requestId","errorCode","errorMessage"}`.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any, Final

from starlette.requests import Request

from pesadesk.daraja.client import FORBIDDEN_URL_WORDS

__all__ = [
    "C2B_TOKEN",
    "ORG_TOKEN",
    "STK_TOKEN",
    "Reject",
    "TokenStyle",
    "bad",
    "is_msisdn",
    "need_digits",
    "need_msisdn",
    "need_remarks",
    "need_text",
    "need_url",
    "need_whole_amount",
    "product_mismatch",
    "read_json",
]

_MSISDN: Final = re.compile(r"254[17]\d{8}")
_URL: Final = re.compile(r"https?://[^\s/]+\S*")

# How each family of APIs answers an unknown or expired token: (status, code, message).
TokenStyle = tuple[int, str, str]
STK_TOKEN: Final[TokenStyle] = (404, "404.001.03", "Invalid Access Token")
C2B_TOKEN: Final[TokenStyle] = (400, "400.003.01", "Invalid Access Token")
ORG_TOKEN: Final[TokenStyle] = (401, "401.002.01", "Error Occurred - Invalid Access Token")


class Reject(Exception):
    """A synchronous Daraja error answer."""

    def __init__(self, status: int, code: str, message: str, request_id: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id


def bad(field: str) -> Reject:
    return Reject(400, "400.002.02", f"Bad Request - Invalid {field}")


def product_mismatch() -> Reject:
    """What Apigee answers when the app lacks the API's product (e.g. C2B v2)."""
    return Reject(
        401,
        "401.003.01",
        "Error Occurred - Invalid Access Token - Invalid API call as no apiproduct match found",
    )


def is_msisdn(value: object) -> bool:
    return isinstance(value, str) and _MSISDN.fullmatch(value) is not None


async def read_json(request: Request) -> dict[str, Any]:
    """The body as a JSON object (numbers with a point as Decimal), or Daraja's refusal."""
    content_type = request.headers.get("content-type", "")
    if "json" not in content_type.lower():
        raise bad("Content-Type")
    raw = await request.body()
    try:
        body = json.loads(raw, parse_float=Decimal)
    except ValueError:
        raise Reject(400, "400.002.05", "Invalid Request Payload") from None
    if not isinstance(body, dict):
        raise Reject(400, "400.002.05", "Invalid Request Payload")
    return body


def _present(body: dict[str, Any], name: str) -> Any:
    value = body.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise bad(name)
    return value


def need_text(body: dict[str, Any], name: str, *, max_len: int | None = None) -> str:
    value = _present(body, name)
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise bad(name)
    text = str(value)
    if max_len is not None and len(text) > max_len:
        raise bad(name)
    return text


def need_digits(body: dict[str, Any], name: str) -> str:
    value = _present(body, name)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip().isdigit():
        return value.strip()
    raise bad(name)


def need_msisdn(body: dict[str, Any], name: str) -> str:
    digits = need_digits(body, name)
    if not _MSISDN.fullmatch(digits):
        raise bad(name)
    return digits


def need_whole_amount(body: dict[str, Any], name: str = "Amount") -> int:
    """Whole shillings as cents; a decimal amount is `400.002.02 Invalid Amount`."""
    value = _present(body, name)
    if isinstance(value, bool):
        raise bad(name)
    if isinstance(value, int):
        shillings = value
    elif isinstance(value, str) and value.strip().isdigit():
        shillings = int(value.strip())
    else:  # Decimal (a JSON number with a point), "1.50", anything else
        raise bad(name)
    if shillings < 1:
        raise bad(name)
    return shillings * 100


def need_url(body: dict[str, Any], name: str, *, c2b: bool = False) -> str:
    url = need_text(body, name)
    if not _URL.fullmatch(url):
        raise bad(name)
    if c2b and any(word in url.lower() for word in FORBIDDEN_URL_WORDS):
        raise bad(name)
    return url


def need_remarks(body: dict[str, Any], name: str = "Remarks") -> str:
    text = need_text(body, name)
    if not 2 <= len(text) <= 100:
        raise bad(name)
    return text
