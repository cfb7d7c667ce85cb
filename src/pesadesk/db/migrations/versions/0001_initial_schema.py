"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "role IN ('viewer', 'operator', 'admin')", name=op.f("ck_api_keys_role_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=12), nullable=True),
        sa.Column("phone_hash", sa.String(length=64), nullable=True),
        sa.Column("balance_cents", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_customers_customer_id")),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customers_phone_hash"), ["phone_hash"], unique=False)

    op.create_table(
        "sequences",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sequences")),
    )
    op.create_table(
        "webhook_logs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("source", sa.String(length=30), nullable=False),
        sa.Column("raw_body", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("remote_addr", sa.String(length=64), nullable=True),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("processed", sa.Boolean(), nullable=False),
        sa.Column("is_duplicate", sa.Boolean(), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_logs")),
    )
    with op.batch_alter_table("webhook_logs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_logs_processed_flagged_received_at"),
            ["processed", "flagged", "received_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_webhook_logs_received_at"), ["received_at"], unique=False
        )

    op.create_table(
        "pos_sales",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pos_id", sa.String(length=40), nullable=False),
        sa.Column("customer_pk", sa.Integer(), nullable=True),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("total_cents > 0", name=op.f("ck_pos_sales_total_positive")),
        sa.ForeignKeyConstraint(
            ["customer_pk"], ["customers.id"], name=op.f("fk_pos_sales_customer_pk_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pos_sales")),
        sa.UniqueConstraint("pos_id", name=op.f("uq_pos_sales_pos_id")),
    )
    with op.batch_alter_table("pos_sales", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pos_sales_customer_pk"), ["customer_pk"], unique=False)

    op.create_table(
        "invoices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.String(length=40), nullable=False),
        sa.Column("customer_pk", sa.Integer(), nullable=True),
        sa.Column("pos_sale_pk", sa.Integer(), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("amount_paid_cents", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_invoices_amount_positive")),
        sa.CheckConstraint(
            "amount_paid_cents >= 0 AND amount_paid_cents <= amount_cents",
            name=op.f("ck_invoices_paid_in_range"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_pk"], ["customers.id"], name=op.f("fk_invoices_customer_pk_customers")
        ),
        sa.ForeignKeyConstraint(
            ["pos_sale_pk"], ["pos_sales.id"], name=op.f("fk_invoices_pos_sale_pk_pos_sales")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("invoice_id", name=op.f("uq_invoices_invoice_id")),
        sa.UniqueConstraint("pos_sale_pk", name=op.f("uq_invoices_pos_sale_pk")),
    )
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invoices_customer_pk_status_created_at"),
            ["customer_pk", "status", "created_at"],
            unique=False,
        )

    op.create_table(
        "pos_sale_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sale_pk", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.String(length=100), nullable=False),
        sa.Column("product_name", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_cents", sa.BigInteger(), nullable=False),
        sa.Column("line_total_cents", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_pos_sale_items_quantity_positive")),
        sa.CheckConstraint(
            "unit_price_cents >= 0", name=op.f("ck_pos_sale_items_price_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["sale_pk"], ["pos_sales.id"], name=op.f("fk_pos_sale_items_sale_pk_pos_sales")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pos_sale_items")),
    )
    with op.batch_alter_table("pos_sale_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pos_sale_items_sale_pk"), ["sale_pk"], unique=False)

    op.create_table(
        "payments",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("phone", sa.String(length=64), nullable=True),
        sa.Column("msisdn_hash", sa.String(length=64), nullable=True),
        sa.Column("payer_name", sa.String(length=200), nullable=True),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("provider_ref", sa.String(length=100), nullable=True),
        sa.Column("receipt", sa.String(length=40), nullable=True),
        sa.Column("customer_pk", sa.Integer(), nullable=True),
        sa.Column("invoice_pk", sa.Integer(), nullable=True),
        sa.Column("pos_sale_pk", sa.Integer(), nullable=True),
        sa.Column("unplaced_cents", sa.BigInteger(), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_payments_amount_positive")),
        sa.CheckConstraint("unplaced_cents >= 0", name=op.f("ck_payments_unplaced_not_negative")),
        sa.ForeignKeyConstraint(
            ["customer_pk"], ["customers.id"], name=op.f("fk_payments_customer_pk_customers")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_pk"], ["invoices.id"], name=op.f("fk_payments_invoice_pk_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["pos_sale_pk"], ["pos_sales.id"], name=op.f("fk_payments_pos_sale_pk_pos_sales")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("provider_ref", name=op.f("uq_payments_provider_ref")),
        sa.UniqueConstraint("receipt", name=op.f("uq_payments_receipt")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_customer_pk"), ["customer_pk"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_status"), ["status"], unique=False)

    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("journal_id", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("account", sa.String(length=20), nullable=False),
        sa.Column("customer_pk", sa.Integer(), nullable=True),
        sa.Column("invoice_pk", sa.Integer(), nullable=True),
        sa.Column("payment_id", sa.String(length=80), nullable=True),
        sa.Column("debit_cents", sa.BigInteger(), nullable=False),
        sa.Column("credit_cents", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(debit_cents > 0 AND credit_cents = 0) OR (credit_cents > 0 AND debit_cents = 0)",
            name=op.f("ck_ledger_entries_one_side_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_pk"], ["customers.id"], name=op.f("fk_ledger_entries_customer_pk_customers")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_pk"], ["invoices.id"], name=op.f("fk_ledger_entries_invoice_pk_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_ledger_entries_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
    )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_entries_customer_pk"), ["customer_pk"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ledger_entries_invoice_pk"), ["invoice_pk"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ledger_entries_journal_id"), ["journal_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ledger_entries_payment_id"), ["payment_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_entries_payment_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_entries_journal_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_entries_invoice_pk"))
        batch_op.drop_index(batch_op.f("ix_ledger_entries_customer_pk"))

    op.drop_table("ledger_entries")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_status"))
        batch_op.drop_index(batch_op.f("ix_payments_order_id"))
        batch_op.drop_index(batch_op.f("ix_payments_customer_pk"))
        batch_op.drop_index(batch_op.f("ix_payments_created_at"))

    op.drop_table("payments")
    with op.batch_alter_table("pos_sale_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pos_sale_items_sale_pk"))

    op.drop_table("pos_sale_items")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoices_customer_pk_status_created_at"))

    op.drop_table("invoices")
    with op.batch_alter_table("pos_sales", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pos_sales_customer_pk"))

    op.drop_table("pos_sales")
    with op.batch_alter_table("webhook_logs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_logs_received_at"))
        batch_op.drop_index(batch_op.f("ix_webhook_logs_processed_flagged_received_at"))

    op.drop_table("webhook_logs")
    op.drop_table("sequences")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customers_phone_hash"))

    op.drop_table("customers")
    op.drop_table("api_keys")
