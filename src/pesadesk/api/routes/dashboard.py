from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(tags=["dashboard"])


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def dashboard() -> HTMLResponse:
    """The page is static; it logs in with an API key kept in the browser tab only."""
    page = resources.files("pesadesk.web").joinpath("dashboard.html").read_text("utf-8")
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})
