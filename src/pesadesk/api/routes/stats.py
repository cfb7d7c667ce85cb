from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from pesadesk.api.deps import State, Viewer
from pesadesk.api.filters import parse_bound
from pesadesk.api.problems import answers, explain
from pesadesk.api.schemas.admin import Days, Stats
from pesadesk.core.errors import InvalidInput
from pesadesk.reconcile import stats

router = APIRouter(prefix="/api/stats", tags=["stats"])
From = Annotated[str | None, Query(alias="from")]
BAD_BOUND = answers(
    explain(InvalidInput, "'06/02/2026' is neither YYYY-MM-DD nor an ISO-8601 datetime")
)


@router.get("", response_model=Stats, responses=BAD_BOUND)
async def get_stats(
    state: State, _: Viewer, from_: From = None, to: str | None = None, account: str | None = None
) -> Any:
    """Orders, payments, refunds and callbacks, in total, for `from`..`to` (whole East
    Africa Time days, `to` inclusive); `account`: the payment and refund figures of one
    collection account."""
    start, end = parse_bound(from_, end=False), parse_bound(to, end=True)
    return await run_in_threadpool(
        lambda: stats.totals(state.db, start=start, end=end, account=account)
    )


@router.get("/daily", response_model=Days, responses=BAD_BOUND)
async def get_daily(state: State, _: Viewer, from_: From = None, to: str | None = None) -> Any:
    """Per East Africa Time day: money received by source, refunded, net, success rate."""
    start, end = parse_bound(from_, end=False), parse_bound(to, end=True)
    days = await run_in_threadpool(stats.days, state.db, start=start, end=end)
    return {"data": days, "next_cursor": None}
