"""Several shortcodes (CONTRACT §9): each with its own passkey and kind, added by config or
by the control endpoint; C2B register v2 refused for an app that only has v1."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from pesadesk.core.clock import daraja_timestamp
from pesadesk.daraja.client import DarajaClient, stk_password
from pesadesk.emulator.config import EmulatorConfig, Merchant, parse_merchant_spec
from pesadesk.testing.emulator import CallbackSink, RunningEmulator, running_emulator

PHONE = "254712345678"
BASIC = "Basic " + base64.b64encode(b"any-key:any-secret").decode()
PAYBILL_KEY = "a1" * 32
TILL_KEY = "b2" * 32
PRODUCT_MISMATCH = (
    "Error Occurred - Invalid Access Token - Invalid API call as no apiproduct match found"
)


@pytest.fixture(scope="module")
def shop() -> Iterator[RunningEmulator]:
    """An emulator serving a paybill (v1-only C2B) and a till besides the sandbox's 174379."""
    config = EmulatorConfig(
        callback_delay_seconds=0.05,
        merchants=(
            Merchant("600100", PAYBILL_KEY, kind="paybill", c2b_register_version="v1"),
            Merchant("700200", TILL_KEY, kind="till", till_number="5555555"),
        ),
    )
    with running_emulator(config) as running:
        yield running


@pytest.fixture
def fresh_shop(shop: RunningEmulator) -> RunningEmulator:
    shop.state.reset()
    return shop


def token(emu: RunningEmulator) -> str:
    answer = httpx.get(
        f"{emu.base_url}/oauth/v1/generate",
        params={"grant_type": "client_credentials"},
        headers={"Authorization": BASIC},
    )
    value: str = answer.json()["access_token"]
    return value


def post(emu: RunningEmulator, path: str, body: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token(emu)}"}
    return httpx.post(f"{emu.base_url}{path}", json=body, headers=headers)


def stk_body(shortcode: str, passkey: str, callback: str, **changes: Any) -> dict[str, Any]:
    stamp = daraja_timestamp(datetime.now(UTC))
    body: dict[str, Any] = {
        "BusinessShortCode": shortcode,
        "Password": stk_password(shortcode, passkey, stamp),
        "Timestamp": stamp,
        "TransactionType": "CustomerPayBillOnline",
        "Amount": 10,
        "PartyA": PHONE,
        "PartyB": shortcode,
        "PhoneNumber": PHONE,
        "CallBackURL": callback,
        "AccountReference": "INV-1",
        "TransactionDesc": "Order 1",
    }
    body.update(changes)
    return body


def stk_result(sink: CallbackSink, path: str) -> int:
    (received,) = sink.wait_for(1, path=path)
    code: int = received.body["Body"]["stkCallback"]["ResultCode"]
    return code


# --- STK -----------------------------------------------------------------------------------


def test_each_shortcode_takes_its_own_passkey(
    fresh_shop: RunningEmulator, sink: CallbackSink
) -> None:
    """A push to 600100 with its passkey is paid into 600100, whose callback names it."""
    answer = post(
        fresh_shop,
        "/mpesa/stkpush/v1/processrequest",
        stk_body("600100", PAYBILL_KEY, sink.url("/paybill")),
    )
    assert answer.json()["ResponseCode"] == "0"
    (received,) = sink.wait_for(1, path="/paybill")
    assert received.body["Body"]["stkCallback"]["ResultCode"] == 0
    assert received.headers["businessshortcode"] == "600100"
    assert fresh_shop.state.accounts["600100"].utility == 500_000_00 + 10_00


def test_another_shortcodes_passkey_is_wrong_credentials(fresh_shop: RunningEmulator) -> None:
    """The sandbox passkey does not open 600100, nor 600100's passkey the till."""
    sandbox = post(
        fresh_shop,
        "/mpesa/stkpush/v1/processrequest",
        stk_body("600100", fresh_shop.state.config.passkey, "https://example.com/cb"),
    )
    crossed = post(
        fresh_shop,
        "/mpesa/stkpush/v1/processrequest",
        stk_body("700200", PAYBILL_KEY, "https://example.com/cb"),
    )
    assert sandbox.json()["errorMessage"] == "Wrong credentials"
    assert crossed.json()["errorMessage"] == "Wrong credentials"


