"""Every operation of the API's OpenAPI document, fuzzed by schemathesis (positive and
negative inputs, a fixed seed so CI repeats itself), one by one and as linked sequences
(customers -> invoices, orders -> pay, payments -> allocate/refund...).

An answer fails the run when it is a 5xx other than the contract's 503s (Daraja or B2C
not configured or unreachable), when it breaks the schema or media type its operation
declares, or when an error body is not exactly `{"error": str, "code": str}`."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case, CheckContext, GenerationMode, Response
from schemathesis.config import SchemathesisConfig
from schemathesis.python import asgi as schemathesis_asgi

from pesadesk.api.app import create_app
from pesadesk.config import Settings
from pesadesk.core.statuses import WebhookSource
from pesadesk.pipeline.run import Job
from pesadesk.testing import FrozenClock
from tests.conftest import ADMIN_KEY
from tests.fuzz.document import contract_document
from tests.helpers import c2b_body

pytestmark = [pytest.mark.slow, pytest.mark.fuzz]

SEED = 20260206
EXAMPLES_PER_OPERATION = 8
STATEFUL_SCENARIOS = 25
STATEFUL_STEPS = 10
# The contract's 503s: an outside service this desk has no credentials for, or cannot reach.
CONTRACT_503 = {
    "b2c_not_configured",
    "daraja_not_configured",
    "daraja_unavailable",
    "daraja_error",
    "daraja_server_error",
    "daraja_auth_failed",
    "daraja_outcome_unknown",
    "storage_unavailable",
    "database_busy",
    "b2c_failed",  # a refund Daraja would not take: the refund row says why
}


def _settings(url: str) -> Settings:
    return Settings(
        database_url=url,
        security={"admin_api_key": ADMIN_KEY},  # type: ignore[arg-type]
        log_json=False,
    )


def _openapi() -> dict[str, Any]:
    """The app's own document (building it opens no database) with the contract's rules
    and links written in."""
    app = create_app(_settings("sqlite:///never-opened.db"), background=False)
    try:
        return contract_document(app.openapi())
    finally:
        app.state.pesadesk.db.dispose()


CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": SEED,
        "headers": {"Authorization": f"Bearer {ADMIN_KEY}"},
        "generation": {"deterministic": True, "database": "none"},
    }
)
SCHEMA = schemathesis.openapi.from_dict(_openapi(), config=CONFIG)
OPERATIONS = sorted(
    (path, method.upper())
    for path, item in SCHEMA.raw_schema["paths"].items()
    for method in item
    if method in {"get", "post", "put", "patch", "delete"}
)


def no_server_error(_ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """5xx only as the contract allows: 503 with one of its codes, never a 500."""
    if response.status_code < 500:
        return None
    body = _json(response)
    code = body.get("code") if isinstance(body, dict) else None
    seen = f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
    assert response.status_code == 503, seen
    assert code in CONTRACT_503, seen
    return None


def error_body_shape(_ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Every 4xx/5xx body is `{"error": str, "code": str}` (CONTRACT §3); a failed STK Push
    or refund adds the ids of the rows it left (payment_id, refund_id, status)."""
    if response.status_code < 400:
        return None
    body = _json(response)
    seen = f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
    assert isinstance(body, dict), seen
    for key in ("error", "code"):
        assert isinstance(body.get(key), str), seen
        assert body[key], seen
    return None


def _json(response: Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


CHECKS = [
    no_server_error,
    error_body_shape,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.content_type_conformance,
]


def _seed(app: FastAPI) -> None:
    """Three C2B payments stored through the callback pipeline, for links to reach."""
    pipeline = app.state.pesadesk.pipeline
    for n, ref in enumerate(["NOBODY", "nobody-2", "ZZZ"], start=1):
        raw = json.dumps(c2b_body(f"{n * 150}.00", ref, txn=f"FUZZ{n:06d}")).encode()
        result = pipeline.run_one(Job(source=WebhookSource.C2B_CONFIRMATION.value, raw=raw))
        assert result.error is None, result.error


@dataclass
class FuzzDesk:
    """The app on its own SQLite file, which `restore` puts back to its seeded start."""

    app: FastAPI
    file: Path
    snapshot: Path

    def restore(self) -> None:
        self.app.state.pesadesk.db.dispose()  # closes the file (and checkpoints the WAL)
        for extra in ("-wal", "-shm"):
            Path(f"{self.file}{extra}").unlink(missing_ok=True)
        shutil.copy(self.snapshot, self.file)


@pytest.fixture(scope="module")
def desk(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzDesk]:
    """Schemathesis runs the app's lifespan, stopped at the end of the module."""
    folder = tmp_path_factory.mktemp("fuzz")
    target = folder / "pesadesk.db"
    shutil.copy(sqlite_template, target)
    app = create_app(_settings(f"sqlite:///{target}"), clock=FrozenClock(), background=False)
    _seed(app)
    app.state.pesadesk.db.dispose()
    shutil.copy(target, folder / "seeded.db")
    yield FuzzDesk(app, target, folder / "seeded.db")
    schemathesis_asgi.shutdown_lifespans()
    app.state.pesadesk.db.dispose()


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_operation_answers_within_its_schema(path: str, method: str, desk: FuzzDesk) -> None:
    """Random valid and invalid requests to one operation: no 500, no answer off its schema."""
    operation = SCHEMA[path][method]
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Case) -> None:
        case.call_and_validate(app=desk.app, checks=CHECKS)

    run()


def test_linked_sequences_stay_within_their_schemas(desk: FuzzDesk) -> None:
    """Chains through the links (customer -> invoice -> statement, order -> pay, payment ->
    allocate/refund/ledger, key -> delete): every answer on the way passes the checks."""
    machine = SCHEMA.as_state_machine()
    reached: set[str] = set()

    class Machine(machine):  # type: ignore[misc,valid-type]
        def setup(self) -> None:
            desk.restore()  # the same start for every scenario, or Hypothesis objects

        def get_call_kwargs(self, case: Case) -> dict[str, Any]:
            return {"app": desk.app}

        def after_call(self, response: Response, case: Case) -> None:
            super().after_call(response, case)
            if response.status_code < 300 and "{" in case.path:
                reached.add(f"{case.method} {case.path}")

        def validate_response(
            self, response: Response, case: Case, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            case.validate_response(response, checks=CHECKS)

    Machine.run(
        settings=settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=STATEFUL_STEPS,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    # The links carried real ids: some operation on a resource created earlier succeeded.
    assert reached, "no linked step reached an existing resource"
