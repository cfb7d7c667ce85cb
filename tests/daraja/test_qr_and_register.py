"""Dynamic QR and C2B register v2 -> v1, against an ASGI stand-in through the transport seam."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest

from pesadesk.core.errors import LossyAmount
from pesadesk.daraja.auth import is_token_rejection
from pesadesk.daraja.client import DarajaClient
from pesadesk.daraja.errors import (
    DarajaAuthError,
    DarajaError,
    DarajaProductMismatch,
    DarajaRejected,
    DarajaRequestInvalid,
    DarajaServerError,
    never_sent,
)

from .standin import INVALID_TOKEN, PNG, PRODUCT_MISMATCH, StandIn, qr_success

T = TypeVar("T")

HOOKS = {
    "confirmation_url": "https://shop.example/c2b/confirmation",
    "validation_url": "https://shop.example/c2b/validation",
}


def run(standin: StandIn, work: Callable[[DarajaClient], Awaitable[T]]) -> T:
    async def main() -> T:
        async with standin.client() as daraja:
            return await work(daraja)

    return asyncio.run(main())


def qr(daraja: DarajaClient, **changes: Any) -> Awaitable[Any]:
    args: dict[str, Any] = {
        "merchant_name": "Mama Njeri Shop",
        "ref_no": "POS-20260206-0001",
        "amount_cents": 1500_00,
        "trx_code": "PB",
        "cpi": "600000",
        **changes,
    }
    return daraja.qr_generate(**args)


# --- Dynamic QR ---------------------------------------------------------------------------


def test_qr_generate_returns_the_png_and_sends_daraja_fields() -> None:
    """The base64 QRCode comes back as PNG bytes; the body has Daraja's names and types."""
    standin = StandIn()
    answer = run(standin, qr)
    assert answer.png == PNG
    assert (answer.response_code, answer.request_id) == ("00", "16738-27456357-1")
    [(path, body)] = standin.bodies
    assert path == "/mpesa/qrcode/v1/generate"
    assert body == {
        "MerchantName": "Mama Njeri Shop",
        "RefNo": "POS-20260206-0001",
        "Amount": 1500,
        "TrxCode": "PB",
        "CPI": "600000",
        "Size": "300",
    }


def test_a_present_qr_code_is_success_whatever_the_response_code() -> None:
    """Reference §16: samples show other ResponseCode texts; a QRCode present is success."""
    standin = StandIn(qr_answers=[qr_success(ResponseCode="AB-0 something", RequestID="")])
    answer = run(standin, lambda d: qr(d, trx_code="BG", cpi="373132", size=512))
    assert answer.png == PNG
    assert answer.response_code == "AB-0 something"
    assert standin.bodies[0][1]["Size"] == "512"


def test_qr_code_with_line_breaks_or_a_data_url_is_decoded() -> None:
    """Base64 wrapped over lines, or given as a data URL, still decodes to the PNG."""
    text = base64.encodebytes(PNG).decode("ascii")
    for qr_code in (text, f"data:image/png;base64,{text}"):
        standin = StandIn(qr_answers=[qr_success(QRCode=qr_code)])
        assert run(standin, qr).png == PNG


def test_qr_refusal_is_not_retried() -> None:
    """A 400 answer is DarajaRejected with Daraja's code, asked once only."""
    refusal = {"requestId": "r-9", "errorCode": "400.002.02", "errorMessage": "Invalid Amount"}
    standin = StandIn(qr_answers=[(400, refusal)])
    with pytest.raises(DarajaRejected) as caught:
        run(standin, qr)
    assert (caught.value.error_code, caught.value.request_id) == ("400.002.02", "r-9")
    assert caught.value.http_status == 400
    assert standin.calls["qr"] == 1


def test_qr_is_retried_through_an_outage() -> None:
    """Generating a QR moves no money: two 503s are retried and the third answer is used."""
    busy = {"errorCode": "500.003.02", "errorMessage": "System is busy"}
    standin = StandIn(qr_answers=[(503, busy), (503, busy), qr_success()])
    assert run(standin, qr).png == PNG
    assert standin.calls["qr"] == 3


def test_qr_outage_ends_in_a_retryable_error() -> None:
    """A longer outage gives up after 1 + max_retries tries with a retryable server error."""
    standin = StandIn(qr_answers=[(503, {"errorMessage": "busy"})])
    with pytest.raises(DarajaServerError) as caught:
        run(standin, qr)
    assert caught.value.retryable
    assert standin.calls["qr"] == 4


def test_a_200_without_a_qr_code_is_a_refusal() -> None:
    """No QRCode in the answer is Daraja's refusal, with its description and code."""
    answer = {"ResponseCode": "01", "RequestID": "r-2", "ResponseDescription": "Invalid CPI"}
    standin = StandIn(qr_answers=[(200, answer)])
    with pytest.raises(DarajaRejected, match="Invalid CPI") as caught:
        run(standin, qr)
    assert (caught.value.error_code, caught.value.request_id) == ("01", "r-2")
    assert standin.calls["qr"] == 1


