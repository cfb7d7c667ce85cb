from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from pesadesk.api.deps import Admin, State, Viewer
from pesadesk.api.pagination import newest_first
from pesadesk.core.errors import InvalidInput
from pesadesk.core.statuses import WebhookSource
from pesadesk.db.models import WebhookLog
from pesadesk.payments.views import webhook_log_view
from pesadesk.pipeline import ingest as webhooks

router = APIRouter(prefix="/api/webhooks/logs", tags=["webhooks"])


@router.get("")
async def list_logs(
    state: State,
    _: Viewer,
    processed: bool | None = None,
    is_duplicate: bool | None = None,
    flagged: bool | None = None,
    source: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict[str, Any]:
    if source is not None and source not in {s.value for s in WebhookSource}:
        raise InvalidInput(f"source must be one of {', '.join(WebhookSource)}")

    query = select(WebhookLog)
    if processed is not None:
        query = query.where(WebhookLog.processed.is_(processed))
    if is_duplicate is not None:
        query = query.where(WebhookLog.is_duplicate.is_(is_duplicate))
    if flagged is not None:
        query = query.where(WebhookLog.flagged.is_(flagged))
    if source:
        query = query.where(WebhookLog.source == source)
    return await newest_first(
        state.db, query, WebhookLog.id, webhook_log_view, limit=limit, cursor=cursor
    )


@router.post("/{log_id}/reprocess")
async def reprocess(log_id: int, state: State, _: Admin) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        done = webhooks.reprocess(
            state.db, log_id=log_id, settings=state.settings, clock=state.clock
        )
        with state.db.read() as session:
            entry = session.get(WebhookLog, log_id)
            assert entry is not None
            return {"reprocessed": done, "log": webhook_log_view(entry)}

    return await run_in_threadpool(work)
