"""Dependencies: the app's state and the caller's role, as `Annotated` aliases."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Query, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from pesadesk.config import Settings
from pesadesk.core.clock import Clock
from pesadesk.core.errors import Forbidden, Unauthenticated
from pesadesk.core.statuses import Role
from pesadesk.db.session import Database
from pesadesk.jobs.runtime import Runtime
from pesadesk.metrics import Metrics
from pesadesk.pipeline.run import Pipeline
from pesadesk.pipeline.writer import IngestWriter
from pesadesk.shared import apikeys
from pesadesk.shared.apikeys import Principal
from pesadesk.shared.pages import PageRequest


@dataclass
class AppState:
    settings: Settings
    db: Database
    clock: Clock
    metrics: Metrics = field(default_factory=Metrics)
    runtime: Runtime | None = None
    writer: IngestWriter | None = None
    pipeline: Pipeline = field(init=False)

    def __post_init__(self) -> None:
        self.pipeline = Pipeline(self.db, self.settings, self.clock)

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


class BearerScheme(HTTPBearer):
    """Declares the bearer scheme in OpenAPI (with the role an operation needs as its
    scope); it reads nothing: `require` checks the header itself, as it always has."""

    async def __call__(self, request: HTTPConnection) -> HTTPAuthorizationCredentials | None:
        return None


BEARER = BearerScheme(
    scheme_name="bearer",
    bearerFormat="API key",
    description="An API key (`pesadesk apikey create` or `POST /api/keys`), sent as "
    "`Authorization: Bearer <key>`. Roles: `viewer` reads, `operator` also creates and "
    "starts payments and refunds, `admin` does everything.",
    auto_error=False,
)


def require(role: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    async def dependency(
        request: Request,
        state: State,
        _documented: None = Security(BEARER, scopes=[role.value]),
    ) -> Principal:
        key = _bearer(request)

        principal = await run_in_threadpool(
            lambda: apikeys.who_is(state.db, key=key, security=state.settings.security)
        )
        if principal is None:
            raise Unauthenticated("unknown or revoked API key")
        if not principal.role.allows(role):
            raise Forbidden(f"this needs the {role.value} role; the key is {principal.role.value}")
        return principal

    return dependency


Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Operator = Annotated[Principal, Depends(require(Role.OPERATOR))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]


def _paging(
    limit: Annotated[int | None, Query(description="Rows a page; default 50, at most 500")] = None,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the page before")] = None,
) -> PageRequest:
    """`?limit=` (default 50, at most 500) and `?cursor=` of every list (CONTRACT §3)."""
    return PageRequest.of(limit, cursor)


Paging = Annotated[PageRequest, Depends(_paging)]
# Row ids in paths: within the columns' range, so a huge one is a clear 422, never a 500.
RowId = Annotated[int, Path(ge=0, le=2_147_483_647)]
BigRowId = Annotated[int, Path(ge=0, le=9_223_372_036_854_775_807)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Up to 200 characters: the same key and body answer the first result "
        "again, never moving money twice",
    ),
]
