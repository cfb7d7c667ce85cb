"""Dynamic QR (CONTRACT §9, reference §16): Daraja's validation and a real QR image whose
decoded text carries the RefNo and the amount (decoded here with zxing-cpp)."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import httpx
import pytest
import zxingcpp
from PIL import Image

from pesadesk.testing.emulator import RunningEmulator

BASIC = "Basic " + base64.b64encode(b"any-key:any-secret").decode()
PATH = "/mpesa/qrcode/v1/generate"


def token(emu: RunningEmulator) -> str:
    answer = httpx.get(
        f"{emu.base_url}/oauth/v1/generate",
        params={"grant_type": "client_credentials"},
        headers={"Authorization": BASIC},
    )
    value: str = answer.json()["access_token"]
    return value


def qr_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "MerchantName": "TEST SUPERMARKET",
        "RefNo": "POS-20260206-0001",
        "Amount": 1500,
        "TrxCode": "PB",
        "CPI": "174379",
        "Size": "300",
    }
    body.update(changes)
    return body


def generate(
    emu: RunningEmulator, body: dict[str, Any], bearer: str | None = None
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {bearer if bearer is not None else token(emu)}"}
    return httpx.post(f"{emu.base_url}{PATH}", json=body, headers=headers)


def decode(answer: httpx.Response) -> tuple[Image.Image, str]:
    """The PNG in the answer and the text its QR code holds."""
    image = Image.open(io.BytesIO(base64.b64decode(answer.json()["QRCode"], validate=True)))
    (found,) = zxingcpp.read_barcodes(image)
    assert found.format == zxingcpp.BarcodeFormat.QRCode
    return image, found.text


def test_qr_decodes_to_the_ref_no_and_amount(emu: RunningEmulator) -> None:
    """The answer is Daraja's success shape and its PNG decodes to the sale's RefNo and
    amount, with the TrxCode and CPI asked for."""
    answer = generate(emu, qr_body())
    data = answer.json()
    assert answer.status_code == 200
    assert set(data) == {"ResponseCode", "RequestID", "ResponseDescription", "QRCode"}
    assert (data["ResponseCode"], data["ResponseDescription"]) == (
        "00",
        "The QR Code generated successfully.",
    )
    image, text = decode(answer)
    assert image.format == "PNG"
    decoded = json.loads(text)
    assert (decoded["RefNo"], decoded["Amount"]) == ("POS-20260206-0001", 1500)
    assert (decoded["TrxCode"], decoded["CPI"]) == ("PB", "174379")
    assert emu.state.qr_codes[data["RequestID"]].text == text


def test_qr_for_a_till_with_the_amount_as_a_string(emu: RunningEmulator) -> None:
    """Buy Goods with the till as CPI and the Amount sent as "250" decodes to 250."""
    answer = generate(emu, qr_body(TrxCode="BG", CPI="5555555", Amount="250", RefNo="Sale 9"))
    decoded = json.loads(decode(answer)[1])
    assert (decoded["TrxCode"], decoded["CPI"], decoded["RefNo"], decoded["Amount"]) == (
        "BG",
        "5555555",
        "Sale 9",
        250,
    )


def test_size_sets_the_image_size(emu: RunningEmulator) -> None:
    """Size is the square's side in pixels, to the nearest whole module below it."""
    small, _ = decode(generate(emu, qr_body(Size="200")))
    large, _ = decode(generate(emu, qr_body(Size="600")))
    assert small.size[0] == small.size[1]
    assert 150 < small.size[0] <= 200
    assert 500 < large.size[0] <= 600


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"MerchantName": None}, "MerchantName"),
        ({"MerchantName": ""}, "MerchantName"),
        ({"RefNo": None}, "RefNo"),
        ({"Amount": 15.5}, "Amount"),
        ({"Amount": "10.50"}, "Amount"),
        ({"Amount": 0}, "Amount"),
        ({"TrxCode": "XX"}, "TrxCode"),
        ({"TrxCode": "pb"}, "TrxCode"),
        ({"CPI": "17437a"}, "CPI"),
        ({"CPI": None}, "CPI"),
        ({"Size": 300}, "Size"),
        ({"Size": "3OO"}, "Size"),
        ({"Size": "0"}, "Size"),
        ({"Size": None}, "Size"),
    ],
)
def test_qr_field_validation(emu: RunningEmulator, changes: dict[str, Any], field: str) -> None:
    """Each bad field is 400.002.02 "Bad Request - Invalid <Field>" and no QR is made."""
    answer = generate(emu, qr_body(**changes))
    assert answer.status_code == 400
    assert answer.json()["errorCode"] == "400.002.02"
    assert answer.json()["errorMessage"] == f"Bad Request - Invalid {field}"
    assert emu.state.qr_codes == {}


def test_qr_needs_a_valid_token(emu: RunningEmulator) -> None:
    """No bearer is 404.001.04; an unknown token is 401.002.01, as on the org APIs."""
    missing = httpx.post(f"{emu.base_url}{PATH}", json=qr_body())
    unknown = generate(emu, qr_body(), bearer="nope")
    assert (missing.status_code, missing.json()["errorCode"]) == (404, "404.001.04")
    assert (unknown.status_code, unknown.json()["errorCode"]) == (401, "401.002.01")
