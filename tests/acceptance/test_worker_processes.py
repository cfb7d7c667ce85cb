"""Two `pesadesk worker` processes on one PostgreSQL share the outbox without ever
sending one message twice (`FOR UPDATE SKIP LOCKED` claims)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from pesadesk.core.clock import SystemClock
from pesadesk.db import migrate
from pesadesk.db.session import Database
from pesadesk.emulator.whatsapp_sink import WhatsAppSink
from pesadesk.notify.admins import WHATSAPP_TEXT
from pesadesk.outbox import store as outbox
from pesadesk.testing import fresh_postgres_database, serve_in_thread
from tests.conftest import PG_URL

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

MESSAGES = 60


def test_two_workers_send_each_message_exactly_once(tmp_path: Path) -> None:
    """60 queued messages, two worker processes racing: 60 deliveries, no repeats."""
    if not PG_URL:
        pytest.skip("PESADESK_TEST_PG_URL is not set")
    sink = WhatsAppSink()
    with fresh_postgres_database(PG_URL) as url, serve_in_thread(sink.app()) as sink_url:
        db = Database(url)
        migrate.upgrade(db)
        now = SystemClock().now()
        with db.write() as session:
            for n in range(MESSAGES):
                outbox.enqueue(
                    session,
                    kind=WHATSAPP_TEXT,
                    dedupe_key=f"test:{n}",
                    payload={"to": "254700111111", "body": f"message {n}"},
                    now=now,
                )
        db.dispose()
        env = {
            **os.environ,
            "PESADESK_DATABASE_URL": url,
            "PESADESK_CONFIG": "",  # empty: no config file
            "PESADESK_WHATSAPP__ENABLED": "true",
            "PESADESK_WHATSAPP__BASE_URL": sink_url,
            "PESADESK_WHATSAPP__PHONE_NUMBER_ID": "123",
            "PESADESK_WHATSAPP__ACCESS_TOKEN": "token",
            "PESADESK_PAYMENTS__ENABLED": "false",
        }
        logs = [(tmp_path / f"worker-{n}.log").open("wb") for n in range(2)]
        workers = [
            subprocess.Popen(
                [sys.executable, "-m", "pesadesk", "worker", "--interval", "0.05"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            for log in logs
        ]
        try:
            deadline = time.monotonic() + 60
            while len(sink.messages) < MESSAGES and time.monotonic() < deadline:
                assert all(w.poll() is None for w in workers), (
                    tmp_path / "worker-0.log"
                ).read_text()
                time.sleep(0.1)
            time.sleep(1.0)  # room for a duplicate to show up, were there one
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait(timeout=20)
            for log in logs:
                log.close()
        bodies = Counter(m["text"]["body"] for m in sink.messages)
        assert len(bodies) == MESSAGES
        assert set(bodies.values()) == {1}
