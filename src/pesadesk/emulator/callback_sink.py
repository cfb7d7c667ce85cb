"""A stand-in for the business's callback URLs: it keeps every callback POSTed to it.

The emulator's tests (and anyone trying the emulator by hand) point CallBackURL,
ResultURL, ConfirmationURL... at it and read what Daraja would have sent. It answers as
pesadesk's webhooks do, unless told otherwise per path.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = ["CallbackSink", "Received"]


@dataclass
class Received:
    path: str
    query: str
    headers: dict[str, str]
    body: Any


@dataclass
class CallbackSink:
    """Collects what is POSTed to it; answers like pesadesk's webhooks do."""

    base_url: str = ""
    received: list[Received] = field(default_factory=list)
    # path -> JSON answer; default {"ResultCode": 0, "ResultDesc": "Accepted"}
    answers: dict[str, Any] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def at(self, path: str) -> list[Received]:
        with self._cond:
            return [r for r in self.received if r.path == path]

    def wait_for(
        self,
        count: int,
        *,
        path: str | None = None,
        timeout: float = 5.0,
        predicate: Callable[[Received], bool] | None = None,
    ) -> list[Received]:
        """Block until `count` matching callbacks arrived; raises TimeoutError otherwise."""

        def matching() -> list[Received]:
            return [
                r
                for r in self.received
                if (path is None or r.path == path) and (predicate is None or predicate(r))
            ]

        with self._cond:
            if not self._cond.wait_for(lambda: len(matching()) >= count, timeout=timeout):
                raise TimeoutError(f"expected {count} callbacks, got {len(matching())}")
            return matching()

    async def _endpoint(self, request: Request) -> Response:
        raw = await request.body()
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw.decode(errors="replace")
        path = request.url.path
        with self._cond:
            self.received.append(Received(path, request.url.query, dict(request.headers), body))
            self._cond.notify_all()
        answer = self.answers.get(path, {"ResultCode": 0, "ResultDesc": "Accepted"})
        return JSONResponse(answer, status_code=self.statuses.get(path, 200))

    def app(self) -> Starlette:
        """The ASGI app that records every POST, to any path."""
        return Starlette(routes=[Route("/{path:path}", self._endpoint, methods=["POST"])])
