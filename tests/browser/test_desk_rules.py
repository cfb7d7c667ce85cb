"""The rules every page keeps: a viewer sees no button it may not press, a 390 px phone
needs no sideways scrolling, live updates never disturb what a person types, and the
pages and API docs work offline behind strict security headers."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Shop, go, login, settle, shot

PAGES = [
    "Overview", "Orders", "Payments", "Customers", "Invoices", "Refunds",
    "Reconciliation", "Callbacks",
]  # fmt: skip
MONEY_BUTTONS = [
    "New order", "Send M-Pesa prompt", "Refund", "Approve", "Reject", "Place payment",
    "Close review", "Re-run", "Upload statement", "Import missing", "New invoice",
    "New customer", "Create key", "Revoke",
]  # fmt: skip

pytestmark = pytest.mark.browser


def open_payment(page: Any, receipt: str) -> None:
    """Find a payment by its receipt on Payments and open its page."""
    go(page, "Payments")
    page.get_by_role("searchbox", name="Search").fill(receipt)
    page.get_by_role("button", name="Find").click()
    results = page.get_by_role("table", name="Payments")
    expect(results.locator("tbody tr")).to_have_count(1)
    results.get_by_role("link", name=receipt).click()
    page.get_by_role("heading", level=1, name=f"Payment {receipt}").wait_for()
    page.get_by_role("region", name="Raw callbacks").wait_for()


def test_viewer_sees_no_controls_it_may_not_use(open_page: Any, shop: Shop) -> None:
    """A viewer walks every page and finds no button that would answer 403, and no Settings."""
    paid = shop.paid_order(300)
    shop.c2b("SKB2VIEW01", "150.00", "nobody-here")
    refund = shop.api.post(
        f"/api/payments/{shop.paid_order(6200)['id']}/refund", json={"amount": 6000}
    )
    assert refund.json()["status"] == "pending_approval"
    page = open_page(who="viewer")
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="Settings").count() == 0
    for name in PAGES:
        go(page, name)
        settle(page)
        for button in MONEY_BUTTONS:
            assert page.get_by_role("button", name=button, exact=True).count() == 0, (name, button)
    go(page, "Refunds")
    waiting = page.get_by_role("region", name="Waiting for approval")
    waiting.get_by_text("Waits for an admin.").first.wait_for()
    open_payment(page, paid["receipt"])
    settle(page)
    for button in MONEY_BUTTONS:
        assert page.get_by_role("button", name=button, exact=True).count() == 0, button
    go(page, "Overview")
    todo = page.get_by_role("region", name="Money to place")
    todo.get_by_text("SKB2VIEW01").wait_for()  # the viewer still sees the work waiting
    shot(page, "viewer-overview")


def test_operator_sees_no_admin_controls(open_page: Any, shop: Shop) -> None:
    """An operator can sell and ask refunds but is shown no approval, re-run or upload."""
    page = open_page(who="otieno")
    go(page, "Orders")
    page.get_by_role("button", name="New order").wait_for()
    for name in ("Refunds", "Reconciliation", "Callbacks"):
        go(page, name)
        settle(page)
        for button in ("Approve", "Reject", "Re-run", "Upload statement", "Import missing"):
            assert page.get_by_role("button", name=button, exact=True).count() == 0, (name, button)
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="Settings").count() == 0


def test_every_page_fits_a_phone(open_page: Any, shop: Shop) -> None:
    """At 390 px wide no page scrolls sideways, tables included."""
    shop.c2b("SKB3PHONE1", "975.00", "walk-in")
    paid = shop.paid_order(640)
    page = open_page(width=390)
    for name in PAGES:
        go(page, name)
        settle(page)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{name} is {width} px wide"
        shot(page, name.lower())
    open_payment(page, paid["receipt"])
    settle(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "payment")
    go(page, "Settings")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "settings")


def test_live_refresh_never_disturbs_typing(open_page: Any, shop: Shop) -> None:
    """While a person types in Place payment, refreshes leave the text and focus alone,
    and the rest of the page still updates."""
    shop.c2b("SKB4LIVE01", "430.00", "who-knows")
    page = open_page(refresh_ms=300)
    todo = page.get_by_role("region", name="Money to place")
    box = todo.get_by_label("Place SKB4LIVE01 on (invoice or customer)")
    box.click()
    box.type("CUST-0")
    before = page.get_by_role("region", name="Today").locator("dd").first.inner_text()
    shop.c2b("SKB4LIVE02", "1111.00", "another-stranger")
    expect(page.get_by_role("region", name="Today").locator("dd").first).not_to_have_text(
        before, timeout=5000
    )
    assert box.input_value() == "CUST-0"
    assert box.evaluate("el => el === document.activeElement")
    assert todo.get_by_text("SKB4LIVE02").count() == 0  # that list waits for the person
    box.type("02")
    todo.get_by_role("row").filter(has_text="SKB4LIVE01").get_by_role(
        "button", name="Place payment"
    ).click()
    page.get_by_role("status").filter(has_text="placed on CUST-002").wait_for()
    todo.get_by_text("SKB4LIVE02").wait_for()  # and refreshes once the person is done


def test_api_docs_work_offline(open_page: Any, shop: Shop) -> None:
    """Swagger UI at /docs and ReDoc at /redoc render the API from pesadesk's own files."""
    page = open_page(who=None)
    page.goto(shop.url + "/docs")
    page.get_by_role("heading", name=re.compile("pesadesk")).first.wait_for()
    page.get_by_text("/api/payments/{payment_id}/refund").first.wait_for()
    shot(page, "docs")
    page.goto(shop.url + "/redoc")
    page.get_by_role("heading", name=re.compile("pesadesk")).first.wait_for()
    page.get_by_text("/api/payments/{payment_id}/refund").first.wait_for(state="attached")
    shot(page, "redoc")


