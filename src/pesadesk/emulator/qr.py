"""Dynamic QR: `POST /mpesa/qrcode/v1/generate` answers a real, decodable QR as base64 PNG.

Safaricom's QR carries an EMV-style payload only the M-Pesa app reads; ours carries a
small JSON object (`{"TrxCode","CPI","RefNo","Amount","MerchantName"}`, Amount in whole
shillings) so that tests and people can read what a QR asks for. Generating a QR moves
no money and confirms nothing; the payment still comes as a C2B confirmation.
"""

from __future__ import annotations

import base64
import io
import json
from typing import Any, Final

import segno
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from pesadesk.emulator.base import Api, ApiGroup
from pesadesk.emulator.records import QrCode
from pesadesk.emulator.validation import (
    ORG_TOKEN,
    bad,
    need_digits,
    need_text,
    need_whole_amount,
)

__all__ = ["TRX_CODES", "QrApi", "qr_png"]

# BG buy goods (CPI = till), PB paybill (CPI = business number), WA agent withdrawal,
# SM send money (CPI = phone), SB send to business.
TRX_CODES: Final = ("BG", "PB", "WA", "SM", "SB")
MAX_TEXT: Final = 100  # MerchantName and RefNo; Daraja's own limit is not published
MAX_PIXELS: Final = 1000  # a larger Size is drawn at this size
BORDER: Final = 4  # the quiet zone, in modules


def qr_png(text: str, size: int) -> bytes:
    """A PNG QR code of `text`, as close to `size` pixels square as whole modules allow."""
    code = segno.make(text, error="m", micro=False)
    modules = code.symbol_size(scale=1, border=BORDER)[0]
    scale = max(1, min(size, MAX_PIXELS) // modules)
    out = io.BytesIO()
    code.save(out, kind="png", scale=scale, border=BORDER)
    return out.getvalue()


def _read(body: dict[str, Any]) -> tuple[str, str, int, str, str, int]:
    """Daraja's checks, in field order: name, ref, amount (cents), code, CPI, size."""
    merchant_name = need_text(body, "MerchantName", max_len=MAX_TEXT)
    ref_no = need_text(body, "RefNo", max_len=MAX_TEXT)
    amount_cents = need_whole_amount(body)
    trx_code = need_text(body, "TrxCode")
    if trx_code not in TRX_CODES:
        raise bad("TrxCode")
    cpi = need_digits(body, "CPI")
    size_text = body.get("Size")
    if not isinstance(size_text, str) or not size_text.strip().isdigit():
        raise bad("Size")
    size = int(size_text)
    if size < 1:
        raise bad("Size")
    return merchant_name, ref_no, amount_cents, trx_code, cpi, size


class QrApi(ApiGroup):
    """The Dynamic QR API; every QR made is remembered in the state (`qr_codes`)."""

    def apis(self) -> dict[str, Api]:
        return {"/mpesa/qrcode/v1/generate": Api("POST", self.generate, ORG_TOKEN)}

    async def generate(self, _: Request, body: dict[str, Any]) -> Response:
        merchant_name, ref_no, amount_cents, trx_code, cpi, size = _read(body)
        text = json.dumps(
            {
                "TrxCode": trx_code,
                "CPI": cpi,
                "RefNo": ref_no,
                "Amount": amount_cents // 100,
                "MerchantName": merchant_name,
            },
            separators=(",", ":"),
            ensure_ascii=False,
        )
        png = qr_png(text, size)
        request_id = self.state.new_request_id()
        with self.state.lock:
            self.state.qr_codes[request_id] = QrCode(
                request_id=request_id,
                merchant_name=merchant_name,
                ref_no=ref_no,
                amount_cents=amount_cents,
                trx_code=trx_code,
                cpi=cpi,
                text=text,
                at=self.state.now(),
            )
        return JSONResponse(
            {
                "ResponseCode": "00",
                "RequestID": request_id,
                "ResponseDescription": "The QR Code generated successfully.",
                "QRCode": base64.b64encode(png).decode("ascii"),
            }
        )
