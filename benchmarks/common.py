"""What both benchmarks need: a throwaway database of either kind, and a libpq URL."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from pesadesk.db.session import normalize_url
from pesadesk.testing import fresh_postgres_database


def libpq_url(url: str) -> str:
    """A SQLAlchemy URL (any postgres spelling) as plain libpq takes it."""
    return (
        make_url(normalize_url(url))
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )


@contextlib.contextmanager
def fresh_database(backend: str, workdir: Path, name: str, pg_url: str) -> Iterator[str]:
    """A new SQLite file in `workdir`, or a new PostgreSQL database dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{workdir / name}.db"
        return
    with fresh_postgres_database(pg_url) as url:
        yield url


def postgres_reachable(pg_url: str) -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        psycopg.connect(libpq_url(pg_url), connect_timeout=3).close()
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]
    return None
