"""The database itself refuses a ledger that does not balance or that is edited."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from pesadesk.db.session import Database
from pesadesk.db.sql import db_time
from pesadesk.ledger import posting
from pesadesk.ledger import rules as ledger

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LEG = (
    "INSERT INTO ledger_entries (journal_id, kind, account, debit_cents, credit_cents, "
    "created_at) VALUES (:journal, 'test', :account, :debit, :credit, :at)"
)
HEADER = "INSERT INTO ledger_journals (journal_id, kind, created_at) VALUES (:journal, 'test', :at)"


def _post(db: Database, journal: str, legs: list[tuple[str, int, int]], header: bool) -> None:
    with db.write() as session:
        conn = session.connection()
        at = db_time(conn, NOW)
        for account, debit, credit in legs:
            conn.execute(
                text(LEG),
                {"journal": journal, "account": account, "debit": debit, "credit": credit,
                 "at": at},
            )  # fmt: skip
        if header:
            conn.execute(text(HEADER), {"journal": journal, "at": at})


def _balanced(db: Database, journal: str) -> None:
    with db.write() as session:
        posting.write_legs(
            session,
            [ledger.payment_received(500_00), ledger.held_in_suspense(500_00)],
            journal_id=journal,
            now=NOW,
        )


def _journal_count(db: Database) -> int:
    with db.read() as session:
        return int(session.execute(text("SELECT COUNT(*) FROM ledger_entries")).scalar_one())


def test_an_unbalanced_journal_is_refused(db: Database) -> None:
    """Cash 500 in against 400 placed is refused by the database, and nothing is kept."""
    with pytest.raises(DatabaseError, match="balance"):
        _post(db, "test:1", [("cash", 500_00, 0), ("suspense", 0, 400_00)], header=True)
    assert _journal_count(db) == 0


def test_legs_without_a_journal_header_fail_the_commit(db: Database) -> None:
    """Legs written without closing their journal never reach the ledger."""
    with pytest.raises(DatabaseError):
        _post(db, "test:2", [("cash", 500_00, 0), ("suspense", 0, 500_00)], header=False)
    assert _journal_count(db) == 0


def test_a_closed_journal_takes_no_more_legs(db: Database) -> None:
    """After its header, a journal cannot grow, even by a balanced pair of legs."""
    _balanced(db, "test:3")
    with pytest.raises(DatabaseError, match="closed"):
        _post(db, "test:3", [("cash", 100_00, 0), ("suspense", 0, 100_00)], header=False)
    assert _journal_count(db) == 2


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_entries SET debit_cents = debit_cents + 100 WHERE debit_cents > 0",
        "DELETE FROM ledger_entries",
        "UPDATE ledger_journals SET memo = 'edited'",
        "DELETE FROM ledger_journals",
    ],
)
def test_legs_and_journals_are_never_changed(db: Database, statement: str) -> None:
    """Corrections are new journals: an edit or a delete of the ledger is refused."""
    _balanced(db, "test:4")
    with pytest.raises(DatabaseError, match="never"), db.write() as session:
        session.execute(text(statement))
    assert _journal_count(db) == 2
