"""pipeline origins and retries, events, journal headers, ledger invariants, key owners,
idempotency results

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

The ledger's rules become the database's (django-hordak style): a journal header is
refused unless its legs balance, legs of a closed journal are refused, a leg without a
header fails the commit (deferred foreign key), and legs and headers are never updated
or deleted. On PostgreSQL a deferred constraint trigger also checks, at commit, that
every journal a transaction touched sums to zero.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_SQLITE_TRIGGERS = (
    """CREATE TRIGGER ledger_entries_never_updated BEFORE UPDATE ON ledger_entries
       BEGIN SELECT RAISE(ABORT, 'ledger legs are never updated'); END""",
    """CREATE TRIGGER ledger_entries_never_deleted BEFORE DELETE ON ledger_entries
       BEGIN SELECT RAISE(ABORT, 'ledger legs are never deleted'); END""",
    """CREATE TRIGGER ledger_entries_journal_open BEFORE INSERT ON ledger_entries
       WHEN EXISTS (SELECT 1 FROM ledger_journals WHERE journal_id = NEW.journal_id)
       BEGIN SELECT RAISE(ABORT, 'journal is closed: post a new journal'); END""",
    """CREATE TRIGGER ledger_journals_balanced BEFORE INSERT ON ledger_journals
       WHEN (SELECT COUNT(*) < 2 OR SUM(debit_cents) != SUM(credit_cents)
             FROM ledger_entries WHERE journal_id = NEW.journal_id)
       BEGIN SELECT RAISE(ABORT, 'journal does not balance'); END""",
    """CREATE TRIGGER ledger_journals_never_updated BEFORE UPDATE ON ledger_journals
       BEGIN SELECT RAISE(ABORT, 'journals are never updated'); END""",
    """CREATE TRIGGER ledger_journals_never_deleted BEFORE DELETE ON ledger_journals
       BEGIN SELECT RAISE(ABORT, 'journals are never deleted'); END""",
)

_PG_FUNCTIONS = (
    """CREATE FUNCTION pesadesk_ledger_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION '% rows are never %', TG_TABLE_NAME, lower(TG_OP)
             USING ERRCODE = 'integrity_constraint_violation'; END $$""",
    """CREATE FUNCTION pesadesk_journal_open() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF EXISTS (SELECT 1 FROM ledger_journals WHERE journal_id = NEW.journal_id) THEN
           RAISE EXCEPTION 'journal % is closed: post a new journal', NEW.journal_id
             USING ERRCODE = 'integrity_constraint_violation';
         END IF;
         RETURN NEW;
       END $$""",
    """CREATE FUNCTION pesadesk_journal_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
       DECLARE legs bigint; difference bigint;
       BEGIN
         SELECT count(*), coalesce(sum(debit_cents - credit_cents), 0) INTO legs, difference
           FROM ledger_entries WHERE journal_id = NEW.journal_id;
         IF legs < 2 OR difference <> 0 THEN
           RAISE EXCEPTION 'journal % does not balance', NEW.journal_id
             USING ERRCODE = 'integrity_constraint_violation';
         END IF;
         RETURN NULL;
       END $$""",
)
_PG_TRIGGERS = (
    """CREATE TRIGGER ledger_entries_never_changed BEFORE UPDATE OR DELETE ON ledger_entries
       FOR EACH ROW EXECUTE FUNCTION pesadesk_ledger_immutable()""",
    """CREATE TRIGGER ledger_journals_never_changed BEFORE UPDATE OR DELETE ON ledger_journals
       FOR EACH ROW EXECUTE FUNCTION pesadesk_ledger_immutable()""",
    """CREATE TRIGGER ledger_entries_journal_open BEFORE INSERT ON ledger_entries
       FOR EACH ROW EXECUTE FUNCTION pesadesk_journal_open()""",
    # Checked at commit, once per journal header: by then all its legs are in.
    """CREATE CONSTRAINT TRIGGER ledger_journals_balanced AFTER INSERT ON ledger_journals
       DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION pesadesk_journal_balanced()""",
)


def _journal_headers() -> None:
    """A header for every journal already written (wave 1 had none)."""
    op.execute(
        """INSERT INTO ledger_journals (journal_id, kind, reference, memo, created_at)
           SELECT journal_id, MIN(kind), MIN(payment_id), NULL, MIN(created_at)
           FROM ledger_entries GROUP BY journal_id"""
    )


def _one_customer_a_phone() -> None:
    """Two customers with one phone make payer matching a guess: refuse to go on until a
    person has told them apart (nothing is changed behind their back)."""
    shared = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT phone FROM customers WHERE phone IS NOT NULL "
                "GROUP BY phone HAVING COUNT(*) > 1"
            )
        )
        .all()
    )
    if shared:
        phones = ", ".join(row[0] for row in shared[:5])
        raise RuntimeError(
            f"customers share phone numbers ({phones}): give each customer their own "
            "number (or none), then run `pesadesk db upgrade` again"
        )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f("uq_customers_phone"), ["phone"])


def upgrade() -> None:
    _one_customer_a_phone()
    op.create_table(
        "ledger_journals",
        sa.Column("journal_id", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("memo", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("journal_id", name=op.f("pk_ledger_journals")),
    )
    op.create_index(
        op.f("ix_ledger_journals_created_at"), "ledger_journals", ["created_at"], unique=False
    )
    _journal_headers()
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_ledger_entries_journal_id_ledger_journals"),
            "ledger_journals",
            ["journal_id"],
            ["journal_id"],
            deferrable=True,
            initially="DEFERRED",
        )
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_start", name=op.f("pk_rate_limits")),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_events_event_id")),
    )
    op.create_index(op.f("ix_events_created_at"), "events", ["created_at"], unique=False)
    op.create_index(op.f("ix_events_type_id"), "events", ["type", "id"], unique=False)
    with op.batch_alter_table("webhook_logs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("origin", sa.String(length=12), server_default="callback", nullable=False)
        )
        batch_op.add_column(sa.Column("error_kind", sa.String(length=12), nullable=True))
        batch_op.add_column(
            sa.Column("proven", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_webhook_logs_source_external_id"), ["source", "external_id"]
        )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("owner", sa.String(length=100), server_default="", nullable=False)
        )
    op.execute("UPDATE api_keys SET owner = name WHERE owner = ''")
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("requested_owner", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("account", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("check_token", sa.String(length=100), nullable=True))
    op.create_table(
        "refund_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=False),
        sa.Column("receipt", sa.String(length=40), nullable=False),
        sa.Column("phone", sa.String(length=12), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column("refund_id", sa.String(length=40), nullable=True),
        sa.Column("remote_addr", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund_requests")),
        sa.UniqueConstraint("request_id", name=op.f("uq_refund_requests_request_id")),
    )
    op.create_index(
        op.f("ix_refund_requests_receipt"), "refund_requests", ["receipt"], unique=False
    )
    op.create_table(
        "sale_qr_codes",
        sa.Column("sale_pk", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=40), nullable=False),
        sa.Column("png", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["sale_pk"], ["pos_sales.id"], name=op.f("fk_sale_qr_codes_sale_pk_pos_sales")
        ),
        sa.PrimaryKeyConstraint("sale_pk", "account", name=op.f("pk_sale_qr_codes")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("account", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("shortcode", sa.String(length=20), nullable=True))
        batch_op.create_index(batch_op.f("ix_payments_account"), ["account"], unique=False)
        batch_op.add_column(sa.Column("verify_reason", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("claimed_status", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("claimed_receipt", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("verify_token", sa.String(length=100), nullable=True))
    op.execute("UPDATE payments SET account = 'default'")
    op.execute("UPDATE refunds SET account = 'default'")
    op.execute(
        "UPDATE refunds SET requested_owner = COALESCE((SELECT owner FROM api_keys "
        "WHERE api_keys.id = refunds.requested_key_id), requested_by)"
    )
    # Keys now keep the service's result instead of an HTTP answer; answers kept in the
    # old shape cannot be replayed as results, so they are let go (they guard retries of
    # a few minutes, and the payments and refunds they created stay).
    op.execute("DELETE FROM idempotency_keys")
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_column("status_code")
    if op.get_bind().dialect.name == "postgresql":
        for statement in (*_PG_FUNCTIONS, *_PG_TRIGGERS):
            op.execute(statement)
    else:
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER ledger_journals_balanced ON ledger_journals")
        op.execute("DROP TRIGGER ledger_entries_journal_open ON ledger_entries")
        op.execute("DROP TRIGGER ledger_journals_never_changed ON ledger_journals")
        op.execute("DROP TRIGGER ledger_entries_never_changed ON ledger_entries")
        for name in ("ledger_immutable", "journal_open", "journal_balanced"):
            op.execute(f"DROP FUNCTION pesadesk_{name}()")
    else:
        for statement in _SQLITE_TRIGGERS:
            name = statement.split()[2]
            op.execute(f"DROP TRIGGER {name}")
    op.execute("DELETE FROM idempotency_keys")
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status_code", sa.Integer(), nullable=True))
        batch_op.drop_column("completed_at")
    op.drop_table("sale_qr_codes")
    op.drop_index(op.f("ix_refund_requests_receipt"), table_name="refund_requests")
    op.drop_table("refund_requests")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_account"))
        batch_op.drop_column("shortcode")
        batch_op.drop_column("account")
        batch_op.drop_column("verify_token")
        batch_op.drop_column("claimed_receipt")
        batch_op.drop_column("claimed_status")
        batch_op.drop_column("verify_reason")
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_column("check_token")
        batch_op.drop_column("account")
        batch_op.drop_column("requested_owner")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("owner")
    with op.batch_alter_table("webhook_logs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_logs_source_external_id"))
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("proven")
        batch_op.drop_column("error_kind")
        batch_op.drop_column("origin")
    op.drop_index(op.f("ix_events_type_id"), table_name="events")
    op.drop_index(op.f("ix_events_created_at"), table_name="events")
    op.drop_table("events")
    op.drop_table("rate_limits")
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_ledger_entries_journal_id_ledger_journals"), type_="foreignkey"
        )
    op.drop_index(op.f("ix_ledger_journals_created_at"), table_name="ledger_journals")
    op.drop_table("ledger_journals")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_customers_phone"), type_="unique")
