"""A small ASGI stand-in for a few Daraja endpoints, reached through the client's transport
seam (`httpx.ASGITransport`): OAuth, Dynamic QR and C2B register, each scripted per test.

The emulator grows the same endpoints; this stand-in lets the client's handling of
Daraja's odd answers (a product mismatch, a QR with line breaks, a refusal in a 200) be
tested exactly, whatever the emulator does.
"""

from __future__ import annotations

import base64
import struct
import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from pesadesk.daraja.client import DarajaClient, DarajaConfig

PRODUCT_MISMATCH = {
    "requestId": "11728-2929992-1",
    "errorCode": "401.003.01",
    "errorMessage": "Error Occurred - Invalid Access Token - Invalid API call as no apiproduct "
    "match found",
}
INVALID_TOKEN = {
    "requestId": "11728-2929993-1",
    "errorCode": "404.001.03",
    "errorMessage": "Invalid Access Token",
}


def tiny_png() -> bytes:
    """A valid 1x1 grey PNG, built by hand so the test needs no imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x80"))
        + chunk(b"IEND", b"")
    )


PNG = tiny_png()


def qr_success(**changes: Any) -> tuple[int, dict[str, Any]]:
    """Daraja's documented QR answer around `PNG` (reference §16)."""
    answer: dict[str, Any] = {
        "ResponseCode": "00",
        "RequestID": "16738-27456357-1",
        "ResponseDescription": "The QR Code generated successfully.",
        "QRCode": base64.b64encode(PNG).decode("ascii"),
    }
    answer.update(changes)
    return 200, answer


@dataclass
class StandIn:
    """Scripted answers and a record of what the client sent."""

    qr_answers: list[tuple[int, dict[str, Any]]] = field(default_factory=lambda: [qr_success()])
    refuse_versions: set[str] = field(default_factory=set)  # register versions "not in the app"
    register_answer: tuple[int, dict[str, Any]] | None = None
    calls: Counter[str] = field(default_factory=Counter)
    bodies: list[tuple[str, Any]] = field(default_factory=list)
    valid_tokens: set[str] = field(default_factory=set)

    def expire_tokens(self) -> None:
        self.valid_tokens.clear()

    async def _token(self, request: Request) -> JSONResponse:
        self.calls["oauth"] += 1
        if not request.headers.get("authorization", "").startswith("Basic "):
            return JSONResponse({"errorCode": "400.008.01"}, status_code=400)
        token = f"token-{self.calls['oauth']:04d}-abcdefghijklmnopq"
        self.valid_tokens.add(token)
        return JSONResponse({"access_token": token, "expires_in": "3599"})

    async def _authorised(self, request: Request) -> bool:
        self.bodies.append((request.url.path, await request.json()))
        header = request.headers.get("authorization", "")
        return header.removeprefix("Bearer ") in self.valid_tokens

    async def _qr(self, request: Request) -> JSONResponse:
        self.calls["qr"] += 1
        if not await self._authorised(request):
            return JSONResponse(INVALID_TOKEN, status_code=401)
        status, body = self.qr_answers.pop(0) if len(self.qr_answers) > 1 else self.qr_answers[0]
        return JSONResponse(body, status_code=status)

    async def _register(self, request: Request) -> JSONResponse:
        version = request.path_params["version"]
        self.calls[f"register-{version}"] += 1
        if version in self.refuse_versions:  # the app lacks the product for this version
            return JSONResponse(PRODUCT_MISMATCH, status_code=401)
        if not await self._authorised(request):
            return JSONResponse(INVALID_TOKEN, status_code=401)
        if self.register_answer is not None:
            return JSONResponse(self.register_answer[1], status_code=self.register_answer[0])
        return JSONResponse(
            {
                "OriginatorCoversationID": "7619-37765134-1",
                "ResponseCode": "0",
                "ResponseDescription": "success",
            }
        )

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/oauth/v1/generate", self._token, methods=["GET"]),
                Route("/mpesa/qrcode/v1/generate", self._qr, methods=["POST"]),
                Route("/mpesa/c2b/{version}/registerurl", self._register, methods=["POST"]),
            ]
        )

    def client(self) -> DarajaClient:
        """A client bound to this stand-in in-process; retries wait for nothing."""

        async def no_wait(_: float) -> None:
            return None

        config = DarajaConfig(
            consumer_key=SecretStr("key"),
            consumer_secret=SecretStr("secret"),
            base_url="https://daraja.test",
            shortcode="600000",
        )
        transport = httpx.ASGITransport(app=self.app())
        return DarajaClient(config, transport=transport, sleep=no_wait)
