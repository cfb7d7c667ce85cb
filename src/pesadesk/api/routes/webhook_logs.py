from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from pesadesk.api.deps import Admin, BigRowId, Paging, State, Viewer
from pesadesk.pipeline import logs

router = APIRouter(prefix="/api/webhooks/logs", tags=["webhooks"])


@router.get("")
async def list_logs(
    state: State,
    _: Viewer,
    paging: Paging,
    processed: bool | None = None,
    is_duplicate: bool | None = None,
    flagged: bool | None = None,
    source: str | None = None,
    external_id: str | None = None,
) -> dict[str, Any]:
    """The raw callbacks, newest first."""
    filters = logs.LogFilters(processed, is_duplicate, flagged, source, external_id)
    page = await run_in_threadpool(logs.list_logs, state.db, filters, paging)
    return page.body()


@router.post("/{log_id}/reprocess")
async def reprocess(log_id: BigRowId, state: State, _: Admin) -> dict[str, Any]:
    """Run a logged callback again; never credits twice."""
    return await run_in_threadpool(logs.reprocess, state.pipeline, log_id)
