"""C2B: registering the confirmation and validation URLs, and (sandbox) simulating."""

from __future__ import annotations

import re
from typing import Final, Literal

from pesadesk.core.phone import normalize_phone
from pesadesk.daraja.base import DarajaBase, required, shillings
from pesadesk.daraja.errors import DarajaRequestInvalid
from pesadesk.daraja.schemas import (
    C2BRegisterRequest,
    C2BResponse,
    C2BSimulateRequest,
    TransactionType,
)

__all__ = ["FORBIDDEN_URL_WORDS", "C2BApi", "check_c2b_url"]

# Words Safaricom refuses in C2B URLs (reference §4), matched in any case.
FORBIDDEN_URL_WORDS: Final = ("m-pesa", "mpesa", "safaricom", "exe", "exec", "cmd", "sql", "query")


def check_c2b_url(url: str) -> None:
    """Refuse a C2B URL Safaricom would refuse: a forbidden word, spaces, not http(s)."""
    lowered = url.lower()
    if not re.fullmatch(r"https?://\S+", url):
        raise DarajaRequestInvalid(f"C2B URL must be an http(s) URL without spaces: {url!r}")
    for word in FORBIDDEN_URL_WORDS:
        if word in lowered:
            raise DarajaRequestInvalid(
                f"Safaricom refuses C2B URLs containing {word!r}; choose another path: {url!r}"
            )


class C2BApi(DarajaBase):
    """C2B register URL and simulate."""

    async def c2b_register_urls(
        self,
        *,
        confirmation_url: str,
        validation_url: str,
        shortcode: str | None = None,
        response_type: Literal["Completed", "Cancelled"] = "Completed",
        version: Literal["v1", "v2"] = "v1",
    ) -> C2BResponse:
        """Register where C2B validations and confirmations go (v1: hashed MSISDN)."""
        check_c2b_url(confirmation_url)
        check_c2b_url(validation_url)
        request = C2BRegisterRequest(
            short_code=required(shortcode or self.config.shortcode, "C2B shortcode"),
            response_type=response_type,
            confirmation_url=confirmation_url,
            validation_url=validation_url,
        )
        path = f"/mpesa/c2b/{version}/registerurl"
        response = await self._post(path, request, money=False)
        return self._parse(C2BResponse, response, path)

    async def c2b_simulate(
        self,
        *,
        amount_cents: int,
        msisdn: str,
        bill_ref_number: str | None,
        shortcode: str | None = None,
        command_id: TransactionType = "CustomerPayBillOnline",
        version: Literal["v1", "v2"] = "v1",
    ) -> C2BResponse:
        """Sandbox only: make a pretend customer pay the paybill or till."""
        request = C2BSimulateRequest(
            short_code=required(shortcode or self.config.shortcode, "C2B shortcode"),
            command_id=command_id,
            amount=shillings(amount_cents),
            msisdn=normalize_phone(msisdn),
            bill_ref_number=bill_ref_number,
        )
        path = f"/mpesa/c2b/{version}/simulate"
        # Simulate moves (pretend) money: sent once, like any payment.
        response = await self._post(path, request, money=True)
        return self._parse(C2BResponse, response, path)
