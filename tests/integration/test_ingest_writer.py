"""Group commit: many callbacks in one transaction, each still answered on its own,
and one bad callback never costs the others their place."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from pesadesk.config import Settings
from pesadesk.core.errors import StorageUnavailable
from pesadesk.core.statuses import WebhookSource
from pesadesk.db.models import Payment, WebhookLog
from pesadesk.db.session import Database
from pesadesk.ledger.verify import verify
from pesadesk.pipeline import registry
from pesadesk.pipeline.contract import Plan
from pesadesk.pipeline.run import Job, Pipeline
from pesadesk.pipeline.writer import IngestWriter
from pesadesk.testing import FrozenClock
from tests.helpers import c2b_body


def _jobs(bodies: list[bytes]) -> list[Job]:
    return [Job("c2b_confirmation", raw, "127.0.0.1", None) for raw in bodies]


def test_a_batch_commits_together_and_answers_each(
    db: Database, settings: Settings, clock: FrozenClock
) -> None:
    """Five good callbacks, a malformed one and a duplicate in one batch: five payments,
    one kept error, one duplicate, and every job answered."""
    good = [json.dumps(c2b_body("10.00", "NOBODY", txn=f"GRP{n:05d}")).encode() for n in range(5)]
    jobs = _jobs([*good, b"{not json", good[0]])
    Pipeline(db, settings, clock).run(jobs)
    results = [job.future.result(timeout=5) for job in jobs]
    assert [r.error is None for r in results] == [True] * 5 + [False, True]
    assert results[6].outcome is not None
    assert results[6].outcome.duplicate
    assert "not valid JSON" in (results[5].error or "")
    with db.read() as session:
        assert session.execute(select(func.count()).select_from(Payment)).scalar_one() == 5
        assert session.execute(select(func.count()).select_from(WebhookLog)).scalar_one() == 7
        assert verify(session).ok


def test_a_failure_inside_the_batch_redoes_each_alone(
    db: Database, settings: Settings, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A processor that blows up mid-batch rolls the batch back; each callback is then
    redone alone, so the good ones land and the bad one is kept with its reason."""

    class Explode:
        def external_id(self, message: Any) -> None:
            return None

        def plan(self, *args: Any) -> Plan:
            return Plan()

        def apply(self, *args: Any) -> Any:
            raise RuntimeError("validation broke")

    monkeypatch.setitem(registry.HANDLERS, WebhookSource.C2B_VALIDATION, Explode())
    good = [json.dumps(c2b_body("10.00", "NOBODY", txn=f"RDO{n:05d}")).encode() for n in range(3)]
    jobs = _jobs(good)
    jobs.insert(1, Job("c2b_validation", good[0], None, None))
    Pipeline(db, settings, clock).run(jobs)
    results = [job.future.result(timeout=5) for job in jobs]
    assert [r.error is None for r in results] == [True, False, True, True]
    assert "validation broke" in (results[1].error or "")
    with db.read() as session:
        assert session.execute(select(func.count()).select_from(Payment)).scalar_one() == 3
        assert verify(session).ok


def test_database_down_fails_every_job_with_storage_unavailable(
    settings: Settings, clock: FrozenClock
) -> None:
    """When the batch cannot be stored at all, every waiting request hears 503's cause."""
    dead = Database("postgresql://postgres@127.0.0.1:1/nowhere")
    try:
        jobs = _jobs([json.dumps(c2b_body("1.00", "X", txn="DEAD00001")).encode()] * 2)
        Pipeline(dead, settings, clock).run(jobs)
        for job in jobs:
            with pytest.raises(StorageUnavailable):
                job.future.result(timeout=5)
    finally:
        dead.dispose()


def test_writer_threads_start_and_close_after_draining(
    db: Database, settings: Settings, clock: FrozenClock
) -> None:
    """Jobs submitted to a running writer are all answered before `close` returns."""
    writer = IngestWriter(Pipeline(db, settings, clock), threads=2)
    writer.start()
    futures = [
        writer.submit(
            Job(
                "c2b_confirmation",
                json.dumps(c2b_body("5.00", "NOBODY", txn=f"THR{n:05d}")).encode(),
            )
        )
        for n in range(40)
    ]
    writer.close()
    assert all(f.done() for f in futures)
    assert {f.result().error for f in futures} == {None}
