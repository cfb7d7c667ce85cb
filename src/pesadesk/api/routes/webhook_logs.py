from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from pesadesk.api.deps import Admin, BigRowId, Paging, State, Viewer
from pesadesk.api.problems import answers, explain
from pesadesk.api.schemas.admin import Reprocessed, WebhookLogList
from pesadesk.core.errors import InvalidInput, WebhookLogNotFound
from pesadesk.pipeline import logs

router = APIRouter(prefix="/api/webhooks/logs", tags=["webhooks"])


@router.get(
    "", response_model=WebhookLogList,
    responses=answers(
        explain(InvalidInput, "source must be one of stk, c2b_validation, c2b_confirmation, "
                "b2c_result, b2c_timeout"),
    ),
)  # fmt: skip
async def list_webhook_logs(
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


@router.post(
    "/{log_id}/reprocess", response_model=Reprocessed, responses=answers(WebhookLogNotFound)
)
async def reprocess_webhook_log(log_id: BigRowId, state: State, _: Admin) -> dict[str, Any]:
    """Run a logged callback again; never credits twice. An entry already processed
    answers `{"reprocessed": false}`."""
    return await run_in_threadpool(logs.reprocess, state.pipeline, log_id)
