from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from pesadesk.api.deps import State
from pesadesk.api.problems import NOT_READY, answers
from pesadesk.api.schemas.admin import Health, Ready

router = APIRouter(tags=["health"])
METRICS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Prometheus text exposition",
        "content": {"text/plain": {"schema": {"type": "string"},
                                   "example": "pesadesk_callbacks_total{source=\"stk\","
                                              "outcome=\"ok\"} 1042.0\n"}},
    }
}  # fmt: skip


@router.get("/healthz", response_model=Health)
async def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/readyz", response_model=Ready, responses=answers(NOT_READY))
async def readyz(state: State) -> JSONResponse:
    """Readiness: the database takes a write (rolled back)."""
    if await run_in_threadpool(state.db.ping):
        return JSONResponse({"status": "ready", "database": "ok"})
    return JSONResponse({"error": "database unreachable", "code": "not_ready"}, status_code=503)


@router.get("/metrics", response_class=PlainTextResponse, responses=METRICS)  # as the text it is
async def metrics(state: State) -> Response:
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
