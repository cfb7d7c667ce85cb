"""Random sequences against the real API, on SQLite and on PostgreSQL: customers, invoices
and POS sales; C2B confirmations to an invoice, a customer, a sale, a payer's hashed
number or nothing, in any case and spacing, some sent twice, some in a batch in another
order; manual allocation of unallocated money (a second one refused); refunds over B2C
through the emulator, whose result callback is handed to the desk before the step ends.

After every step `ledger verify` holds and the model in `money_model` agrees with the
API: money in = on invoices + credit + suspense + refunded, no payment twice, every
invoice's status follows from its amounts."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import text

from pesadesk.api.app import create_app
from pesadesk.config import Settings
from pesadesk.db.models import Base
from pesadesk.db.session import Database
from pesadesk.emulator.state import EmulatorConfig
from pesadesk.ledger.verify import verify
from pesadesk.testing import FrozenClock
from pesadesk.testing.emulator import CallbackSink, RunningEmulator, callback_sink, running_emulator
from tests.conftest import ADMIN_KEY, BACKENDS
from tests.helpers import CONFIRMATION, c2b_body
from tests.properties.money_model import PAID_STATES, Model, Sale, cents, check, phone_hash, read

pytestmark = [pytest.mark.slow, pytest.mark.fuzz]

B2C_RESULT = "/b2c/result"
RUNS = 15
STEPS = 25
amounts = st.integers(min_value=1, max_value=3_000_000)  # cents: KES 0.01 to 30,000
shillings = st.integers(min_value=1, max_value=30_000).map(lambda s: s * 100)
spelling = st.sampled_from([str, str.lower, lambda s: f"  {s.lower()} ", lambda s: f"{s}\t"])
_txn = itertools.count(1)
_phone = itertools.count(1)


class Desk:
    """A fresh database and app for one run of the machine."""

    def __init__(self, url: str, emulator: RunningEmulator, sink: CallbackSink) -> None:
        self.db = Database(url)
        b2c = {
            "consumer_key": "emulator-key",
            "consumer_secret": "emulator-secret",
            "shortcode": "600000",
            "initiator_name": "testapi",
            "security_credential": emulator.security_credential(),
            "base_url": emulator.base_url,
            "callback_url": sink.url(B2C_RESULT),
            "timeout_url": sink.url("/b2c/timeout"),
        }
        desk_settings = Settings.model_validate(
            {
                "database_url": url,
                "payments": {"b2c": b2c},
                "refunds": {"approval_threshold": 150000},
                "security": {"admin_api_key": ADMIN_KEY},
                "log_json": False,
            }
        )
        app = create_app(desk_settings, db=self.db, clock=FrozenClock(), background=False)
        self.client = TestClient(app, headers={"Authorization": f"Bearer {ADMIN_KEY}"})
        self.client.__enter__()

    def close(self) -> None:
        self.client.__exit__(None, None, None)
        self.db.dispose()


class MoneyMachine(RuleBasedStateMachine):
    """Set up by `machine_for`: `fresh_url` gives an empty migrated database per run."""

    fresh_url: Any
    emulator: RunningEmulator
    sink: CallbackSink

    customers = Bundle("customers")
    invoices = Bundle("invoices")
    sales = Bundle("sales")
    sent = Bundle("sent")
    unallocated = Bundle("unallocated")
    on_customers = Bundle("on_customers")

    def __init__(self) -> None:
        super().__init__()
        self.desk = Desk(self.fresh_url(), self.emulator, self.sink)
        self.api = self.desk.client
        self.model = Model()

    def teardown(self) -> None:
        self.desk.close()

    @rule(target=customers)
    def new_customer(self) -> str:
        phone = f"2547990{next(_phone):05d}"
        answer = self.api.post("/api/customers", json={"name": "Wanjiku", "phone": phone})
        assert answer.status_code == 201, answer.text
        customer_id: str = answer.json()["customer_id"]
        self.model.customers[customer_id] = phone
        return customer_id

    @rule(target=invoices, customer=customers, amount=amounts)
    def new_invoice(self, customer: str, amount: int) -> str:
        body = {"customer_id": customer, "amount": amount / 100}
        answer = self.api.post("/api/invoices", json=body)
        assert answer.status_code == 201, answer.text
        invoice_id: str = answer.json()["invoice_id"]
        self.model.invoices[invoice_id] = customer
        return invoice_id

    @rule(target=sales, customer=st.none() | customers, price=amounts, quantity=st.integers(1, 3))
    def new_sale(self, customer: str | None, price: int, quantity: int) -> str:
        item = {"product_id": "P1", "product_name": "Unga", "quantity": quantity,
                "unit_price": price / 100}  # fmt: skip
        body: dict[str, Any] = {"items": [item], "customer_id": customer}
        answer = self.api.post("/api/pos/sales", json=body)
        assert answer.status_code == 201, answer.text
        sale = answer.json()
        assert cents(sale["total"]) == price * quantity
        self.model.sales[sale["pos_id"]] = Sale(sale["pos_id"], price * quantity, customer)
        return str(sale["pos_id"])

    def _confirm(self, body: dict[str, Any]) -> None:
        answer = self.api.post(CONFIRMATION, json=body)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"ResultCode": 0, "ResultDesc": "Accepted"}

    def _pay(self, amount: int, ref: str, target: tuple[str, str] | None, **kw: Any) -> str:
        body = c2b_body(f"{amount / 100:.2f}", ref, txn=f"MM{next(_txn):08d}", **kw)
        self._confirm(body)
        payment_id = f"PAY-C2B-{body['TransID']}"
        self.model.receive(payment_id, amount, target)
        self._last_body = body
        return payment_id

    @rule(target=sent, invoice=invoices, amount=amounts, spell=spelling)
    def pay_invoice(self, invoice: str, amount: int, spell: Any) -> dict[str, Any]:
        self._pay(amount, spell(invoice), ("invoice", invoice))
        return self._last_body

    @rule(target=on_customers, customer=customers, amount=amounts, spell=spelling)
    def pay_customer(self, customer: str, amount: int, spell: Any) -> str:
        return self._pay(amount, spell(customer), ("customer", customer))

    @rule(target=sent, sale=sales, amount=amounts, spell=spelling)
    def pay_sale(self, sale: str, amount: int, spell: Any) -> dict[str, Any]:
        self._pay(amount, spell(sale), ("sale", sale))
        return self._last_body

    @rule(target=on_customers, customer=customers, amount=amounts)
    def pay_from_known_phone(self, customer: str, amount: int) -> str:
        """An unknown account number, but the hashed MSISDN is a customer's (rule 8)."""
        msisdn = phone_hash(self.model.customers[customer])
        return self._pay(amount, "WHO-KNOWS", ("customer", customer), msisdn=msisdn)

    @rule(target=unallocated, amount=amounts, ref=st.sampled_from(["", "NOBODY", "inv-0"]))
    def pay_nothing(self, amount: int, ref: str) -> str:
        return self._pay(amount, ref, None)

    @rule(body=sent)
    def resend(self, body: dict[str, Any]) -> None:
        """Safaricom sends a confirmation again: accepted, nothing moves."""
        self._confirm(body)

    @rule(data=st.data(), customer=customers, amounts_=st.lists(amounts, min_size=2, max_size=4))
    def batch_in_another_order(
        self, data: st.DataObject, customer: str, amounts_: list[int]
    ) -> None:
        """Several confirmations (one of them twice) arriving in a shuffled order."""
        bodies = [c2b_body(f"{a / 100:.2f}", customer, txn=f"MM{next(_txn):08d}") for a in amounts_]
        for body, amount in zip(bodies, amounts_, strict=True):
            self.model.receive(f"PAY-C2B-{body['TransID']}", amount, ("customer", customer))
        for body in data.draw(st.permutations([*bodies, bodies[0]])):
            self._confirm(body)

    @precondition(lambda self: bool(self.model.customers))
    @rule(target=on_customers, payment=consumes(unallocated), to=st.data())
    def allocate(self, payment: str, to: st.DataObject) -> str:
        """Unallocated money put on an invoice or an account by hand; only once."""
        choices = [("customer", c) for c in self.model.customers]
        choices += [("invoice", i) for i in self.model.invoices]
        kind, key = to.draw(st.sampled_from(choices))
        answer = self.api.post(f"/api/payments/{payment}/allocate", json={f"{kind}_id": key})
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "completed"
        self.model.allocate(payment, (kind, key))
        again = self.api.post(f"/api/payments/{payment}/allocate", json={f"{kind}_id": key})
        assert again.status_code == 409, again.text
        return payment

    @rule(payment=on_customers, amount=shillings)
    def refund(self, payment: str, amount: int) -> None:
        """A refund from the credit the payment left: refused above it, else paid out."""
        customer = self._customer_of(payment)
        credit = cents(self.api.get(f"/api/customers/{customer}").json()["credit"])
        paid, status = self.model.payments[payment]
        left = paid - self.model.refunds.get(payment, 0)
        answer = self.api.post(f"/api/payments/{payment}/refund", json={"amount": amount / 100})
        if status not in PAID_STATES or amount > min(credit, left) or amount < 1000:
            assert 400 <= answer.status_code < 500, answer.text
            return
        assert answer.status_code == 200, answer.text
        conversation = answer.json()["conversation_id"]
        self.sink.wait_for(1, path=B2C_RESULT, predicate=_result_for(conversation))
        result = next(r for r in self.sink.at(B2C_RESULT) if _result_for(conversation)(r))
        settled = self.api.post("/api/mpesa/b2c/callback", json=result.body)
        assert settled.status_code == 200, settled.text
        self._refund_done(payment, customer, amount, left)

    def _customer_of(self, payment: str) -> str:
        view = self.api.get(f"/api/payments/{payment}").json()
        return str(view["customer_id"])

    def _refund_done(self, payment: str, customer: str, amount: int, left: int) -> None:
        model = self.model
        model.refunds[payment] = model.refunds.get(payment, 0) + amount
        model.refunded += amount
        model.refunded_by[customer] = model.refunded_by.get(customer, 0) + amount
        paid, _ = model.payments[payment]
        model.payments[payment] = (paid, "refunded" if amount == left else "partially_refunded")

    @invariant()
    def ledger_and_model_agree_with_the_api(self) -> None:
        with self.desk.db.read() as session:
            report = verify(session)
        assert report.ok, report.problems
        check(self.model, read(self.api, self.model))


