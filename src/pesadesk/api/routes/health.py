from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from pesadesk.api.deps import State

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(state: State) -> JSONResponse:
    if await run_in_threadpool(state.db.ping):
        return JSONResponse({"status": "ready", "database": "ok"})
    return JSONResponse({"error": "database unreachable", "code": "not_ready"}, status_code=503)


@router.get("/metrics", response_class=PlainTextResponse)  # documented as the text it is
async def metrics(state: State) -> Response:
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
