"""pesadesk's Daraja client against the emulator's wave-2 APIs over real HTTP: a Dynamic QR
it can serve, and the C2B register fallback from v2 to v1 for a v1-only shortcode."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest
import zxingcpp
from PIL import Image

from pesadesk.daraja.client import DarajaClient
from pesadesk.daraja.errors import DarajaProductMismatch
from pesadesk.testing.emulator import CallbackSink, RunningEmulator

T = TypeVar("T")


def run(emu: RunningEmulator, work: Callable[[DarajaClient], Awaitable[T]], **cfg: Any) -> T:
    async def main() -> T:
        async with DarajaClient(emu.daraja_config(**cfg)) as daraja:
            return await work(daraja)

    return asyncio.run(main())


def add_v1_only(emu: RunningEmulator, shortcode: str) -> None:
    answer = httpx.post(
        f"{emu.base_url}/emulator/merchants",
        json={"shortcode": shortcode, "passkey": "k" * 16, "c2b_register_version": "v1"},
    )
    answer.raise_for_status()


def test_client_qr_decodes_to_the_sale(emu: RunningEmulator) -> None:
    """The client's qr_generate gets a PNG that decodes to the RefNo and the amount."""
    qr = run(
        emu,
        lambda d: d.qr_generate(
            merchant_name="Duka La Mama",
            ref_no="POS-20260206-0007",
            amount_cents=1_250_00,
            trx_code="PB",
            cpi="174379",
        ),
    )
    (found,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.png)))
    decoded = json.loads(found.text)
    assert (decoded["RefNo"], decoded["Amount"], decoded["CPI"]) == (
        "POS-20260206-0007",
        1250,
        "174379",
    )
    assert qr.response_code == "00"


def test_client_falls_back_to_v1_for_a_v1_only_shortcode(
    emu: RunningEmulator, sink: CallbackSink
) -> None:
    """Registering 600100 on v2 meets the product mismatch; the client falls back to v1."""
    add_v1_only(emu, "600100")
    registration = run(
        emu,
        lambda d: d.c2b_register_with_fallback(
            confirmation_url=sink.url("/c2b/confirmation"),
            validation_url=sink.url("/c2b/validation"),
            shortcode="600100",
        ),
    )
    assert (registration.version, registration.fell_back) == ("v1", True)
    assert emu.state.c2b_registrations["600100"].version == "v1"


def test_client_sees_the_product_mismatch_as_such(emu: RunningEmulator, sink: CallbackSink) -> None:
    """A plain v2 register on a v1-only shortcode is DarajaProductMismatch, not a token error."""
    add_v1_only(emu, "600100")
    with pytest.raises(DarajaProductMismatch):
        run(
            emu,
            lambda d: d.c2b_register_urls(
                confirmation_url=sink.url("/c2b/confirmation"),
                validation_url=sink.url("/c2b/validation"),
                shortcode="600100",
                version="v2",
            ),
        )
    assert emu.state.oauth_calls == 1  # the token was not refreshed for it
