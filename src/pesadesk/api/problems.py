"""The one place errors become HTTP answers: `{"error": "...", "code": "..."}`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from pesadesk.core.errors import PesadeskError

log = structlog.get_logger(__name__)


def problem(
    status: int, message: str, code: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": message, "code": code}, status_code=status, headers=headers)


def _describe(errors: list[Any]) -> tuple[int, str, str]:
    if any(err.get("type") == "json_invalid" for err in errors):
        return 400, "request body is not valid JSON", "malformed_json"
    first = errors[0] if errors else {}
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
    message = first.get("msg", "invalid request")
    return 422, f"{where}: {message}" if where else message, "validation_error"


def install(app: FastAPI) -> None:
    @app.exception_handler(PesadeskError)
    async def _pesadesk_error(_request: Request, exc: PesadeskError) -> JSONResponse:
        return problem(exc.status, exc.message, exc.code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        status, message, code = _describe(list(exc.errors()))
        return problem(status, message, code)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return problem(exc.status_code, str(exc.detail), code, headers=exc.headers)

    @app.exception_handler(OperationalError)
    async def _database(_request: Request, exc: OperationalError) -> JSONResponse:
        log.error("database_error", error=type(exc.orig).__name__)
        return problem(503, "database unavailable; try again shortly", "storage_unavailable")

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", error=type(exc).__name__)
        return problem(500, "internal error", "internal_error")
