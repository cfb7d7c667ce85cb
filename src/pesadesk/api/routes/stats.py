from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from pesadesk.api.deps import State, Viewer
from pesadesk.api.filters import parse_bound
from pesadesk.reconcile import stats

router = APIRouter(prefix="/api/stats", tags=["stats"])
From = Annotated[str | None, Query(alias="from")]


@router.get("")
async def get_stats(state: State, _: Viewer, from_: From = None, to: str | None = None) -> Any:
    start, end = parse_bound(from_, end=False), parse_bound(to, end=True)

    def work() -> dict[str, Any]:
        with state.db.read() as session:
            return stats.compute(session, start=start, end=end)

    return await run_in_threadpool(work)


@router.get("/daily")
async def get_daily(state: State, _: Viewer, from_: From = None, to: str | None = None) -> Any:
    start, end = parse_bound(from_, end=False), parse_bound(to, end=True)

    def work() -> dict[str, Any]:
        with state.db.read() as session:
            return {"data": stats.daily(session, start=start, end=end), "next_cursor": None}

    return await run_in_threadpool(work)