def test_till_pays_by_buy_goods_to_its_till(
    fresh_shop: RunningEmulator, sink: CallbackSink
) -> None:
    """Buy Goods to the till number succeeds; Pay Bill to a till, Buy Goods to a paybill and
    Buy Goods to another till end in 2028, as Safaricom answers a mismatch."""
    buy_goods = {"TransactionType": "CustomerBuyGoodsOnline"}
    cases = {
        "/ok": ("700200", TILL_KEY, {**buy_goods, "PartyB": "5555555"}),
        "/paybill-to-till": ("700200", TILL_KEY, {}),
        "/goods-to-paybill": ("600100", PAYBILL_KEY, buy_goods),
        "/other-till": ("700200", TILL_KEY, {**buy_goods, "PartyB": "5555556"}),
    }
    for path, (shortcode, passkey, changes) in cases.items():
        body = stk_body(shortcode, passkey, sink.url(path), **changes)
        assert post(fresh_shop, "/mpesa/stkpush/v1/processrequest", body).status_code == 200
    results = {path: stk_result(sink, path) for path in cases}
    assert results == {
        "/ok": 0,
        "/paybill-to-till": 2028,
        "/goods-to-paybill": 2028,
        "/other-till": 2028,
    }


def test_client_pays_a_till_merchant(fresh_shop: RunningEmulator) -> None:
    """The Daraja client set up for the till (store number, till, passkey) is paid."""

    async def main() -> str | None:
        config = fresh_shop.daraja_config(merchant="700200")
        async with DarajaClient(config) as daraja:
            accepted = await daraja.stk_push(
                phone=PHONE, amount_cents=50_00, account_reference="POS-1", description="Sale"
            )
            await asyncio.sleep(0.15)
            return (await daraja.stk_query(accepted.checkout_request_id)).result_code

    assert asyncio.run(main()) == "0"
    (txn,) = fresh_shop.state.stk.values()
    assert (txn.shortcode, txn.party_b, txn.transaction_type) == (
        "700200",
        "5555555",
        "CustomerBuyGoodsOnline",
    )


# --- the control endpoint ------------------------------------------------------------------


def test_control_endpoint_adds_a_merchant_until_reset(
    emu: RunningEmulator, sink: CallbackSink
) -> None:
    """POST /emulator/merchants serves a new shortcode at once; a reset forgets it."""
    added = httpx.post(
        f"{emu.base_url}/emulator/merchants",
        json={"shortcode": "800300", "passkey": "k" * 20, "kind": "paybill"},
    )
    assert added.status_code == 200
    assert added.json()["800300"] == {
        "kind": "paybill",
        "till_number": None,
        "c2b_register_version": "v2",
    }
    paid = post(
        emu, "/mpesa/stkpush/v1/processrequest", stk_body("800300", "k" * 20, sink.url("/new"))
    )
    assert paid.json()["ResponseCode"] == "0"
    assert stk_result(sink, "/new") == 0
    httpx.post(f"{emu.base_url}/emulator/reset")
    gone = post(
        emu, "/mpesa/stkpush/v1/processrequest", stk_body("800300", "k" * 20, sink.url("/x"))
    )
    assert gone.json()["errorMessage"] == "Merchant does not exist"
    assert "800300" not in httpx.get(f"{emu.base_url}/emulator/merchants").json()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"passkey": "k"}, "shortcode must be 4 to 10 digits"),
        ({"shortcode": "80a300", "passkey": "k"}, "shortcode must be 4 to 10 digits"),
        ({"shortcode": "800300"}, "passkey must be a non-empty string"),
        (
            {"shortcode": "800300", "passkey": "k", "kind": "shop"},
            "kind must be paybill, till or both",
        ),
        (
            {"shortcode": "800300", "passkey": "k", "c2b_register_version": "v3"},
            "c2b_register_version must be v1 or v2",
        ),
        (
            {"shortcode": "800300", "passkey": "k", "till_number": "55"},
            "till_number must be 4 to 10 digits",
        ),
    ],
)
def test_control_endpoint_refuses_a_bad_merchant(
    emu: RunningEmulator, body: dict[str, Any], message: str
) -> None:
    """A malformed merchant is a 400 saying which field is wrong, and nothing is added."""
    answer = httpx.post(f"{emu.base_url}/emulator/merchants", json=body)
    assert (answer.status_code, answer.json()) == (400, {"error": message})
    assert set(emu.state.merchants()) == {"174379"}


