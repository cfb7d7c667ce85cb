"""CONTRACT §9, refund requests from customers: the public form and endpoint answer alike
for a real and a made-up receipt; a real one becomes a refund a person approves, paid over
B2C, the customer told on WhatsApp; a made-up one is kept unmatched; per-address limits."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.acceptance.conftest import Desk, wait_until
from tests.acceptance.test_refunds import other_admin, paid_order, refund_status

pytestmark = pytest.mark.slow


@pytest.fixture
def desk_overrides() -> dict[str, Any]:
    return {"refund_requests": {"rate_limit_per_minute": 3}}


def _ask(desk: Desk, **body: Any) -> httpx.Response:
    return httpx.post(f"{desk.url}/api/refund-requests", json=body)  # no key


def test_a_real_request_is_approved_and_paid_and_a_made_up_one_answered_alike(
    desk: Desk,
) -> None:
    """Same status and words for a real receipt and an invented one; the real one is a
    `pending_approval` refund asked by "customer" that an admin approves; the money goes
    and the customer hears; the invented one stays `unmatched`."""
    paid = paid_order(desk, 1500, phone="0712345678")
    real = _ask(desk, receipt=paid["receipt"], phone="0712345678", amount=500,
                reason="the food never came")  # fmt: skip
    fake = _ask(desk, receipt="QZZ99XYZ01", phone="0712345678", reason="give me money")
    assert (real.status_code, fake.status_code) == (202, 202)
    assert real.json()["message"] == fake.json()["message"]
    assert set(real.json()) == set(fake.json()) == {"request_id", "message"}
    listed = {r["receipt"]: r for r in desk.api.get("/api/refund-requests").json()["data"]}
    assert listed["QZZ99XYZ01"]["status"] == "unmatched"
    matched = listed[paid["receipt"]]
    assert matched["status"] == "matched"
    refund = desk.api.get(f"/api/refunds/{matched['refund_id']}").json()
    assert (refund["status"], refund["requested_by"], refund["amount"]) == (
        "pending_approval",
        "customer",
        500.0,
    )
    approved = desk.api.post(f"/api/refunds/{matched['refund_id']}/approve")
    assert approved.status_code == 200, approved.text
    refund_status(desk, f"/api/refunds/{matched['refund_id']}", "completed")
    wait_until(
        lambda: any("refund" in text for text in desk.whatsapp.texts_to("254712345678")),
        what="the customer told on WhatsApp",
    )


def test_the_wrong_phone_is_unmatched_and_small_requests_still_need_approval(desk: Desk) -> None:
    """A receipt with another phone teaches nothing and moves nothing; a matching request
    below the approval threshold still waits for a person."""
    paid = paid_order(desk, 300, phone="0712345678")
    _ask(desk, receipt=paid["receipt"], phone="0799999999", reason="mine")
    _ask(desk, receipt=paid["receipt"], phone="254712345678", reason="mine", amount=100)
    rows = desk.api.get("/api/refund-requests").json()["data"]
    assert sorted(r["status"] for r in rows) == ["matched", "unmatched"]
    [matched] = [r for r in rows if r["status"] == "matched"]
    refund = desk.api.get(f"/api/refunds/{matched['refund_id']}").json()
    assert refund["status"] == "pending_approval"
    second = other_admin(desk)
    assert (
        desk.api.post(f"/api/refunds/{matched['refund_id']}/reject", headers=second).status_code
        == 200
    )


def test_requests_are_rate_limited_per_address(desk: Desk) -> None:
    """The fourth request a minute from one address is 429 with Retry-After."""
    codes = [_ask(desk, receipt="QZZ99XYZ0" + str(n), phone="0712345678", reason="x").status_code
             for n in range(4)]  # fmt: skip
    assert codes == [202, 202, 202, 429]
    assert len(desk.api.get("/api/refund-requests").json()["data"]) == 3


def test_the_form_works_without_javascript(desk: Desk) -> None:
    """The page is a plain form (no script); posting it answers with the same words and a
    request number; a bad phone is said on the page, with what was typed kept."""
    page = httpx.get(f"{desk.url}/refund-request")
    assert page.status_code == 200
    assert "<form" in page.text
    assert "<script" not in page.text
    sent = httpx.post(
        f"{desk.url}/refund-request",
        data={"receipt": "QZZ99XYZ09", "phone": "0712345678", "reason": "late"},
    )
    assert sent.status_code == 202
    assert "RR-" in sent.text
    bad = httpx.post(
        f"{desk.url}/refund-request",
        data={"receipt": "QZZ99XYZ08", "phone": "12345", "reason": "my reason & more"},
    )
    assert bad.status_code == 422
    assert 'role="alert"' in bad.text
    assert "my reason &amp; more" in bad.text
