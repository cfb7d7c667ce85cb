"""The desk in a real browser: Debian's Chromium driven by Playwright, against the real
app with the Daraja emulator and the WhatsApp sink on loopback, on a temporary SQLite
file seeded like `pesadesk demo`.

Every page a test opens fails the test on a console error, an uncaught exception or a
request to anything but loopback (such requests are also refused, so the desk is proven
to work offline). Screenshots go to artifacts/screenshots/ (CI keeps them).

One browser and one shop per module."""

from __future__ import annotations

import inspect
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from pesadesk.api.app import create_app
from pesadesk.cli.demo import demo_values, seed
from pesadesk.config import Settings
from pesadesk.daraja.credentials import encrypt_security_credential
from pesadesk.db import migrate
from pesadesk.db.session import Database
from pesadesk.emulator.state import EmulatorConfig
from pesadesk.emulator.whatsapp_sink import WhatsAppSink
from pesadesk.shared import apikeys
from pesadesk.testing import FrozenClock, free_port, serve_in_thread
from pesadesk.testing.emulator import running_emulator

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

CHROMIUM = os.environ.get("PESADESK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
EAT = timedelta(hours=3)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


FAILED = pytest.StashKey[bool]()


@dataclass
class Shop:
    """A running desk and the keys of the people who use it."""

    url: str
    api: httpx.Client
    db: Database
    keys: dict[str, str]  # amina (admin), baraka (second admin), otieno (operator), viewer

    def as_(self, who: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.keys[who]}"}, timeout=30
        )

    def c2b(self, trans_id: str, amount: str, bill_ref: str, name: str = "JOHN") -> None:
        """A Paybill payment arriving as Safaricom sends it."""
        now = (datetime.now(UTC) + EAT).strftime("%Y%m%d%H%M%S")
        body = {
            "TransactionType": "Pay Bill", "TransID": trans_id, "TransTime": now,
            "TransAmount": amount, "BusinessShortCode": "600000", "BillRefNumber": bill_ref,
            "InvoiceNumber": "", "OrgAccountBalance": "", "ThirdPartyTransID": "",
            "MSISDN": "2547 ***** 126", "FirstName": name, "MiddleName": "", "LastName": "",
        }  # fmt: skip
        answer = self.api.post("/api/webhooks/c2b/confirmation", json=body)
        assert answer.status_code == 200, answer.text
        wait_until(lambda: self.api.get(f"/api/payments/PAY-C2B-{trans_id}").status_code == 200)

    def paid_order(self, amount: int, phone: str = "0712345678") -> dict[str, Any]:
        """An order paid by M-Pesa prompt through the emulator; returns the payment."""
        order = self.api.post(
            "/api/orders",
            json={"customer_phone": phone, "amount": amount, "delivery_location": "Ngong Rd"},
        ).json()
        started = self.api.post(f"/api/orders/{order['id']}/pay", json={}).json()
        pid = started["payment_id"]
        return wait_until(
            lambda: (
                (p := self.api.get(f"/api/payments/{pid}").json())["status"] == "completed" and p
            ),
            what=f"payment {pid} completed",
        )