def test_account_spec_as_the_command_takes_it() -> None:
    """`--account` values: passkey, kind, till number and the v1-only flag in any order."""
    assert parse_merchant_spec("600100:key") == Merchant("600100", "key")
    assert parse_merchant_spec("600200:key:till=5555555:v1") == Merchant(
        "600200", "key", kind="till", till_number="5555555", c2b_register_version="v1"
    )
    assert parse_merchant_spec("600300:key:v1:both").kind == "both"
    for bad in ("600100", "600100:", "600100:key:shop", "600100:key:paybill=1234", "abc:key"):
        with pytest.raises(ValueError, match=r"\S"):
            parse_merchant_spec(bad)


# --- C2B -----------------------------------------------------------------------------------


def register(
    emu: RunningEmulator, sink: CallbackSink, shortcode: str, version: str
) -> httpx.Response:
    body = {
        "ShortCode": shortcode,
        "ResponseType": "Completed",
        "ConfirmationURL": sink.url(f"/{shortcode}/confirmation"),
        "ValidationURL": sink.url(f"/{shortcode}/validation"),
    }
    return post(emu, f"/mpesa/c2b/{version}/registerurl", body)


def simulate(emu: RunningEmulator, shortcode: str, version: str = "v1") -> httpx.Response:
    body = {
        "ShortCode": shortcode,
        "CommandID": "CustomerPayBillOnline",
        "Amount": 25,
        "Msisdn": PHONE,
        "BillRefNumber": "INV-7",
    }
    return post(emu, f"/mpesa/c2b/{version}/simulate", body)


def test_v1_only_shortcode_refuses_v2_register(
    fresh_shop: RunningEmulator, sink: CallbackSink
) -> None:
    """v2 register and simulate on a v1-only shortcode answer Daraja's 401 product
    mismatch in its error envelope; v1 then works, and other shortcodes take v2."""
    refused = register(fresh_shop, sink, "600100", "v2")
    refused_simulate = simulate(fresh_shop, "600100", "v2")
    fallback = register(fresh_shop, sink, "600100", "v1")
    other = register(fresh_shop, sink, "700200", "v2")
    assert refused.status_code == 401
    assert set(refused.json()) == {"requestId", "errorCode", "errorMessage"}
    assert refused.json()["errorMessage"] == PRODUCT_MISMATCH
    assert (refused_simulate.status_code, refused_simulate.json()["errorMessage"]) == (
        401,
        PRODUCT_MISMATCH,
    )
    assert fallback.json()["ResponseCode"] == "0"
    assert other.json()["ResponseCode"] == "0"
    assert fresh_shop.state.c2b_registrations["600100"].version == "v1"


def test_c2b_callbacks_carry_the_shortcode_simulated(
    fresh_shop: RunningEmulator, sink: CallbackSink
) -> None:
    """Paying 600100 and 600000 sends each confirmation to that shortcode's URLs, naming it."""
    register(fresh_shop, sink, "600100", "v1")
    register(fresh_shop, sink, "600000", "v2")
    simulate(fresh_shop, "600100")
    simulate(fresh_shop, "600000")
    (first,) = sink.wait_for(1, path="/600100/confirmation")
    (second,) = sink.wait_for(1, path="/600000/confirmation")
    assert first.body["BusinessShortCode"] == "600100"
    assert second.body["BusinessShortCode"] == "600000"
    assert fresh_shop.state.accounts["600100"].utility == 500_000_00 + 25_00
