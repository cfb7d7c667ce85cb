"""SQLite in trouble under a running desk (CONTRACT §8, "Storage trouble"): a file that
turns read-only for a few seconds, a full disk. Callbacks are answered 503, never 500;
`/readyz` says not ready; once storage is back the next callback is stored, with no
restart."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from pesadesk.db.session import Database
from pesadesk.testing import FrozenClock
from tests.helpers import CONFIRMATION, c2b_body
from tests.integration.api_support import app_client, settings_with

pytestmark = pytest.mark.slow


@pytest.fixture
def sqlite_dir(tmp_path: Path, sqlite_template: Path) -> Path:
    folder = tmp_path / "desk"
    folder.mkdir()
    shutil.copy(sqlite_template, folder / "pesadesk.db")
    return folder


def _immutable(folder: Path, on: bool) -> None:
    """Make the database file unwritable even for root (`chattr +i`). (Only the main
    file: SQLite maps its `-shm` file, and an unwritable mapping kills the process.)"""
    flag = "+i" if on else "-i"
    paths = [str(folder / "pesadesk.db")]
    chattr = shutil.which("chattr")
    if chattr is None:
        pytest.skip("chattr is not installed")
    done = subprocess.run([chattr, flag, *paths], capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"chattr cannot make files immutable here: {done.stderr!r}")


@pytest.fixture
def desk(sqlite_dir: Path) -> Iterator[tuple[TestClient, Database]]:
    url = f"sqlite:///{sqlite_dir / 'pesadesk.db'}"
    db = Database(url)
    try:
        with app_client(settings_with(url), db, FrozenClock()) as client:
            yield client, db
    finally:
        _immutable(sqlite_dir, False)
        db.dispose()


def _post(client: TestClient, n: int) -> int:
    return client.post(
        CONFIRMATION, json=c2b_body("100.00", "NOBODY", txn=f"RO{n:08d}")
    ).status_code


def _payments(client: TestClient) -> int:
    return len(client.get("/api/payments").json())


def test_a_file_read_only_for_a_while_heals_without_a_restart(
    desk: tuple[TestClient, Database], sqlite_dir: Path
) -> None:
    """While the file cannot be written: 503s and /readyz 503. Writable again: the very
    next callback and API write succeed, and /readyz is 200."""
    client, db = desk
    assert _post(client, 1) == 200
    _immutable(sqlite_dir, True)
    db.engine.dispose()  # the pool's next connections open the file now: read-only
    try:
        during = [_post(client, n) for n in range(2, 6)]
        ready = client.get("/readyz").status_code
        write = client.post("/api/customers", json={"name": "A", "phone": "0722000001"})
    finally:
        _immutable(sqlite_dir, False)
    assert during == [503] * 4
    assert ready == 503
    assert write.status_code == 503
    after = [_post(client, n) for n in range(6, 10)]
    assert after == [200] * 4
    assert client.get("/readyz").status_code == 200
    created = client.post("/api/customers", json={"name": "B", "phone": "0722000002"})
    assert created.status_code == 201, created.text
    assert _payments(client) == 5  # 1 before, 4 after; none of the refused ones


def test_a_full_disk_is_503_and_heals(desk: tuple[TestClient, Database]) -> None:
    """SQLITE_FULL (the database may not grow): 503, not 500; room again: 200."""
    client, db = desk
    limit: dict[str, Any] = {"pages": None}

    @event.listens_for(db.engine, "checkout")
    def _cap(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        pages = limit["pages"]
        cursor = dbapi_connection.cursor()
        if pages is None:
            cursor.execute("PRAGMA max_page_count = 1073741823")
        else:
            cursor.execute(f"PRAGMA max_page_count = {int(pages)}")
        cursor.close()

    assert _post(client, 1) == 200
    with db.read() as session:
        current = session.connection().exec_driver_sql("PRAGMA page_count").scalar_one()
    limit["pages"] = current  # no page more
    big = [
        client.post(
            CONFIRMATION,
            json={**c2b_body("100.00", "NOBODY", txn=f"FULL{n:06d}"), "Extra": "x" * 200_000},
        ).status_code
        for n in range(3)
    ]
    assert 503 in big
    assert 500 not in big
    limit["pages"] = None
    time.sleep(0.1)
    assert _post(client, 99) == 200
