"""A stand-in for the WhatsApp Cloud API, for the demo and tests: it keeps every message
it is sent and can be told to fail the next N requests."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


@dataclass
class WhatsAppSink:
    messages: list[dict[str, Any]] = field(default_factory=list)
    fail_next: int = 0
    requests: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def texts_to(self, number: str) -> list[str]:
        with self._lock:
            return [m["text"]["body"] for m in self.messages if m.get("to") == number]

    def app(self) -> FastAPI:
        api = FastAPI(title="WhatsApp sink")

        @api.post("/{phone_number_id}/messages")
        async def receive(phone_number_id: str, request: Request) -> JSONResponse:
            body = await request.json()
            with self._lock:
                self.requests += 1
                if self.fail_next > 0:
                    self.fail_next -= 1
                    return JSONResponse({"error": {"message": "try later"}}, status_code=503)
                if not request.headers.get("authorization", "").startswith("Bearer "):
                    return JSONResponse({"error": {"message": "no token"}}, status_code=401)
                self.messages.append({**body, "phone_number_id": phone_number_id})
                message_id = f"wamid.sink{next(self._ids)}"
            return JSONResponse({"messaging_product": "whatsapp", "messages": [{"id": message_id}]})

        @api.get("/_sink/messages")
        async def listing() -> dict[str, Any]:
            with self._lock:
                return {"messages": list(self.messages)}

        return api