def _result_for(conversation: str) -> Any:
    def matches(received: Any) -> bool:
        result = received.body.get("Result", {}) if isinstance(received.body, dict) else {}
        return bool(result.get("ConversationID") == conversation)

    return matches


@pytest.fixture(scope="module")
def b2c_world() -> Iterator[tuple[RunningEmulator, CallbackSink]]:
    """The Daraja emulator and a sink its B2C results go to, for the whole module."""
    with (
        running_emulator(EmulatorConfig(callback_delay_seconds=0.0)) as emulator,
        callback_sink() as sink,
    ):
        yield emulator, sink


def _fresh_urls(db_url: str, tmp_path: Path) -> Any:
    """A function giving an empty migrated database for each run of the machine."""
    runs = itertools.count()
    template = Path(db_url.removeprefix("sqlite:///"))

    def fresh() -> str:
        if db_url.startswith("sqlite"):
            target = tmp_path / f"run-{next(runs)}.db"
            shutil.copy(template, target)
            return f"sqlite:///{target}"
        database = Database(db_url)
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        with database.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        database.dispose()
        return db_url

    return fresh


@pytest.mark.parametrize("db_url", BACKENDS, indirect=True)
def test_random_money_sequences_keep_every_shilling_accounted_for(
    db_url: str, tmp_path: Path, b2c_world: tuple[RunningEmulator, CallbackSink]
) -> None:
    """Any sequence of the rules above leaves the ledger provable and the model right."""
    emulator, sink = b2c_world

    class Machine(MoneyMachine):
        fresh_url = staticmethod(_fresh_urls(db_url, tmp_path))

    Machine.emulator, Machine.sink = emulator, sink
    run_state_machine_as_test(
        Machine,
        settings=settings(
            max_examples=RUNS,
            stateful_step_count=STEPS,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
