"""Migrations run up, down and up again on both databases, and match the models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from pesadesk.db import migrate
from pesadesk.db.models import Base
from pesadesk.db.session import Database
from pesadesk.testing import fresh_postgres_database
from tests.conftest import BACKENDS, PG_URL


@pytest.fixture(params=BACKENDS)
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'm.db'}")
        yield db
        db.dispose()
        return
    if not PG_URL:
        pytest.skip("PESADESK_TEST_PG_URL is not set")
    with fresh_postgres_database(PG_URL) as url:
        db = Database(url)
        yield db
        db.dispose()


def test_upgrade_downgrade_upgrade(empty_db: Database) -> None:
    """The schema can be built, removed completely, and built again."""
    migrate.upgrade(empty_db)
    assert migrate.current_revision(empty_db) == migrate.head_revision()
    assert "payments" in inspect(empty_db.engine).get_table_names()
    migrate.downgrade(empty_db)
    assert migrate.current_revision(empty_db) is None
    assert "payments" not in inspect(empty_db.engine).get_table_names()
    migrate.upgrade(empty_db)
    assert migrate.current_revision(empty_db) == migrate.head_revision()


def test_migrations_match_the_models(empty_db: Database) -> None:
    """After upgrading, autogenerate finds nothing left to migrate."""
    migrate.upgrade(empty_db)
    with empty_db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_upgrade_twice_is_harmless(empty_db: Database) -> None:
    """Running `db upgrade` on an up-to-date database changes nothing."""
    migrate.upgrade(empty_db)
    migrate.upgrade(empty_db)
    assert migrate.current_revision(empty_db) == migrate.head_revision()
