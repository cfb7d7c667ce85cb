from __future__ import annotations

import codecs
from collections.abc import Iterator
from typing import Any, BinaryIO

from fastapi import APIRouter, UploadFile
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from pesadesk.api.deps import Admin, State, Viewer
from pesadesk.api.pagination import newest_first
from pesadesk.api.schemas import Body
from pesadesk.db.models import StatementImport
from pesadesk.reconcile import service as reconciliation

router = APIRouter(prefix="/api/reconciliation/statements", tags=["reconciliation"])


class ImportMissingIn(Body):
    receipts: list[str] | None = None


def text_lines(raw: BinaryIO) -> Iterator[str]:
    """Decode an uploaded file line by line (UTF-8, with or without BOM)."""
    yield from codecs.iterdecode(raw, "utf-8-sig")


@router.post("", status_code=201)
async def upload(file: UploadFile, state: State, who: Admin) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        return reconciliation.import_statement(
            state.db,
            lines=text_lines(file.file),
            filename=file.filename or "statement.csv",
            imported_by=who.name,
            clock=state.clock,
        )

    return await run_in_threadpool(work)


@router.get("")
async def listing(
    state: State, _: Viewer, limit: int | None = None, cursor: str | None = None
) -> dict[str, Any]:
    return await newest_first(
        state.db,
        select(StatementImport),
        StatementImport.id,
        reconciliation.summary_view,
        limit=limit,
        cursor=cursor,
    )


@router.get("/{statement_id}")
async def one(statement_id: int, state: State, _: Viewer) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        with state.db.read() as session:
            return reconciliation.report_view(reconciliation.find_statement(session, statement_id))

    return await run_in_threadpool(work)


@router.post("/{statement_id}/import-missing")
async def import_missing(
    statement_id: int, state: State, _: Admin, body: ImportMissingIn | None = None
) -> dict[str, Any]:
    """Record what the statement shows but pesadesk never heard of, as C2B payments."""

    def work() -> dict[str, Any]:
        return reconciliation.import_missing_payments(
            state.db,
            statement_id=statement_id,
            receipts=body.receipts if body else None,
            clock=state.clock,
        )

    return await run_in_threadpool(work)