@pytest.mark.parametrize(
    ("qr_code", "reason"),
    [
        ("not base64 at all!", "not base64"),
        (base64.b64encode(b"GIF89a....").decode(), "not a PNG"),
    ],
)
def test_a_qr_code_that_is_not_a_png_is_never_served(qr_code: str, reason: str) -> None:
    """A QRCode that is not base64 of a PNG is an undocumented answer, not an image."""
    standin = StandIn(qr_answers=[qr_success(QRCode=qr_code)])
    with pytest.raises(DarajaError, match=reason) as caught:
        run(standin, qr)
    assert not isinstance(caught.value, DarajaRejected)


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"amount_cents": 1500_50}, LossyAmount),
        ({"amount_cents": 0}, DarajaRequestInvalid),
        ({"trx_code": "XX"}, DarajaRequestInvalid),
        ({"ref_no": " "}, DarajaRequestInvalid),
        ({"merchant_name": ""}, DarajaRequestInvalid),
        ({"cpi": ""}, DarajaRequestInvalid),
        ({"size": 0}, DarajaRequestInvalid),
    ],
)
def test_qr_requests_daraja_would_refuse_are_not_sent(
    changes: dict[str, Any], error: type[Exception]
) -> None:
    """Non-whole or zero amounts, unknown TrxCodes, empty fields or sizes never leave."""
    standin = StandIn()
    with pytest.raises(error):
        run(standin, lambda d: qr(d, **changes))
    assert standin.calls["qr"] == 0


def test_qr_with_an_expired_token_refreshes_once() -> None:
    """A token Daraja stopped accepting is replaced once and the QR request goes through."""
    standin = StandIn()

    async def work(daraja: DarajaClient) -> Any:
        await qr(daraja)
        standin.expire_tokens()
        return await qr(daraja)

    assert run(standin, work).png == PNG
    assert (standin.calls["oauth"], standin.calls["qr"]) == (2, 3)


# --- C2B register v2 -> v1 ------------------------------------------------------------------


def test_product_mismatch_is_its_own_error_and_not_a_token_refresh() -> None:
    """v2 refused with "no apiproduct match found" raises DarajaProductMismatch at once:
    no new token is fetched and the request is not sent again."""
    standin = StandIn(refuse_versions={"v2"})
    with pytest.raises(DarajaProductMismatch) as caught:
        run(standin, lambda d: d.c2b_register_urls(**HOOKS, version="v2"))
    assert isinstance(caught.value, DarajaRejected)
    assert not isinstance(caught.value, DarajaAuthError)
    assert (caught.value.http_status, caught.value.error_code) == (401, "401.003.01")
    assert never_sent(caught.value)
    assert (standin.calls["oauth"], standin.calls["register-v2"]) == (1, 1)


def test_register_falls_back_from_v2_to_v1() -> None:
    """An app without the v2 product is registered with v1, and says it fell back."""
    standin = StandIn(refuse_versions={"v2"})
    registration = run(standin, lambda d: d.c2b_register_with_fallback(**HOOKS))
    assert (registration.version, registration.fell_back) == ("v1", True)
    assert registration.answer.response_code == "0"
    assert standin.calls == {"oauth": 1, "register-v2": 1, "register-v1": 1}
    assert standin.bodies[0][1]["ShortCode"] == "600000"


def test_register_v2_needs_no_fallback_when_accepted() -> None:
    """With the v2 product present, v2 is registered and v1 never asked."""
    standin = StandIn()
    registration = run(standin, lambda d: d.c2b_register_with_fallback(**HOOKS))
    assert (registration.version, registration.fell_back) == ("v2", False)
    assert standin.calls["register-v1"] == 0


def test_register_v1_mismatch_is_raised_not_looped() -> None:
    """Asked for v1 and refused for want of the product: raised after one request."""
    standin = StandIn(refuse_versions={"v1", "v2"})
    with pytest.raises(DarajaProductMismatch):
        run(standin, lambda d: d.c2b_register_with_fallback(**HOOKS, version="v1"))
    assert standin.calls == {"oauth": 1, "register-v1": 1}


def test_other_register_errors_do_not_fall_back() -> None:
    """A v2 answer of "Urls are already registered" is raised as it is; v1 is not tried."""
    taken = {"errorCode": "500.003.1001", "errorMessage": "Urls are already registered"}
    standin = StandIn(register_answer=(500, taken))
    with pytest.raises(DarajaServerError, match="already registered"):
        run(standin, lambda d: d.c2b_register_with_fallback(**HOOKS))
    assert (standin.calls["register-v2"], standin.calls["register-v1"]) == (1, 0)


def test_an_expired_token_on_register_is_still_refreshed() -> None:
    """An ordinary invalid-token 401 is not a product mismatch: one refresh, then success."""
    standin = StandIn()

    async def work(daraja: DarajaClient) -> Any:
        await daraja.c2b_register_urls(**HOOKS, version="v2")
        standin.expire_tokens()
        return await daraja.c2b_register_urls(**HOOKS, version="v2")

    assert run(standin, work).response_code == "0"
    assert (standin.calls["oauth"], standin.calls["register-v2"]) == (2, 3)


@pytest.mark.parametrize(
    ("status", "body", "rejects_token"),
    [
        (401, INVALID_TOKEN, True),
        (400, {"errorCode": "400.003.01", "errorMessage": "Invalid Access Token"}, True),
        (401, PRODUCT_MISMATCH, False),
        (401, {"fault": {"faultstring": "Invalid API call as no apiproduct match found"}}, False),
        (400, {"errorCode": "400.002.02", "errorMessage": "Bad Request"}, False),
        (200, {}, False),
    ],
)
def test_which_answers_reject_the_token(status: int, body: Any, rejects_token: bool) -> None:
    """Only an invalid-token answer makes the OAuth flow fetch a new token."""
    assert is_token_rejection(httpx.Response(status, json=body)) is rejects_token