def test_login_keeps_the_key_in_the_tab_only(open_page: Any, shop: Shop) -> None:
    """A wrong key gets one clear line; a right one opens the desk without ever showing
    the key in the address; Log out forgets it."""
    page = open_page(who=None)
    page.watch.allowed.append("status of 401")  # the refused key's answer
    shot(page, "login")
    page.get_by_label("API key", exact=True).fill("pd_not-a-real-key")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("alert").filter(has_text="not known").wait_for()
    login(page, shop.keys["otieno"])
    assert shop.keys["otieno"] not in page.url
    assert page.evaluate("sessionStorage.getItem('pesadesk-key')") == shop.keys["otieno"]
    assert page.evaluate("localStorage.length") == 0
    page.get_by_role("button", name="Log out").click()
    page.get_by_label("API key", exact=True).wait_for()
    assert page.evaluate("sessionStorage.getItem('pesadesk-key')") is None


def test_settings_makes_a_key_for_a_person(open_page: Any, shop: Shop) -> None:
    """An admin creates a viewer key for a named person; the key is shown once and works."""
    page = open_page()
    go(page, "Settings")
    form = page.get_by_role("form", name="New API key")
    form.get_by_label("Name").fill("auditor-laptop")
    form.get_by_label("Owner (the person)").fill("Njeri")
    form.get_by_label("Role").select_option("viewer")
    form.get_by_role("button", name="Create key").click()
    secret = page.locator("output.secret")
    secret.wait_for()
    key = secret.inner_text().strip()
    shot(page, "settings")
    row = (
        page.get_by_role("table", name="API keys")
        .get_by_role("row")
        .filter(has_text="auditor-laptop")
    )
    expect(row).to_contain_text("Njeri")
    with httpx.Client(base_url=shop.url, headers={"Authorization": f"Bearer {key}"}) as client:
        me = client.get("/api/me").json()
    assert (me["role"], me["owner"]) == ("viewer", "Njeri")


def test_refund_request_form_works_on_a_phone(open_page: Any, shop: Shop) -> None:
    """The public refund-request form works at 390 px under the page policy, no key needed."""
    paid = shop.paid_order(560, phone="0712345005")
    page = open_page(width=390, who=None)
    page.goto(shop.url + "/refund-request")
    page.get_by_label("M-Pesa receipt").fill(paid["receipt"])
    page.get_by_label("Phone number that paid").fill("0712345005")
    page.get_by_label("Why?").fill("The chapati never came")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "refund-request")
    page.get_by_role("button", name="Send request").click()
    page.get_by_role("status").wait_for()
    assert page.get_by_text("Your request number").is_visible()
