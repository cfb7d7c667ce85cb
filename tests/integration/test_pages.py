"""What a browser gets besides JSON: the dashboard and the API docs, served from
pesadesk's own files behind headers that forbid outside origins, inline script and
framing (CONTRACT §8 "Pages")."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

HTML_PAGES = ("/", "/docs", "/redoc")


def policy(header: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


@pytest.mark.parametrize("path", HTML_PAGES)
def test_html_answers_carry_the_security_headers(client: TestClient, path: str) -> None:
    """Each HTML page allows only its own origin, no inline script and no framing."""
    answer = client.get(path)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    rules = policy(answer.headers["content-security-policy"])
    assert rules["default-src"] == "'self'"
    assert rules["script-src"] == "'self'"
    assert rules["frame-ancestors"] == "'none'"
    assert not re.search(r"https?:|\*", answer.headers["content-security-policy"])
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize("path", HTML_PAGES)
def test_pages_load_nothing_from_another_origin(client: TestClient, path: str) -> None:
    """No script, style, image or font of a page comes from outside pesadesk, and no
    script is written inline (the policy would refuse it)."""
    page = client.get(path).text
    assert not re.search(r"""(src|href)=["'](https?:)?//""", page)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)
    for asset in re.findall(r"""(?:src|href)=["'](/static/[^"']+)""", page):
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert served.headers["x-content-type-options"] == "nosniff"


def test_docs_pages_point_at_the_served_openapi(client: TestClient) -> None:
    """Swagger UI and ReDoc read /openapi.json, which lists the API's paths."""
    assert 'data-openapi-url="/openapi.json"' in client.get("/docs").text
    assert 'spec-url="/openapi.json"' in client.get("/redoc").text
    assert "/api/payments/{payment_id}/refund" in client.get("/openapi.json").json()["paths"]


def test_dashboard_modules_are_served_as_javascript(client: TestClient) -> None:
    """The desk's ES modules come with a JavaScript type (browsers refuse others)."""
    for name in ("app.js", "api.js", "ui.js", "charts.js", "pages/overview.js"):
        answer = client.get(f"/static/{name}")
        assert answer.status_code == 200, name
        assert "javascript" in answer.headers["content-type"], name


def test_api_answers_are_left_alone(client: TestClient) -> None:
    """JSON answers are not given the page policy (it means nothing to them)."""
    answer = client.get("/healthz")
    assert "content-security-policy" not in answer.headers
