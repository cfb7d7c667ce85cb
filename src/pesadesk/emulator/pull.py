"""Pull Transactions: register a shortcode, then list the payments it received (48 h back)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from pesadesk.core.clock import EAT
from pesadesk.emulator.base import Api, ApiGroup
from pesadesk.emulator.formats import amount_text
from pesadesk.emulator.records import Receipt
from pesadesk.emulator.validation import (
    ORG_TOKEN,
    bad,
    need_digits,
    need_msisdn,
    need_text,
    need_url,
)

__all__ = ["PullApi"]

PULL_WINDOW: Final = timedelta(hours=48)
PULL_PAGE: Final = 1000


def _when(body: dict[str, Any], name: str) -> datetime:
    """`YYYY-MM-DD HH:mm:ss` in Nairobi time, as aware UTC."""
    text = need_text(body, name)
    try:
        moment = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S")  # noqa: DTZ007
    except ValueError:
        raise bad(name) from None
    return moment.replace(tzinfo=EAT).astimezone(UTC)


def _row(receipt: Receipt) -> dict[str, Any]:
    return {
        "transactionId": receipt.receipt,
        "trxDate": receipt.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "msisdn": int(receipt.phone),
        "sender": "UNKNOWN",
        "transactiontype": "c2b-pay-bill-debit",
        "billreference": receipt.bill_ref,
        "amount": amount_text(receipt.amount_cents),
        "organizationname": receipt.name,
    }


class PullApi(ApiGroup):
    """`/pulltransactions/v1/register` and `/pulltransactions/v1/query`."""

    def apis(self) -> dict[str, Api]:
        return {
            "/pulltransactions/v1/register": Api("POST", self.register, ORG_TOKEN),
            "/pulltransactions/v1/query": Api("POST", self.query, ORG_TOKEN),
        }

    async def register(self, _: Request, body: dict[str, Any]) -> Response:
        shortcode = need_digits(body, "ShortCode")
        if need_text(body, "RequestType") != "Pull":
            raise bad("RequestType")
        need_msisdn(body, "NominatedNumber")
        callback = need_url(body, "CallBackURL")
        with self.state.lock:
            self.state.pull_registrations[shortcode] = callback
        return JSONResponse(
            {
                "ResponseRefID": self.state.new_request_id(),
                "ResponseStatus": "1000",
                "ShortCode": shortcode,
                "ResponseDescription": "Shortcode Registered Successfully",
            }
        )

    async def query(self, _: Request, body: dict[str, Any]) -> Response:
        shortcode = need_digits(body, "ShortCode")
        start, end = _when(body, "StartDate"), _when(body, "EndDate")
        offset_raw = str(body.get("OffSetValue", "0") or "0").strip()
        if not offset_raw.isdigit():
            raise bad("OffSetValue")
        offset = int(offset_raw)
        start = max(start, self.state.now() - PULL_WINDOW)
        found = self.state.received_by(shortcode, start, end)[offset : offset + PULL_PAGE]
        rows = [_row(r) for r in found]
        return JSONResponse(
            {
                "ResponseRefID": self.state.new_request_id(),
                "ResponseCode": "1000" if rows else "1001",
                "ResponseMessage": "Success" if rows else "No transactions found",
                "Response": [rows] if rows else [],
            }
        )
