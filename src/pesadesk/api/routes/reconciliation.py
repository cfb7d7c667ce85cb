from __future__ import annotations

import codecs
from collections.abc import Iterator
from typing import Any, BinaryIO

from fastapi import APIRouter, UploadFile
from starlette.concurrency import run_in_threadpool

from pesadesk.api.deps import Admin, Paging, State, Viewer
from pesadesk.api.schemas import Body
from pesadesk.reconcile import service

router = APIRouter(prefix="/api/reconciliation/statements", tags=["reconciliation"])


class ImportMissingIn(Body):
    receipts: list[str] | None = None


def text_lines(raw: BinaryIO) -> Iterator[str]:
    """Decode an uploaded file line by line (UTF-8, with or without BOM)."""
    yield from codecs.iterdecode(raw, "utf-8-sig")


@router.post("", status_code=201)
async def upload(file: UploadFile, state: State, who: Admin) -> dict[str, Any]:
    """Import an M-Pesa statement (org-portal CSV) and get the match report."""
    return await run_in_threadpool(
        lambda: service.import_statement(
            state.db, lines=text_lines(file.file), filename=file.filename or "statement.csv",
            imported_by=who.name, clock=state.clock,
        )
    )  # fmt: skip


@router.get("")
async def listing(state: State, _: Viewer, paging: Paging) -> dict[str, Any]:
    page = await run_in_threadpool(service.list_statements, state.db, paging)
    return page.body()


@router.get("/{statement_id}")
async def one(statement_id: int, state: State, _: Viewer) -> dict[str, Any]:
    return await run_in_threadpool(service.get_statement, state.db, statement_id)


@router.post("/{statement_id}/import-missing")
async def import_missing(
    statement_id: int, state: State, _: Admin, body: ImportMissingIn | None = None
) -> dict[str, Any]:
    """Record what the statement shows but pesadesk never heard of, as C2B payments."""
    return await run_in_threadpool(
        lambda: service.import_missing_payments(
            state.pipeline, statement_id=statement_id, receipts=body.receipts if body else None
        )
    )
