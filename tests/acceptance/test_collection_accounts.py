"""CONTRACT §9 with the emulator over HTTP: two collection accounts in one desk (the
default paybill and a till with its own credentials and B2C), each paid by C2B and by
STK; per-account figures that add up to the whole; a refund that leaves through the
account that took the money; a shortcode no account owns; a sale's Dynamic QR."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import pytest
import zxingcpp
from PIL import Image

from pesadesk.accounts.registry import named
from pesadesk.daraja.client import DarajaClient
from pesadesk.emulator.config import Merchant
from tests.acceptance.conftest import Desk, wait_until
from tests.helpers import CONFIRMATION, c2b_body

pytestmark = pytest.mark.slow

TILL = Merchant("5123456", "till-passkey-0123456789", kind="till", till_number="5123457")
TILL_B2C = "5123456"


@pytest.fixture
def emulator_merchants() -> tuple[Merchant, ...]:
    return (TILL,)


@pytest.fixture
def desk_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    """A till account besides the default paybill, paying its refunds from its own B2C."""
    return {"payments": {"accounts": [{
        "name": "shop-till", "shortcode": TILL.shortcode, "kind": "till",
        "till_number": TILL.till_number, "consumer_key": "till-key",
        "consumer_secret": "till-secret", "passkey": TILL.passkey,
        "b2c": {"consumer_key": "till-key", "consumer_secret": "till-secret",
                "shortcode": TILL_B2C, "initiator_name": "testapi",
                "security_credential": "__emulator_credential__"},
    }]}}  # fmt: skip


def _simulate(desk: Desk, account: str, amount: int, ref: str, msisdn: str) -> None:
    chosen = named(desk.settings, account)

    async def run() -> None:
        async with DarajaClient(chosen.c2b) as daraja:
            await daraja.c2b_register_urls(
                confirmation_url=f"{desk.url}/api/webhooks/c2b/confirmation",
                validation_url=f"{desk.url}/api/webhooks/c2b/validation",
                shortcode=chosen.shortcode,
            )
            await daraja.c2b_simulate(
                amount_cents=amount * 100, msisdn=msisdn,
                bill_ref_number=None if chosen.kind == "till" else ref,
                command_id="CustomerBuyGoodsOnline" if chosen.kind == "till"
                else "CustomerPayBillOnline",
            )  # fmt: skip

    asyncio.run(run())


def _pay_order(desk: Desk, amount: int, account: str | None) -> dict[str, Any]:
    order = desk.api.post(
        "/api/orders",
        json={"customer_phone": "0712345678", "amount": amount, "delivery_location": "CBD"},
    ).json()
    body = {"account": account} if account else {}
    started = desk.api.post(f"/api/orders/{order['id']}/pay", json=body)
    assert started.status_code == 202, started.text
    payment_id = started.json()["payment_id"]
    return wait_until(
        lambda: (
            (p := desk.api.get(f"/api/payments/{payment_id}").json())["status"] == "completed" and p
        ),
        what=f"order paid through {account or 'default'}",
    )  # type: ignore[no-any-return]


def test_two_accounts_each_paid_by_c2b_and_stk_add_up(desk: Desk) -> None:
    """Each account takes a C2B payment and an STK payment; every payment names its
    account and shortcode; per-account stats add up to the desk's."""
    _simulate(desk, "default", 300, "CUST-NONE", "254708374149")
    _simulate(desk, "shop-till", 450, "", "254708374150")
    paid_default = _pay_order(desk, 200, None)
    paid_till = _pay_order(desk, 700, "shop-till")
    assert (paid_default["account"], paid_till["account"]) == ("default", "shop-till")
    assert paid_till["shortcode"] == TILL.shortcode

    def c2b_both() -> list[dict[str, Any]] | None:
        found: list[dict[str, Any]] = desk.api.get("/api/payments", params={"source": "c2b"}).json()
        return found if len(found) == 2 else None

    c2b = wait_until(c2b_both, what="both C2B payments")
    assert {(p["account"], p["amount"]) for p in c2b} == {("default", 300.0), ("shop-till", 450.0)}
    whole = desk.api.get("/api/stats").json()
    parts = [
        desk.api.get("/api/stats", params={"account": a}).json() for a in ("default", "shop-till")
    ]
    for key in ("total_payments", "completed_payments", "payment_revenue"):
        assert sum(part[key] for part in parts) == whole[key], key
    assert (parts[0]["payment_revenue"], parts[1]["payment_revenue"]) == (500.0, 1150.0)
    listed = desk.api.get("/api/payments", params={"account": "shop-till"}).json()
    assert sorted(p["amount"] for p in listed) == [450.0, 700.0]


def test_a_refund_leaves_through_the_account_that_took_the_money(desk: Desk) -> None:
    """The till's STK payment is refunded from the till's own B2C shortcode."""
    paid = _pay_order(desk, 900, "shop-till")
    answer = desk.api.post(f"/api/payments/{paid['id']}/refund", json={"amount": 100})
    assert answer.status_code == 200, answer.text
    sent = list(desk.emulator.state.b2c.values())
    assert [t.shortcode for t in sent] == [TILL_B2C]
    refund = desk.api.get(f"/api/refunds/{answer.json()['refund_id']}").json()
    assert refund["account"] == "shop-till"


def test_a_shortcode_no_account_owns_is_flagged_and_credits_nothing(desk: Desk) -> None:
    """Money announced for someone else's paybill is kept, flagged, and not credited."""
    body = {**c2b_body("500.00", "NOBODY", txn="STRAY00001"), "BusinessShortCode": "999999"}
    assert desk.api.post(CONFIRMATION, json=body).status_code == 200
    assert desk.api.get("/api/payments/PAY-C2B-STRAY00001").status_code == 404
    [entry] = desk.api.get("/api/webhooks/logs", params={"external_id": "STRAY00001"}).json()[
        "data"
    ]
    assert entry["flagged"] is True
    assert "999999" in entry["error"]


def test_a_sale_has_a_dynamic_qr_with_its_id_and_amount(desk: Desk) -> None:
    """The sale's QR (drawn by Daraja's QR API in the emulator) decodes to a text naming
    the sale and its amount; the second ask is the same picture, from the desk's store."""
    sale = desk.api.post(
        "/api/pos/sales",
        json={"items": [{"product_id": "SODA", "product_name": "Soda", "quantity": 3,
                         "unit_price": 50}]},
    ).json()  # fmt: skip
    first = desk.api.get(f"/api/pos/sales/{sale['pos_id']}/qr")
    assert first.status_code == 200, first.text
    assert first.headers["content-type"] == "image/png"
    [decoded] = zxingcpp.read_barcodes(Image.open(io.BytesIO(first.content)))
    assert sale["pos_id"] in decoded.text
    assert '"Amount": 150' in decoded.text or '"Amount":150' in decoded.text
    asked = len(desk.emulator.state.qr_codes)
    again = desk.api.get(f"/api/pos/sales/{sale['pos_id']}/qr")
    assert again.content == first.content
    assert len(desk.emulator.state.qr_codes) == asked  # kept, not asked again
    till = desk.api.get(f"/api/pos/sales/{sale['pos_id']}/qr", params={"account": "shop-till"})
    [for_till] = zxingcpp.read_barcodes(Image.open(io.BytesIO(till.content)))
    assert TILL.till_number in for_till.text
    assert desk.api.get("/api/pos/sales/POS-NOPE/qr").status_code == 404
