"""Dynamic QR: a QR code the customer scans to pay a paybill or till (reference §16).

Synchronous and moving no money: a lookup, retried on 5xx like one, never on 4xx. The
QR confirms nothing; the payment still arrives as a C2B confirmation.
"""

from __future__ import annotations

import base64
import binascii
from typing import Final, get_args

from pesadesk.daraja.base import DarajaBase, shillings
from pesadesk.daraja.errors import DarajaError, DarajaRejected, DarajaRequestInvalid
from pesadesk.daraja.schemas import QrCode, QrGenerateRequest, QrGenerateResponse, QrTrxCode

__all__ = ["PNG_SIGNATURE", "QR_PATH", "QR_TRX_CODES", "QrApi", "decode_qr_png"]

QR_PATH: Final = "/mpesa/qrcode/v1/generate"
QR_TRX_CODES: Final[tuple[str, ...]] = get_args(QrTrxCode)
PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"


def _not_empty(name: str, value: str) -> str:
    if not value or not value.strip():
        raise DarajaRequestInvalid(f"{name} must not be empty")
    return value


def decode_qr_png(answer: QrGenerateResponse, *, http_status: int) -> bytes:
    """The PNG bytes of a `QRCode` (plain or data-URL base64, line breaks allowed).

    No `QRCode` is Daraja's refusal; one that is not base64 of a PNG is an answer
    Daraja does not document, never served as an image.
    """
    if not answer.qr_code:
        reason = answer.response_description or "no reason given"
        raise DarajaRejected(
            f"Daraja generated no QR code: {reason}",
            http_status=http_status,
            error_code=answer.response_code or None,
            request_id=answer.request_id or None,
        )
    text = answer.qr_code.strip()
    if text.startswith("data:") and "," in text:
        text = text.split(",", 1)[1]
    try:
        png = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise DarajaError("Daraja's QRCode is not base64", http_status=http_status) from None
    if not png.startswith(PNG_SIGNATURE):
        raise DarajaError("Daraja's QRCode is not a PNG image", http_status=http_status)
    return png


class QrApi(DarajaBase):
    """Dynamic QR generate."""

    async def qr_generate(
        self,
        *,
        merchant_name: str,
        ref_no: str,
        amount_cents: int,
        trx_code: QrTrxCode,
        cpi: str,
        size: int = 300,
    ) -> QrCode:
        """A QR for `amount_cents` (whole shillings) to `cpi`: `PB` with the paybill number
        (`ref_no` becomes the account), `BG` with the till; `size` is the square's pixels."""
        if trx_code not in QR_TRX_CODES:
            raise DarajaRequestInvalid(f"TrxCode must be one of {', '.join(QR_TRX_CODES)}")
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
            raise DarajaRequestInvalid("Size must be a whole number of pixels above zero")
        request = QrGenerateRequest(
            merchant_name=_not_empty("MerchantName", merchant_name),
            ref_no=_not_empty("RefNo", ref_no),
            amount=shillings(amount_cents),
            trx_code=trx_code,
            cpi=_not_empty("CPI", cpi),
            size=str(size),
        )
        response = await self._post(QR_PATH, request, money=False)
        answer = self._parse(QrGenerateResponse, response, QR_PATH)
        return QrCode(
            png=decode_qr_png(answer, http_status=response.status_code),
            request_id=answer.request_id,
            response_code=answer.response_code,
            response_description=answer.response_description,
        )
