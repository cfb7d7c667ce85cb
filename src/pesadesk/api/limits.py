"""Every request body is capped before any work is done on it (CONTRACT §8): API JSON at
1 MiB, statement uploads at `reconciliation.max_statement_bytes`, answered 413 as soon as
the cap is passed, so no one can make pesadesk read or parse an endless body. An API
request without any key is answered 401 before its body is read at all. (The webhook
paths have their own cap, in the fast lane in front of this.)"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_JSON_LIMIT = 1024 * 1024
STATEMENTS = "/api/reconciliation/statements"
PUBLIC = ("/api/refund-requests",)  # needs no key (CONTRACT §9)


class BodyTooLarge(HTTPException):
    """An HTTP error, so that FastAPI's body reading passes it on as it is (it turns any
    other error there into a 400)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body over {limit} bytes")


async def _answer(send: Send, status: int, message: str, code: str) -> None:
    body = json.dumps({"error": message, "code": code}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    def __init__(self, app: ASGIApp, *, statement_limit: int) -> None:
        self.app = app
        self.statement_limit = statement_limit

    def _limit(self, path: str) -> int:
        return self.statement_limit if path.rstrip("/") == STATEMENTS else API_JSON_LIMIT

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/api/"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if not headers.get(b"authorization", b"").strip() and not path.startswith(PUBLIC):
            await _answer(send, 401, "send Authorization: Bearer <API key>", "unauthenticated")
            return
        limit = self._limit(path)
        declared = headers.get(b"content-length", b"").decode("latin-1")
        if declared.isdigit() and int(declared) > limit:
            await _answer(send, 413, f"request body over {limit} bytes", "payload_too_large")
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge:
            if not started:
                await _answer(send, 413, f"request body over {limit} bytes", "payload_too_large")
