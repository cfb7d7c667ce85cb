"""For any sequence of invoices and payments: money in equals money on invoices plus
credit, no invoice is paid beyond its amount, and the ledger proves every balance."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from pesadesk.c2b import bulk as c2b
from pesadesk.daraja.callbacks import C2BPayment as C2BTransaction
from pesadesk.db.models import Invoice
from pesadesk.db.session import Database
from pesadesk.ledger.verify import verify
from pesadesk.receivables import customers, invoices
from pesadesk.testing import FrozenClock

_txn = itertools.count(1)

invoice_step = st.tuples(st.just("invoice"), st.integers(min_value=1, max_value=2_000_000))
payment_step = st.tuples(
    st.sampled_from(["pay_account", "pay_latest_invoice", "pay_first_invoice"]),
    st.integers(min_value=1, max_value=3_000_000),
)
steps = st.lists(st.one_of(invoice_step, payment_step), min_size=1, max_size=12)


def _payment(amount: int, ref: str) -> C2BTransaction:
    return C2BTransaction(
        trans_id=f"PROP{next(_txn):08d}",
        amount_cents=amount,
        bill_ref=ref,
        msisdn_as_sent=None,
        msisdn_hash=None,
        payer_name=None,
        trans_time=None,
        shortcode=None,
    )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # one customer per example
)
@given(script=steps)
def test_money_in_equals_money_on_invoices_plus_credit(
    db: Database, clock: FrozenClock, script: list[tuple[str, int]]
) -> None:
    """Whatever the order of invoices and payments, every cent is on an invoice or credit."""
    with db.write() as session:
        cust = customers.create_customer(
            session, new=customers.NewCustomer("Property"), clock=clock
        )
    issued: list[str] = []
    paid_in = 0
    for action, cents in script:
        clock.advance(seconds=1)
        with db.write() as session:
            if action == "invoice":
                new = invoices.NewInvoice(cust.customer_id, cents)
                issued.append(invoices.create_invoice(session, new=new, clock=clock)[0].invoice_id)
                continue
            ref = cust.customer_id
            if action == "pay_latest_invoice" and issued:
                ref = issued[-1]
            elif action == "pay_first_invoice" and issued:
                ref = issued[0]
            c2b.record_confirmation(session, txn=_payment(cents, ref), clock=clock)
            paid_in += cents
    with db.read() as session:
        invoiced, on_invoices = session.execute(
            select(
                func.coalesce(func.sum(Invoice.amount_cents), 0),
                func.coalesce(func.sum(Invoice.amount_paid_cents), 0),
            ).where(Invoice.customer_pk == cust.id)
        ).one()
        over = session.execute(
            select(func.count())
            .select_from(Invoice)
            .where(Invoice.amount_paid_cents > Invoice.amount_cents)
        ).scalar_one()
        balance = customers.find_customer(session, cust.customer_id).balance_cents
        report = verify(session)
    credit = max(0, -balance)
    assert paid_in == on_invoices + credit
    assert balance == invoiced - paid_in
    assert over == 0
    assert report.ok, report.problems
