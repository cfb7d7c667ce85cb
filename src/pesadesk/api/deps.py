"""Dependencies: the app's state and the caller's role, as `Annotated` aliases."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from pesadesk.config import Settings
from pesadesk.core.clock import Clock
from pesadesk.core.errors import Forbidden, Unauthenticated
from pesadesk.core.statuses import Role
from pesadesk.db.session import Database
from pesadesk.jobs.runtime import Runtime
from pesadesk.metrics import Metrics
from pesadesk.pipeline.writer import IngestWriter
from pesadesk.shared import apikeys
from pesadesk.shared.apikeys import Principal


@dataclass
class AppState:
    settings: Settings
    db: Database
    clock: Clock
    metrics: Metrics = field(default_factory=Metrics)
    runtime: Runtime | None = None
    writer: IngestWriter | None = None

    def require_runtime(self) -> Runtime:
        if self.runtime is None:
            raise RuntimeError("the app has not started (lifespan not run)")
        return self.runtime


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.pesadesk
    return state


State = Annotated[AppState, Depends(get_state)]


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send Authorization: Bearer <API key>")
    return token.strip()


def require(role: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    async def dependency(request: Request, state: State) -> Principal:
        key = _bearer(request)

        def lookup() -> Principal | None:
            with state.db.read() as session:
                return apikeys.authenticate(session, key=key, security=state.settings.security)

        principal = await run_in_threadpool(lookup)
        if principal is None:
            raise Unauthenticated("unknown or revoked API key")
        if not principal.role.allows(role):
            raise Forbidden(f"this needs the {role.value} role; the key is {principal.role.value}")
        return principal

    return dependency


Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Operator = Annotated[Principal, Depends(require(Role.OPERATOR))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
