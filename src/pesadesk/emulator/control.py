"""The control endpoints under `/emulator/` (no token): scenarios, wallets, merchants, state.

They steer the emulator from tests and by hand; Daraja has nothing like them. Their
errors are a plain `{"error": "..."}` with HTTP 400.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pesadesk.core.errors import InvalidAmount
from pesadesk.core.money import to_cents
from pesadesk.emulator.config import merchant_from_mapping
from pesadesk.emulator.dispatcher import dumps
from pesadesk.emulator.scenarios import MAGIC_NUMBERS, SCENARIOS, UnknownScenario, named_scenario
from pesadesk.emulator.state import EmulatorState, merchant_summary
from pesadesk.emulator.validation import is_msisdn

__all__ = ["Control"]


def _problem(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=400)


async def _json_object(request: Request) -> dict[str, Any] | None:
    try:
        body = json.loads(await request.body(), parse_float=Decimal)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


class Control:
    """`/emulator/...`: what tests and people use to steer and inspect the emulator."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        return [
            Route("/emulator/health", self.health, methods=["GET"]),
            Route("/emulator/state", self.summary, methods=["GET"]),
            Route("/emulator/callbacks", self.callbacks, methods=["GET"]),
            Route("/emulator/scenarios", self.scenarios, methods=["GET", "POST", "DELETE"]),
            Route("/emulator/reset", self.reset, methods=["POST"]),
            Route("/emulator/tokens/expire", self.expire_tokens, methods=["POST"]),
            Route("/emulator/wallets", self.wallet, methods=["POST"]),
            Route("/emulator/accounts", self.account, methods=["POST"]),
            Route("/emulator/merchants", self.merchants, methods=["GET", "POST"]),
            Route("/emulator/certificate", self.certificate, methods=["GET"]),
        ]

    async def health(self, _: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def summary(self, _: Request) -> Response:
        return JSONResponse(self.state.summary())

    async def callbacks(self, _: Request) -> Response:
        with self.state.lock:
            rows = [
                {
                    "kind": d.kind,
                    "url": d.url,
                    "payload": json.loads(dumps(d.payload)),
                    "at": d.at.isoformat(),
                    "status_code": d.status_code,
                    "error": d.error,
                }
                for d in self.state.deliveries
            ]
        return JSONResponse(rows)

    async def scenarios(self, request: Request) -> Response:
        """Set a scenario: for one phone, for all numbers, or `daraja_down` for N requests."""
        if request.method == "DELETE":
            self.state.clear_scenarios()
            return JSONResponse(self.state.summary())
        if request.method == "GET":
            return JSONResponse({"scenarios": sorted(SCENARIOS), "magic_numbers": MAGIC_NUMBERS})
        body = await _json_object(request)
        if body is None:
            return _problem("body must be a JSON object")
        name = body.get("scenario")
        if not isinstance(name, str):
            return _problem("give a scenario name")
        if name == "daraja_down":
            return self._outage(body)
        delay = body.get("delay_seconds")
        if delay is not None and (not isinstance(delay, int | float | Decimal) or delay < 0):
            return _problem("delay_seconds must be >= 0")
        try:
            scenario = named_scenario(name, delay_seconds=None if delay is None else float(delay))
        except UnknownScenario as exc:
            return _problem(str(exc))
        phone = body.get("phone")
        if phone is not None and not is_msisdn(phone):
            return _problem("phone must be 2547XXXXXXXX")
        self.state.set_scenario(scenario, phone)
        return JSONResponse(self.state.summary())

    def _outage(self, body: dict[str, Any]) -> Response:
        requests = body.get("requests", 1)
        status = body.get("status", 503)
        if not isinstance(requests, int) or not isinstance(status, int) or status < 500:
            return _problem("requests and a 5xx status")
        self.state.start_outage(requests, status)
        return JSONResponse(self.state.summary())

    async def reset(self, _: Request) -> Response:
        self.state.reset()
        return JSONResponse(self.state.summary())

    async def expire_tokens(self, _: Request) -> Response:
        self.state.expire_tokens()
        return JSONResponse({"expired": True})

    async def wallet(self, request: Request) -> Response:
        """`{"phone": "2547...", "balance": "1500.00"}` sets a customer's wallet."""
        return await self._set_money(request, "phone", self.state.set_wallet)

    async def account(self, request: Request) -> Response:
        """`{"shortcode": "600000", "balance": "100.00"}` sets the utility account."""
        return await self._set_money(request, "shortcode", self.state.set_utility)

    async def _set_money(
        self, request: Request, key: str, setter: Callable[[str, int], None]
    ) -> Response:
        body = await _json_object(request)
        try:
            if body is None:
                raise ValueError(key)
            target = str(body[key])
            cents = to_cents(body["balance"])
        except (ValueError, KeyError, TypeError, InvalidAmount):
            return _problem(f"give {key} and balance")
        setter(target, cents)
        return JSONResponse(self.state.summary())

    async def merchants(self, request: Request) -> Response:
        """GET lists the shortcodes served; POST adds one until the next reset:
        `{"shortcode", "passkey", "kind": paybill|till|both, "till_number"?,
        "c2b_register_version": v2|v1}`."""
        if request.method == "POST":
            body = await _json_object(request)
            if body is None:
                return _problem("body must be a JSON object")
            try:
                merchant = merchant_from_mapping(body)
            except ValueError as exc:
                return _problem(str(exc))
            self.state.add_merchant(merchant)
        listed = {k: merchant_summary(m) for k, m in self.state.merchants().items()}
        return JSONResponse(listed)

    async def certificate(self, _: Request) -> Response:
        return Response(self.state.certificate_pem, media_type="application/x-pem-file")
