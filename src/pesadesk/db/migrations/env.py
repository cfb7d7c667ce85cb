"""Alembic environment: runs on the connection `pesadesk.db.migrate` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from pesadesk.db.models import Base

config = context.config
connection = config.attributes.get("connection")


def run(conn: Connection) -> None:
    context.configure(
        connection=conn,
        target_metadata=Base.metadata,
        render_as_batch=conn.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if not isinstance(connection, Connection):
    raise RuntimeError("run migrations through `pesadesk db upgrade`, not the alembic CLI")
run(connection)
