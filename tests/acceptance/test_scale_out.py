"""Several stateless `pesadesk serve` processes on one PostgreSQL: they migrate together
without racing, and 50 copies of one callback spread over them still move money once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from pesadesk.db.session import Database
from pesadesk.ledger.verify import verify
from pesadesk.testing import free_port, fresh_postgres_database
from tests.conftest import ADMIN_KEY, PG_URL
from tests.helpers import CONFIRMATION, c2b_body

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def two_servers(tmp_path: Path) -> Iterator[tuple[list[str], str]]:
    if not PG_URL:
        pytest.skip("PESADESK_TEST_PG_URL is not set")
    with fresh_postgres_database(PG_URL) as url:
        env = {
            **os.environ,
            "PESADESK_DATABASE_URL": url,
            "PESADESK_SECURITY__ADMIN_API_KEY": ADMIN_KEY,
            "PESADESK_CONFIG": "",  # empty: no config file
        }
        ports = [free_port(), free_port()]
        logs = [(tmp_path / f"serve-{port}.log").open("wb") for port in ports]
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "pesadesk", "serve", "--port", str(port)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            for port, log in zip(ports, logs, strict=True)
        ]
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        try:
            for proc, base, log in zip(procs, urls, logs, strict=True):
                _wait_ready(proc, base, Path(log.name))
            yield urls, url
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=20)
            for log in logs:
                log.close()


def _wait_ready(proc: subprocess.Popen[bytes], base: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server died: {log.read_text()}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{base} did not become ready")


def test_duplicates_across_processes_credit_once(two_servers: tuple[list[str], str]) -> None:
    """50 copies of one confirmation, half to each process at once: one payment, one credit."""
    urls, db_url = two_servers
    auth = {"Authorization": f"Bearer {ADMIN_KEY}"}
    with httpx.Client(base_url=urls[0], headers=auth) as setup:
        cust = setup.post("/api/customers", json={"name": "Two", "phone": "0799000000"}).json()[
            "customer_id"
        ]
        inv = setup.post("/api/invoices", json={"customer_id": cust, "amount": 900}).json()
    body = c2b_body("900.00", inv["invoice_id"], txn="SCALE00001")

    def send(n: int) -> int:
        with httpx.Client(base_url=urls[n % 2], timeout=30) as one:
            return one.post(CONFIRMATION, json=body).status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        codes = list(pool.map(send, range(50)))
    assert codes == [200] * 50
    with httpx.Client(base_url=urls[1], headers=auth) as check:
        payments = check.get("/api/payments").json()
        after = check.get(f"/api/invoices/{inv['invoice_id']}").json()
        logs = check.get("/api/webhooks/logs", params={"limit": 500}).json()["data"]
    assert [p["id"] for p in payments] == ["PAY-C2B-SCALE00001"]
    assert (after["status"], after["amount_paid"]) == ("PAID", 900.0)
    assert len(logs) == 50
    assert sum(not entry["is_duplicate"] for entry in logs) == 1
    db = Database(db_url)
    try:
        with db.read() as session:
            assert verify(session).ok
    finally:
        db.dispose()
