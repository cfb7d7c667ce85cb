"""The Daraja emulator as an ASGI app: Daraja's paths, validation, answers and callbacks.

A client written for Safaricom's sandbox works against it by changing only the base URL.
Synchronous answers use Daraja's envelopes (`{"requestId","errorCode","errorMessage"}`);
asynchronous results are POSTed for real to the URLs given, in the background, with the
payload shapes of reference §15. Each Daraja API family lives in its own module (oauth,
stk, c2b, b2c, org, pull, qr); this one routes a request to it after the checks every
API shares (method, outage, bearer token, JSON body). Control endpoints live under
`/emulator/` (control.py) and need no token. Scenarios are described in `scenarios.py`
and SCENARIOS.md.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pesadesk.emulator.b2c import B2CApi
from pesadesk.emulator.base import Api
from pesadesk.emulator.c2b import C2BApi
from pesadesk.emulator.config import EmulatorConfig
from pesadesk.emulator.control import Control
from pesadesk.emulator.dispatcher import Dispatcher
from pesadesk.emulator.oauth import OAuthApi
from pesadesk.emulator.org import OrgApi
from pesadesk.emulator.pull import PullApi
from pesadesk.emulator.qr import QrApi
from pesadesk.emulator.state import EmulatorState
from pesadesk.emulator.stk import StkApi
from pesadesk.emulator.validation import Reject, TokenStyle, read_json

__all__ = ["Emulator", "create_emulator_app"]


class Emulator:
    """Daraja's behaviour over an `EmulatorState`, sending callbacks with a `Dispatcher`."""

    def __init__(self, state: EmulatorState, dispatcher: Dispatcher) -> None:
        self.state = state
        self.dispatcher = dispatcher
        self.oauth = OAuthApi(state, dispatcher)
        self.stk = StkApi(state, dispatcher)
        self.c2b = C2BApi(state, dispatcher)
        self.b2c = B2CApi(state, dispatcher)
        self.org = OrgApi(state, dispatcher)
        self.pull = PullApi(state, dispatcher)
        self.qr = QrApi(state, dispatcher)
        self.control = Control(state)
        self.apis: dict[str, Api] = {}
        for group in (self.oauth, self.stk, self.c2b, self.b2c, self.org, self.pull, self.qr):
            self.apis.update(group.apis())

    @property
    def config(self) -> EmulatorConfig:
        return self.state.config

    def error(self, reject: Reject) -> JSONResponse:
        return JSONResponse(
            {
                "requestId": reject.request_id or self.state.new_request_id(),
                "errorCode": reject.code,
                "errorMessage": reject.message,
            },
            status_code=reject.status,
        )

    async def handle(self, request: Request) -> Response:
        """Every Daraja path: the shared checks, then the API's own handler."""
        path = "/" + request.path_params.get("path", "").strip("/")
        api = self.apis.get(path)
        try:
            if api is None:
                raise Reject(404, "404.001.01", "Resource not found")
            if request.method != api.method:
                raise Reject(405, "405.001", "Method Not Allowed")
            with self.state.lock:
                self.state.request_counts[path] += 1
            if api.token is None:
                return await api.handler(request, {})
            outage = self.state.take_outage()
            if outage is not None:
                raise Reject(outage, "500.003.1001", "Service Unavailable")
            self._check_bearer(request, api.token)
            body = await read_json(request)
            return await api.handler(request, body)
        except Reject as reject:
            return self.error(reject)

    def _check_bearer(self, request: Request, style: TokenStyle) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Reject(404, "404.001.04", "Invalid Authentication Header")
        if not self.state.token_valid(token.strip()):
            raise Reject(*style)


def create_emulator_app(
    config: EmulatorConfig | None = None,
    *,
    state: EmulatorState | None = None,
    callback_transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """A fresh emulator app; `app.state.emulator` gives tests the `Emulator` behind it
    (and `app.state.emulator.state` its `EmulatorState`)."""
    emulator_state = state or EmulatorState(config)
    dispatcher = Dispatcher(emulator_state, transport=callback_transport)
    emulator = Emulator(emulator_state, dispatcher)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await dispatcher.aclose()

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    routes = [
        *emulator.control.routes(),
        Route("/{path:path}", emulator.handle, methods=methods),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.emulator = emulator
    return app
