"""`GET /api/ledger/export` (CONTRACT §10): the journal, one line per leg, streamed."""

from __future__ import annotations

import itertools
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from pesadesk.api.deps import Admin, State
from pesadesk.api.filters import parse_bound
from pesadesk.ledger import export

router = APIRouter(tags=["ledger"])


@router.get("/api/ledger/export", responses={200: {"content": {"text/csv": {}}}})
async def export_ledger(
    state: State,
    _: Admin,
    from_: Annotated[str | None, Query(alias="from")] = None,
    to: str | None = None,
    format: str = "csv",  # the contract names this query parameter
) -> StreamingResponse:
    """Every journal made from `from` to `to` (EAT days, `to` inclusive), legs together."""
    pieces = export.stream(
        state.db, parse_bound(from_, end=False), parse_bound(to, end=True), format
    )
    # The query runs before the first piece: a database that is down is a 503 here.
    first = await run_in_threadpool(next, pieces)
    if format == "csv":
        headers = {"Content-Disposition": 'attachment; filename="ledger.csv"'}
        return StreamingResponse(
            itertools.chain([first], pieces), media_type="text/csv", headers=headers
        )
    return StreamingResponse(itertools.chain([first], pieces), media_type="application/json")
