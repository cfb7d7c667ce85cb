"""C2B: registering the confirmation and validation URLs, and (sandbox) simulating.

Register v2 sends masked MSISDNs, v1 hashed ones (reference §4). Many apps lack the v2
product: Daraja then answers HTTP 401 "Invalid API call as no apiproduct match found",
which is `DarajaProductMismatch`, not an expired token; `c2b_register_with_fallback`
then registers with v1 (CONTRACT §9, `pesadesk c2b register --account`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

from pesadesk.core.phone import normalize_phone
from pesadesk.daraja.base import DarajaBase, required, shillings
from pesadesk.daraja.errors import DarajaProductMismatch, DarajaRequestInvalid
from pesadesk.daraja.schemas import (
    C2BRegisterRequest,
    C2BResponse,
    C2BSimulateRequest,
    TransactionType,
)

__all__ = ["FORBIDDEN_URL_WORDS", "C2BApi", "C2BRegistration", "C2BVersion", "check_c2b_url"]

C2BVersion = Literal["v1", "v2"]

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


@dataclass(frozen=True)
class C2BRegistration:
    """Which register version Daraja took, its answer, and whether v2 was refused first."""

    version: C2BVersion
    answer: C2BResponse
    fell_back: bool = False


class C2BApi(DarajaBase):
    """C2B register URL and simulate."""

    async def c2b_register_urls(
        self,
        *,
        confirmation_url: str,
        validation_url: str,
        shortcode: str | None = None,
        response_type: Literal["Completed", "Cancelled"] = "Completed",
        version: C2BVersion = "v1",
    ) -> C2BResponse:
        """Register where C2B validations and confirmations go (v1: hashed MSISDN).

        An app without the product for `version` gets `DarajaProductMismatch`."""
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

    async def c2b_register_with_fallback(
        self,
        *,
        confirmation_url: str,
        validation_url: str,
        shortcode: str | None = None,
        response_type: Literal["Completed", "Cancelled"] = "Completed",
        version: C2BVersion = "v2",
    ) -> C2BRegistration:
        """Register with `version`; if v2 is refused for want of the product, with v1.

        Any other refusal is raised as it is: only the product mismatch falls back.
        """

        async def register(with_version: C2BVersion) -> C2BResponse:
            return await self.c2b_register_urls(
                confirmation_url=confirmation_url,
                validation_url=validation_url,
                shortcode=shortcode,
                response_type=response_type,
                version=with_version,
            )

        try:
            return C2BRegistration(version=version, answer=await register(version))
        except DarajaProductMismatch:
            if version == "v1":
                raise
        answer = await register("v1")
        return C2BRegistration(version="v1", answer=answer, fell_back=True)

    async def c2b_simulate(
        self,
        *,
        amount_cents: int,
        msisdn: str,
        bill_ref_number: str | None,
        shortcode: str | None = None,
        command_id: TransactionType = "CustomerPayBillOnline",
        version: C2BVersion = "v1",
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
