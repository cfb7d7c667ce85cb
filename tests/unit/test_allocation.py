"""The pure allocation and posting rules: worked examples and properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pesadesk.core.statuses import InvoiceStatus, Role, invoice_status
from pesadesk.ledger import rules as ledger
from pesadesk.receivables.rules import Allocation, OpenInvoice, allocate, credit_to_apply


def test_target_invoice_is_paid_before_older_ones() -> None:
    """A payment naming invoice 3 pays 3 first, then 1 and 2 oldest first, then credit."""
    opens = [OpenInvoice(1, 100), OpenInvoice(2, 200), OpenInvoice(3, 300)]
    assert allocate(700, opens, target=3) == [
        Allocation(3, 300),
        Allocation(1, 100),
        Allocation(2, 200),
        Allocation(None, 100),
    ]


def test_fifo_stops_when_money_runs_out() -> None:
    """4,500 over 1,000 / 2,000 / 3,000 pays the first two and 1,500 of the third."""
    opens = [OpenInvoice(1, 1000), OpenInvoice(2, 2000), OpenInvoice(3, 3000)]
    assert allocate(4500, opens) == [Allocation(1, 1000), Allocation(2, 2000), Allocation(3, 1500)]


def test_no_open_invoices_means_all_credit() -> None:
    """With nothing owed, the whole amount becomes credit."""
    assert allocate(250, []) == [Allocation(None, 250)]


def test_zero_or_negative_amount_is_refused() -> None:
    """Allocation takes positive amounts only."""
    with pytest.raises(ValueError, match="positive"):
        allocate(0, [])


def test_credit_applied_is_capped_by_what_is_due() -> None:
    """2,000 of credit against a 1,500 invoice applies 1,500; no credit applies nothing."""
    assert credit_to_apply(2000, 1500) == 1500
    assert credit_to_apply(0, 1500) == 0


def test_invoice_status_follows_amount_paid() -> None:
    """0 paid is UNPAID, part is PARTIALLY_PAID, all is PAID, beyond is an error."""
    assert invoice_status(100, 0) is InvoiceStatus.UNPAID
    assert invoice_status(100, 1) is InvoiceStatus.PARTIALLY_PAID
    assert invoice_status(100, 100) is InvoiceStatus.PAID
    with pytest.raises(ValueError, match="outside"):
        invoice_status(100, 101)


def test_roles_are_ordered() -> None:
    """Admin can do what an operator can, who can do what a viewer can; not the reverse."""
    assert Role.ADMIN.allows(Role.OPERATOR)
    assert Role.OPERATOR.allows(Role.VIEWER)
    assert not Role.VIEWER.allows(Role.OPERATOR)


def test_a_leg_has_exactly_one_side() -> None:
    """A ledger leg with both or neither side set is refused."""
    with pytest.raises(ValueError, match="one positive side"):
        ledger.Leg("x", ledger.CASH, debit_cents=1, credit_cents=1)
    with pytest.raises(ValueError, match="one positive side"):
        ledger.Leg("x", ledger.CASH)


dues = st.lists(st.integers(min_value=1, max_value=10_000_000), max_size=12)


@given(amount=st.integers(min_value=1, max_value=50_000_000), owed=dues, data=st.data())
def test_allocation_parts_add_up_and_never_overpay(
    amount: int, owed: list[int], data: st.DataObject
) -> None:
    """Any amount over any open invoices: parts sum to the amount, none beyond its due,
    credit only once every invoice is settled, and the ledger legs balance."""
    opens = [OpenInvoice(i, due) for i, due in enumerate(owed)]
    target = data.draw(st.sampled_from([None, *range(len(owed))]))
    parts = allocate(amount, opens, target=target)
    assert sum(p.cents for p in parts) == amount
    due = {inv.key: inv.due_cents for inv in opens}
    for part in parts:
        assert part.cents > 0
        if part.invoice_key is not None:
            assert part.cents <= due[part.invoice_key]
    credit = sum(p.cents for p in parts if p.invoice_key is None)
    if credit:
        assert sum(p.cents for p in parts if p.invoice_key is not None) == sum(owed)
    if target is not None and owed:
        assert parts[0].invoice_key == target
    legs = [ledger.payment_received(amount), *ledger.placed(parts, customer_key=1)]
    assert ledger.is_balanced(legs)
