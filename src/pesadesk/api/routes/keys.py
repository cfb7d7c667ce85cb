from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from pesadesk.api.deps import Admin, State
from pesadesk.api.pagination import newest_first
from pesadesk.api.schemas import KeyIn
from pesadesk.db.models import ApiKey
from pesadesk.shared import apikeys

router = APIRouter(prefix="/api/keys", tags=["keys"])


def _view(row: ApiKey) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "role": row.role,
        "prefix": row.prefix,
        "created_at": row.created_at.isoformat(),
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
    }


@router.get("")
async def list_keys(
    state: State, _: Admin, limit: int | None = None, cursor: str | None = None
) -> dict[str, Any]:
    return await newest_first(
        state.db, select(ApiKey), ApiKey.id, _view, limit=limit, cursor=cursor
    )


@router.post("", status_code=201)
async def create_key(body: KeyIn, state: State, _: Admin) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        with state.db.write() as session:
            row, key = apikeys.create_key(
                session, name=body.name, role=body.role, clock=state.clock
            )
            return {**_view(row), "key": key}

    return await run_in_threadpool(work)


@router.delete("/{key_id}", status_code=204)
async def delete_key(key_id: int, state: State, _: Admin) -> Response:
    def work() -> None:
        with state.db.write() as session:
            apikeys.revoke_key(session, key_id=key_id, clock=state.clock)

    await run_in_threadpool(work)
    return Response(status_code=204)
