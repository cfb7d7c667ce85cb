"""Schema migrations (Alembic), applied by `pesadesk db upgrade` and before `serve`.

On PostgreSQL an advisory lock makes several `serve` processes starting together take
turns instead of racing to create the same tables.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from pesadesk.db.session import Database

MIGRATIONS = Path(__file__).parent / "migrations"
_LOCK_ID = 0x7065_7361  # "pesa"


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(db: Database, revision: str = "head") -> None:
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_lock(:id)"), {"id": _LOCK_ID})
            conn.commit()
        try:
            command.upgrade(_config(conn), revision)
            conn.commit()
        finally:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": _LOCK_ID})
                conn.commit()


def downgrade(db: Database, revision: str = "base") -> None:
    with db.engine.connect() as conn:
        command.downgrade(_config(conn), revision)
        conn.commit()


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    with Database("sqlite://").engine.connect() as conn:
        return ScriptDirectory.from_config(_config(conn)).get_current_head()