def wait_until(check: Callable[[], Any], *, timeout: float = 15.0, what: str = "it") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _add_key(db: Database, name: str, role: str, owner: str) -> str:
    extra: dict[str, Any] = {}
    if "owner" in inspect.signature(apikeys.create_key).parameters:
        extra["owner"] = owner  # else the key's name stands for the person
    with db.write() as session:
        _, key = apikeys.create_key(
            session, name=name, role=role, clock=FrozenClock(datetime.now(UTC)), **extra
        )
    return key


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one module. Not for the session: Playwright's sync API keeps an event
    loop running in the main thread while it is open, and later modules call
    `asyncio.run()`; a launch costs about a second."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; .ci/run installs it with apt-get")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    with playwright_api.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    path = tmp_path_factory.mktemp("shop") / "shop.db"
    whatsapp = WhatsAppSink()
    with (
        running_emulator(EmulatorConfig(callback_delay_seconds=0.3)) as emulator,
        serve_in_thread(whatsapp.app()) as sink_url,
    ):
        credential = encrypt_security_credential(
            emulator.state.config.initiator_password, emulator.state.certificate
        )
        port = free_port()
        settings = Settings.model_validate(
            demo_values(path, port, emulator.base_url, sink_url, credential)
        )
        db = Database(settings.database_url)
        migrate.upgrade(db)
        amina = seed(db)
        keys = {
            "amina": amina,
            "baraka": _add_key(db, "baraka-laptop", "admin", "Baraka"),
            "otieno": _add_key(db, "counter-tablet", "operator", "Otieno"),
            "viewer": _add_key(db, "accountant", "viewer", "Wairimu"),
        }
        app = create_app(
            settings,
            db=db,
            worker_interval=0.2,
            worker_options={"base_delay_seconds": 0.05, "max_delay_seconds": 0.2},
        )
        with (
            serve_in_thread(app, port=port) as url,
            httpx.Client(
                base_url=url, headers={"Authorization": f"Bearer {amina}"}, timeout=30
            ) as api,
        ):
            yield Shop(url, api, db, keys)
        db.dispose()


@dataclass
class Watch:
    """What went wrong in the page: console errors, exceptions, outside requests."""

    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)

    def console(self, message: Any) -> None:
        if message.type == "error" and not any(a in message.text for a in self.allowed):
            self.errors.append(message.text)


def _local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"data", "blob", "about"} or parts.hostname in LOCAL_HOSTS


@pytest.fixture
def open_page(
    browser: Any, shop: Shop, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Any]]:
    """`open_page(width=1280, who="amina")`: a logged-in page (or the login form when
    `who` is None), watched for console errors and outside requests."""
    contexts: list[tuple[Any, Watch]] = []

    def opener(width: int = 1280, who: str | None = "amina", refresh_ms: int | None = None) -> Any:
        context = browser.new_context(
            viewport={"width": width, "height": 900 if width > 600 else 844},
            accept_downloads=True,
            timezone_id="Africa/Nairobi",
        )
        watch = Watch()
        contexts.append((context, watch))

        def guard(route: Any) -> None:
            if _local(route.request.url):
                route.continue_()
            else:
                watch.outside.append(route.request.url)
                route.abort()

        context.route("**/*", guard)
        if refresh_ms:
            context.add_init_script(
                f"sessionStorage.setItem('pesadesk-refresh-ms', {json.dumps(str(refresh_ms))});"
            )
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("console", watch.console)
        page.on("pageerror", lambda exc: watch.errors.append(f"uncaught: {exc}"))
        page.watch = watch
        page.goto(shop.url + "/")
        if who is not None:
            login(page, shop.keys[who])
        return page

    yield opener
    if request.node.stash.get(FAILED, False):
        for number, (context, _) in enumerate(contexts):
            for page in context.pages:
                shot(page, f"FAILED-{request.node.name}-{number}")
    for context, watch in contexts:
        context.close()
        assert not watch.outside, f"requests to other origins: {watch.outside}"
        assert not watch.errors, f"console errors: {watch.errors}"


def login(page: Any, key: str) -> None:
    page.get_by_label("API key", exact=True).fill(key)
    page.get_by_role("button", name="Log in").click()
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Overview").wait_for()
    page.get_by_role("heading", level=1).wait_for()
    settle(page)


def go(page: Any, name: str) -> None:
    """Open a page from the navigation landmark, as a person would, and let it load."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()
    page.get_by_role("heading", level=1, name=name).wait_for()
    settle(page)


def settle(page: Any) -> None:
    """Wait until no part of the page is loading (the desk marks those aria-busy)."""
    expect(page.locator("[aria-busy='true']")).to_have_count(0)


def shot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    target = SCREENSHOTS / f"{name}-{width}.png"
    # A whole page of ReDoc (every operation with its answers) is some 65,000 px tall:
    # drawing it can pass the 10 s default on a busy machine.
    page.screenshot(path=str(target), full_page=True, timeout=60_000)
    return target


@pytest.fixture(scope="session", autouse=True)
def _fresh_screenshots() -> None:
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
