from __future__ import annotations

from typing import Any

from fastapi import APIRouter, UploadFile
from starlette.concurrency import run_in_threadpool

from pesadesk.api.deps import Admin, Paging, RowId, State, Viewer
from pesadesk.api.schemas import Body
from pesadesk.reconcile import service
from pesadesk.reconcile.decode import statement_lines

router = APIRouter(prefix="/api/reconciliation/statements", tags=["reconciliation"])


class ImportMissingIn(Body):
    receipts: list[str] | None = None


@router.post("", status_code=201)
async def upload(file: UploadFile, state: State, who: Admin) -> dict[str, Any]:
    """Import an M-Pesa statement (org-portal CSV) and get the match report."""
    return await run_in_threadpool(
        lambda: service.import_statement(
            state.db, lines=statement_lines(file.file), filename=file.filename or "statement.csv",
            imported_by=who.name, clock=state.clock,
        )
    )  # fmt: skip


@router.get("")
async def listing(state: State, _: Viewer, paging: Paging) -> dict[str, Any]:
    page = await run_in_threadpool(service.list_statements, state.db, paging)
    return page.body()


@router.get("/{statement_id}")
async def one(statement_id: RowId, state: State, _: Viewer) -> dict[str, Any]:
    return await run_in_threadpool(service.get_statement, state.db, statement_id)


@router.post("/{statement_id}/import-missing")
async def import_missing(
    statement_id: RowId, state: State, _: Admin, body: ImportMissingIn | None = None
) -> dict[str, Any]:
    """Record what the statement shows but pesadesk never heard of, as C2B payments."""
    return await run_in_threadpool(
        lambda: service.import_missing_payments(
            state.pipeline, statement_id=statement_id, receipts=body.receipts if body else None
        )
    )
