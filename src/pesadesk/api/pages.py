"""What pesadesk serves to a browser besides JSON: the dashboard's static files, the API
docs (Swagger UI and ReDoc from vendored copies, so they work offline), and the security
headers every HTML answer carries (CONTRACT §8 "Pages").

`install(app)` wires all of it; `create_app` builds FastAPI with `docs_url=None,
redoc_url=None` so these pages replace FastAPI's, which load their assets from a CDN and
start Swagger UI with an inline script that this Content-Security-Policy forbids.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STATIC_PREFIX = "/static"

# No outside origin anywhere; no inline script, no framing. The dashboard keeps styles in
# files too. The docs bundles (React, styled-components, a search worker) set inline
# styles and start a worker from a blob, so their pages allow exactly that and no more.
_COMMON = (
    "default-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
DASHBOARD_CSP = f"{_COMMON}; script-src 'self'; style-src 'self'"
DOCS_CSP = (
    f"{_COMMON}; script-src 'self'; style-src 'self' 'unsafe-inline'; worker-src 'self' blob:"
)

_DOCS_PATHS = ("/docs", "/redoc")


def security_headers(path: str) -> list[tuple[bytes, bytes]]:
    """The headers an HTML answer at `path` carries."""
    csp = DOCS_CSP if path.startswith(_DOCS_PATHS) else DASHBOARD_CSP
    return [
        (b"content-security-policy", csp.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
    ]


class PageHeaders:
    """Adds the security headers to every `text/html` answer (the dashboard, the docs,
    any later page) and `nosniff` to the static files, whichever route made them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                kind = dict(headers).get(b"content-type", b"")
                if kind.startswith(b"text/html"):
                    headers.extend(security_headers(path))
                elif path.startswith(STATIC_PREFIX + "/"):
                    # Revalidated each time (a cheap 304), so an upgrade never mixes old
                    # modules with a new page.
                    headers.append((b"x-content-type-options", b"nosniff"))
                    headers.append((b"cache-control", b"no-cache"))
            await send(message)

        await self.app(scope, receive, send_with_headers)


def static_dir() -> Path:
    """The dashboard's files, shipped inside the package (`pesadesk/web/static`)."""
    return Path(str(resources.files("pesadesk.web").joinpath("static")))


def _page(title: str, head: str, body: str) -> HTMLResponse:
    html = (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<title>{title}</title>\n<link rel="icon" href="{STATIC_PREFIX}/favicon.svg">\n'
        f"{head}</head>\n<body>\n{body}</body>\n</html>\n"
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


def swagger_page(openapi_url: str) -> HTMLResponse:
    """Swagger UI from the vendored bundle; started by a file, not an inline script."""
    vendor = f"{STATIC_PREFIX}/vendor/swagger-ui"
    return _page(
        "pesadesk API – Swagger UI",
        f'<link rel="stylesheet" href="{vendor}/swagger-ui.css">\n',
        f'<div id="swagger-ui" data-openapi-url="{openapi_url}"></div>\n'
        f'<script src="{vendor}/swagger-ui-bundle.js"></script>\n'
        f'<script src="{STATIC_PREFIX}/docs/swagger-init.js"></script>\n',
    )


def redoc_page(openapi_url: str) -> HTMLResponse:
    """ReDoc's standalone bundle reads `spec-url` itself; no web fonts are fetched."""
    return _page(
        "pesadesk API – ReDoc",
        f'<link rel="stylesheet" href="{STATIC_PREFIX}/docs/redoc.css">\n',
        f'<redoc spec-url="{openapi_url}"></redoc>\n'
        f'<script src="{STATIC_PREFIX}/vendor/redoc/redoc.standalone.js"></script>\n',
    )


def install(app: FastAPI) -> None:
    """Serve the static files and the offline docs, and add the page headers."""
    openapi_url = app.openapi_url or "/openapi.json"
    app.mount(STATIC_PREFIX, StaticFiles(directory=static_dir()), name="static")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return swagger_page(openapi_url)

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return redoc_page(openapi_url)

    app.add_middleware(PageHeaders)
