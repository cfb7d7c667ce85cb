"""Storage faults under load: `pesadesk serve` on a private PostgreSQL cluster takes C2B
confirmations without pause (each with its own TransID) while PostgreSQL is stopped for
5 s and started again, and while pesadesk itself is killed with SIGKILL and restarted.

Nothing answered 200 may be lost (CONTRACT §5 rule 1), nothing may be credited twice,
every stored confirmation becomes its payment without a person (rule 3), and the ledger
still proves. The figures are printed for the issue note."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from pesadesk.db.models import LedgerEntry, Payment, WebhookLog
from pesadesk.db.session import Database
from pesadesk.ledger.verify import verify
from tests.conftest import ADMIN_KEY
from tests.faults.cluster import Cluster, Desk, pg_tool, private_cluster
from tests.helpers import CONFIRMATION, c2b_body

pytestmark = [pytest.mark.slow, pytest.mark.faults, pytest.mark.timeout(180)]

WARM_SECONDS = 3.0
PG_DOWN_SECONDS = 5.0
AFTER_PG_SECONDS = 4.0
AFTER_KILL_SECONDS = 3.0
SETTLE_TIMEOUT = 30.0


@dataclass(eq=False)  # a Thread must stay hashable
class Sender(threading.Thread):
    """One confirmation after another, each with a new TransID; every answer noted."""

    base: str
    answers: list[tuple[str, int | None, float]] = field(default_factory=list)
    halt: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        super().__init__(daemon=True)

    def run(self) -> None:
        with httpx.Client(timeout=5.0) as http:
            n = 0
            while not self.halt.is_set():
                n += 1
                trans_id = f"FLT{n:07d}"
                status: int | None
                try:
                    body = c2b_body("10.00", "NOBODY", txn=trans_id)
                    status = http.post(f"{self.base}{CONFIRMATION}", json=body).status_code
                except httpx.TransportError:
                    status = None
                self.answers.append((trans_id, status, time.monotonic()))
                if status != 200:
                    time.sleep(0.02)  # no busy loop while the desk is away

    def first_200_after(self, moment: float) -> float | None:
        later = [at for _, status, at in self.answers if status == 200 and at > moment]
        return min(later) - moment if later else None


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    if pg_tool("initdb") is None or pg_tool("pg_ctl") is None:
        pytest.skip("initdb/pg_ctl not found: the fault test starts its own PostgreSQL")
    with private_cluster() as started:
        yield started


@dataclass
class Stored:
    logs: Counter[str]
    payments: set[str]
    doubled: int
    unprocessed: int
    ledger_problems: list[str]


def _stored(db: Database) -> Stored:
    with db.read() as session:
        logs: Counter[str] = Counter()
        for (raw,) in session.execute(
            select(WebhookLog.raw_body).where(WebhookLog.source == "c2b_confirmation")
        ):
            logs[json.loads(raw)["TransID"]] += 1
        payments = set(session.execute(select(Payment.id)).scalars())
        doubled = session.execute(
            select(func.count()).select_from(
                select(LedgerEntry.payment_id)
                .where(LedgerEntry.kind == "payment_received")
                .group_by(LedgerEntry.payment_id)
                .having(func.count() > 1)
                .subquery()
            )
        ).scalar_one()
        unprocessed = session.execute(
            select(func.count()).select_from(WebhookLog).where(WebhookLog.processed.is_(False))
        ).scalar_one()
        report = verify(session)
    return Stored(logs, payments, doubled, unprocessed, report.problems)


def _settled(db: Database) -> Stored:
    """The desk's own recovery pass runs every few seconds: wait for it to finish."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while True:
        stored = _stored(db)
        if stored.unprocessed == 0 or time.monotonic() > deadline:
            return stored
        time.sleep(0.5)


def _faults(cluster: Cluster, desk: Desk, sender: Sender) -> dict[str, float | None]:
    """The timeline: run, PostgreSQL away and back, run, pesadesk killed and back, run."""
    time.sleep(WARM_SECONDS)
    cluster.stop("immediate")  # a crash, not a polite shutdown
    time.sleep(PG_DOWN_SECONDS)
    cluster.start()
    pg_back = time.monotonic()
    time.sleep(AFTER_PG_SECONDS)
    desk.kill()
    killed = time.monotonic()
    restart = desk.start()
    time.sleep(AFTER_KILL_SECONDS)
    sender.halt.set()
    sender.join(timeout=10)
    return {
        "after_pg": sender.first_200_after(pg_back),
        "after_kill": sender.first_200_after(killed),
        "restart": restart,
    }


def test_storage_faults_lose_and_double_nothing(
    cluster: Cluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """PostgreSQL stopped 5 s and pesadesk SIGKILLed mid-load: 0 lost, 0 doubled."""
    desk = Desk(cluster.url, ADMIN_KEY, tmp_path / "serve.log")
    desk.start()
    sender = Sender(desk.base)
    sender.start()
    try:
        timings = _faults(cluster, desk, sender)
    finally:
        sender.halt.set()
    db = Database(cluster.url)
    try:
        stored = _settled(db)
    finally:
        db.dispose()
        desk.stop()
    answers = Counter(status for _, status, _ in sender.answers)
    ok = {trans_id for trans_id, status, _ in sender.answers if status == 200}
    lost = sorted(ok - set(stored.logs))
    not_credited = sorted(t for t in stored.logs if f"PAY-C2B-{t}" not in stored.payments)
    figures = {
        "sent": len(sender.answers),
        "answered 200": answers[200],
        "answered 503": answers[503],
        "no answer": answers[None],
        "other answers": sum(n for s, n in answers.items() if s not in (200, 503, None)),
        "stored (webhook_logs rows)": sum(stored.logs.values()),
        "stored (payments)": len(stored.payments),
        "stored without a 200 (answer lost in the kill)": len(set(stored.logs) - ok),
        "lost (200 but not stored)": len(lost),
        "doubled (credited twice)": stored.doubled + sum(n > 1 for n in stored.logs.values()),
        "stored but no payment": len(not_credited),
        "first 200 after PostgreSQL came back (s)": _seconds(timings["after_pg"]),
        "first 200 after the SIGKILL (s)": _seconds(timings["after_kill"]),
        "pesadesk restart to ready (s)": _seconds(timings["restart"]),
    }
    with capsys.disabled():
        print("\nstorage fault figures:")
        for name, value in figures.items():
            print(f"  {name}: {value}")
    assert lost == [], lost[:20]
    assert figures["doubled (credited twice)"] == 0
    assert not_credited == [], not_credited[:20]
    assert stored.ledger_problems == []
    assert answers[200] > 0
    assert timings["after_pg"] is not None
    assert answers[None] + answers[503] > 0, "the faults were not felt: nothing to measure"


def _seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.2f}"
