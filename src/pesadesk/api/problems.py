"""The one place errors become HTTP answers: `{"error": "...", "code": "..."}`.

`STATUS` maps each error class to its status; an error takes the status of its nearest
class in the table, so a new error inherits a sensible one by subclassing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from pesadesk.b2c.rules import B2CNotConfigured
from pesadesk.core import errors
from pesadesk.daraja import errors as daraja

log = structlog.get_logger(__name__)

STATUS: dict[type[Exception], int] = {
    errors.PesadeskError: 500,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.InvalidInput: 422,
    errors.BadCursor: 400,
    errors.NeedsReview: 409,
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.PayloadTooLarge: 413,
    errors.RateLimited: 429,
    errors.StorageUnavailable: 503,
    B2CNotConfigured: 503,
    # Daraja: unavailable to us now is 503 (the contract has no 502); a request Daraja
    # refused, or that pesadesk knew it would refuse, is 422.
    daraja.DarajaError: 503,
    daraja.DarajaRequestInvalid: 422,
    daraja.DarajaRejected: 422,
    daraja.StkPushRefused: 422,
    daraja.DuplicateOriginatorConversationID: 409,
    daraja.TransactionNotFound: 404,
    daraja.CallbackError: 422,
}


def status_of(error: type[Exception]) -> int:
    for kind in error.__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 500


def _codes() -> dict[str, int]:
    found: dict[str, int] = {}
    pending: list[type[Exception]] = [errors.PesadeskError]
    while pending:
        kind = pending.pop()
        code = getattr(kind, "code", None)
        if isinstance(code, str):
            found.setdefault(code, status_of(kind))
        pending.extend(kind.__subclasses__())
    return found


def status_of_code(code: str | None) -> int:
    """The status of an error known only by its code (a result stored under an
    Idempotency-Key); 503 for a code no class has."""
    return _codes().get(code or "", 503)


def problem(
    status: int, message: str, code: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": message, "code": code}, status_code=status, headers=headers)


def problem_of(exc: errors.PesadeskError) -> JSONResponse:
    headers = None
    if isinstance(exc, errors.RateLimited):
        headers = {"Retry-After": str(exc.retry_after)}
    return problem(status_of(type(exc)), exc.message, exc.code, headers=headers)


def _describe(errors_seen: list[Any]) -> tuple[int, str, str]:
    if any(err.get("type") == "json_invalid" for err in errors_seen):
        return 400, "request body is not valid JSON", "malformed_json"
    first = errors_seen[0] if errors_seen else {}
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
    message = first.get("msg", "invalid request")
    return 422, f"{where}: {message}" if where else message, "validation_error"


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.PesadeskError)
    async def _pesadesk_error(_request: Request, exc: errors.PesadeskError) -> JSONResponse:
        return problem_of(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        status, message, code = _describe(list(exc.errors()))
        return problem(status, message, code)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(
            exc.status_code, "http_error"
        )
        return problem(exc.status_code, str(exc.detail), code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", error=type(exc).__name__)
        return problem(500, "internal error", "internal_error")
