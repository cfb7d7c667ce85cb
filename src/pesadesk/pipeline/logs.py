"""The webhook log as people read it, and a person's re-run of one entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from pesadesk.core.errors import InvalidInput
from pesadesk.core.statuses import WebhookSource
from pesadesk.db.models import WebhookLog
from pesadesk.db.session import Database
from pesadesk.payments.views import webhook_log_view
from pesadesk.pipeline.rerun import reprocess as run_again
from pesadesk.pipeline.run import Pipeline
from pesadesk.shared.pages import Page, PageRequest, newest_first


@dataclass(frozen=True)
class LogFilters:
    processed: bool | None = None
    is_duplicate: bool | None = None
    flagged: bool | None = None
    source: str | None = None
    external_id: str | None = None


def list_logs(db: Database, filters: LogFilters, page: PageRequest) -> Page:
    if filters.source is not None and filters.source not in {s.value for s in WebhookSource}:
        raise InvalidInput(f"source must be one of {', '.join(WebhookSource)}")
    query = select(WebhookLog)
    for column, wanted in (
        (WebhookLog.processed, filters.processed),
        (WebhookLog.is_duplicate, filters.is_duplicate),
        (WebhookLog.flagged, filters.flagged),
    ):
        if wanted is not None:
            query = query.where(column.is_(wanted))
    if filters.source:
        query = query.where(WebhookLog.source == filters.source)
    if filters.external_id:
        query = query.where(WebhookLog.external_id == filters.external_id)
    with db.read() as session:
        return newest_first(
            session, query, page, keys=[(WebhookLog.id, int)], view=webhook_log_view
        )


def reprocess(pipeline: Pipeline, log_id: int) -> dict[str, Any]:
    """`{"reprocessed": bool, "log": entry}`: False when it was processed already or
    failed again (the entry's `error` says why)."""
    result = run_again(pipeline, log_id=log_id)
    with pipeline.db.read() as session:
        entry = session.get(WebhookLog, log_id)
        assert entry is not None
        return {"reprocessed": result.outcome is not None, "log": webhook_log_view(entry)}
