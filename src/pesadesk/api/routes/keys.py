from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from pesadesk.api.deps import Admin, Paging, RowId, State, Viewer
from pesadesk.api.problems import answers, explain
from pesadesk.api.schemas import KeyIn
from pesadesk.api.schemas.admin import ApiKeyList, Me, NewApiKey
from pesadesk.core.errors import ApiKeyNotFound, InvalidInput
from pesadesk.shared import apikeys

router = APIRouter(tags=["keys"])


@router.get("/api/me", response_model=Me)
async def me(who: Viewer) -> dict[str, Any]:
    """The calling key: its name, its owner and its role (what the dashboard may show)."""
    return {"key_id": who.key_id, "name": who.name, "owner": who.owner, "role": who.role.value}


@router.get("/api/keys", response_model=ApiKeyList)
async def list_keys(state: State, _: Admin, paging: Paging) -> dict[str, Any]:
    """Every key, newest first, revoked ones included; never the key itself."""
    page = await run_in_threadpool(apikeys.list_keys, state.db, paging)
    return page.body()


@router.post(
    "/api/keys", status_code=201, response_model=NewApiKey,
    responses=answers(explain(InvalidInput, "role must be viewer, operator or admin, not 'boss'")),
)  # fmt: skip
async def create_key(body: KeyIn, state: State, who: Admin) -> dict[str, Any]:
    """A new key for a person (`owner`, by default the caller's owner); shown this once."""

    return await run_in_threadpool(
        lambda: apikeys.create(
            state.db, name=body.name, role=body.role, owner=body.owner, actor=who,
            clock=state.clock,
        )
    )  # fmt: skip


@router.delete(
    "/api/keys/{key_id}", status_code=204, response_description="Revoked",
    responses=answers(ApiKeyNotFound),
)  # fmt: skip
async def delete_key(key_id: RowId, state: State, who: Admin) -> Response:
    """Revoke a key: it stops working at once; the revocation is audited."""
    await run_in_threadpool(
        lambda: apikeys.revoke(state.db, key_id=key_id, actor=who, clock=state.clock)
    )
    return Response(status_code=204)
