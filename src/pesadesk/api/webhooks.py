"""Safaricom -> pesadesk. Each body is stored before it is read (CONTRACT §5): 200 once
stored whatever processing concluded, 503 when it could not be stored.

These paths are the hot path, so they are served by a thin ASGI layer in front of the
API's routing (`WebhookLane`) and handed to the group-commit writer; everything else
goes on to FastAPI.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from pesadesk.api.deps import AppState
from pesadesk.api.guard import WebhookGuard
from pesadesk.c2b.handlers import ACCEPT as VALIDATION_ACCEPTED
from pesadesk.core.errors import StorageUnavailable
from pesadesk.core.statuses import WebhookSource
from pesadesk.pipeline.run import Ingested, Job

log = structlog.get_logger(__name__)

ACK = {"ResultCode": 0, "ResultDesc": "Accepted"}
TRUNCATED_KEEP = 64 * 1024  # of a body over the limit, kept for a person to look at
REFUSED_KEEP = 4 * 1024  # of a refused (403) body: enough to see what it was, no more

ROUTES: dict[str, WebhookSource] = {
    "/api/webhooks/mpesa": WebhookSource.C2B_CONFIRMATION,  # the seed's URL
    "/api/webhooks/c2b/confirmation": WebhookSource.C2B_CONFIRMATION,
    "/api/webhooks/c2b/validation": WebhookSource.C2B_VALIDATION,
    "/api/mpesa/callback": WebhookSource.STK,
    "/api/mpesa/b2c/callback": WebhookSource.B2C_RESULT,
    "/api/mpesa/b2c/timeout": WebhookSource.B2C_TIMEOUT,
}


async def _read_body(request: Request, limit: int) -> tuple[bytes, bool]:
    """The body, or its first bytes and True when it is larger than `limit`."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return (b"".join(chunks) + chunk)[:TRUNCATED_KEEP], True
        chunks.append(chunk)
    return b"".join(chunks), False


async def _store(state: AppState, job: Job) -> Ingested:
    if state.writer is not None:
        return await asyncio.wrap_future(state.writer.submit(job))
    return await run_in_threadpool(state.pipeline.run_one, job)


async def receive_callback(
    request: Request, state: AppState, guard: WebhookGuard, source: WebhookSource
) -> JSONResponse:
    started = time.perf_counter()
    refused = guard.refusal(request)
    limit = state.settings.max_webhook_body_bytes
    # A refused caller gets no further than its first 4 KiB: an unauthenticated sender
    # must not be able to fill the disk (CONTRACT §8).
    raw, too_large = await _read_body(request, REFUSED_KEEP if refused else limit)
    if refused:
        raw, too_large = raw[:REFUSED_KEEP], False
    reason = refused or (
        f"refused: body over {limit} bytes (first {TRUNCATED_KEEP} kept)" if too_large else None
    )
    try:
        job = Job(
            source=source.value, raw=raw, remote_addr=guard.client_address(request),
            refused=reason, proven=guard.protects,
        )  # fmt: skip
        result = await _store(state, job)
    except StorageUnavailable:
        state.metrics.callbacks.labels(source.value, "unavailable").inc()
        log.error("webhook_not_stored", source=source.value)
        return JSONResponse(
            {"error": "could not store the callback; retry", "code": "storage_unavailable"},
            status_code=503,
        )
    if reason:
        outcome = "refused"
    elif result.error:
        outcome = "error"
    else:
        outcome = "duplicate" if result.outcome and result.outcome.duplicate else "ok"
    state.metrics.callbacks.labels(source.value, outcome).inc()
    state.metrics.callback_seconds.labels(source.value).observe(time.perf_counter() - started)
    if refused:
        return JSONResponse({"error": refused, "code": "webhook_refused"}, status_code=403)
    if too_large:
        return JSONResponse({"error": reason, "code": "payload_too_large"}, status_code=413)
    reply: dict[str, Any] = ACK
    if source is WebhookSource.C2B_VALIDATION:
        reply = result.outcome.reply if result.outcome else VALIDATION_ACCEPTED
    return JSONResponse(reply)


class WebhookLane:
    """Serves POSTs to the callback paths directly; passes everything else on."""

    def __init__(self, app: ASGIApp, *, state: AppState, guard: WebhookGuard) -> None:
        self.app = app
        self.state = state
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            source = ROUTES.get(scope["path"].rstrip("/") or "/")
            if source is not None:
                request = Request(scope, receive)
                response = await receive_callback(request, self.state, self.guard, source)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
