"""Paybill end to end with the emulator: a simulated customer pays, Safaricom's
validation and confirmation reach pesadesk over HTTP; a confirmation that never came is
recovered by Pull Transactions."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from pesadesk.accounts.daraja import c2b_config
from pesadesk.c2b.pull import PullResult, pull_missed
from pesadesk.core.clock import SystemClock
from pesadesk.daraja.client import DarajaClient
from pesadesk.pipeline.run import Pipeline
from tests.acceptance.conftest import Desk, wait_until

pytestmark = pytest.mark.slow


def daraja_for(desk: Desk) -> DarajaClient:
    return DarajaClient(c2b_config(desk.settings))


def open_invoice(desk: Desk, amount: int) -> dict[str, Any]:
    cust = desk.api.post(
        "/api/customers", json={"name": "Paybill Payer", "phone": "0799000000"}
    ).json()
    answer = desk.api.post(
        "/api/invoices", json={"customer_id": cust["customer_id"], "amount": amount}
    )
    invoice: dict[str, Any] = answer.json()
    return invoice


def simulate(desk: Desk, amount: int, ref: str, msisdn: str) -> None:
    async def run() -> None:
        async with daraja_for(desk) as daraja:
            await daraja.c2b_register_urls(
                confirmation_url=f"{desk.url}/api/webhooks/c2b/confirmation",
                validation_url=f"{desk.url}/api/webhooks/c2b/validation",
            )
            await daraja.c2b_simulate(amount_cents=amount * 100, msisdn=msisdn, bill_ref_number=ref)

    asyncio.run(run())


def test_simulated_paybill_payment_lands_on_the_invoice(desk: Desk) -> None:
    """The emulator validates then confirms; the invoice is paid and the payment keeps the
    MSISDN as Safaricom sent it (hashed or masked), never in clear."""
    invoice = open_invoice(desk, 750)
    simulate(desk, 750, invoice["invoice_id"].lower(), "254712345678")

    def paid() -> bool:
        current = desk.api.get(f"/api/invoices/{invoice['invoice_id']}").json()
        return bool(current["status"] == "PAID")

    wait_until(paid, what="invoice paid by C2B")
    payments = desk.api.get("/api/payments", params={"source": "c2b"}).json()
    assert len(payments) == 1
    assert payments[0]["phone"] != "254712345678"
    sources = [e["source"] for e in desk.api.get("/api/webhooks/logs").json()["data"]]
    assert sources.count("c2b_validation") == 1
    assert sources.count("c2b_confirmation") == 1


def test_pull_transactions_recover_a_missed_confirmation(desk: Desk) -> None:
    """No confirmation ever arrives; Pull Transactions records it once, as a callback would."""
    invoice = open_invoice(desk, 300)
    simulate(desk, 300, invoice["invoice_id"], "254700000404")  # the no-callback number
    state = desk.emulator.state
    wait_until(lambda: any(r.kind == "c2b" for r in state.receipts.values()), what="receipt")
    assert desk.api.get("/api/payments").json() == []

    async def pull() -> PullResult:
        async with daraja_for(desk) as daraja:
            pipeline = Pipeline(desk.db, desk.settings, SystemClock())
            return await pull_missed(pipeline=pipeline, daraja=daraja, hours=1)

    first = asyncio.run(pull())
    assert len(first.recorded) == 1
    assert desk.api.get(f"/api/invoices/{invoice['invoice_id']}").json()["status"] == "PAID"
    second = asyncio.run(pull())
    assert (second.seen, second.recorded) == (1, [])
    assert len(desk.api.get("/api/payments").json()) == 1
    logged = desk.api.get("/api/webhooks/logs", params={"source": "c2b_confirmation"}).json()
    [entry] = logged["data"]  # the message the shilling came by
    assert (entry["source"], entry["origin"], entry["processed"]) == (
        "c2b_confirmation",
        "pull",
        True,
    )
    assert entry["external_id"] == first.recorded[0]
