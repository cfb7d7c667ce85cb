"""Engine and transactions.

`Database.write()` is one unit of work. On SQLite one writer owns the file: a process
lock plus `BEGIN IMMEDIATE` queue writers in order instead of letting them spin on
SQLITE_BUSY. On PostgreSQL writers run side by side and rely on row locks and
unique constraints.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from pesadesk.errors import StorageUnavailable

WRITE_OPTION = "pesadesk_write"


def normalize_url(url: str) -> str:
    """`postgresql://` means psycopg 3 here; users should not need to know driver names."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _prepare_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        writing = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalize_url(url)
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 10}
        else:
            # No pre-ping: it costs a round trip per transaction on the hot path. After a
            # database restart the first use of each stale connection fails (a 503, which
            # Safaricom retries) and the pool replaces it.
            kwargs.update(pool_size=20, max_overflow=20, pool_timeout=10)
        self.engine = create_engine(self.url, **kwargs)
        if self.is_sqlite:
            _prepare_sqlite(self.engine)
        self._write_lock = threading.Lock() if self.is_sqlite else None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A read-write transaction, committed on success and rolled back on error."""
        lock = self._write_lock
        if lock is not None:
            lock.acquire()
        try:
            with _storage_errors(), Session(self.engine, expire_on_commit=False) as session:
                session.connection(execution_options={WRITE_OPTION: True})
                try:
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
        finally:
            if lock is not None:
                lock.release()

    @contextmanager
    def read(self) -> Iterator[Session]:
        with _storage_errors(), Session(self.engine, expire_on_commit=False) as session:
            yield session

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except DBAPIError:
            return False
        return True

    def dispose(self) -> None:
        self.engine.dispose()


@contextmanager
def _storage_errors() -> Iterator[None]:
    """A database that cannot be reached is a 503 (retry later), not a crash."""
    try:
        yield
    except OperationalError as exc:
        if _is_connection_problem(exc):
            raise StorageUnavailable("database unavailable; try again shortly") from exc
        raise


def _is_connection_problem(exc: OperationalError) -> bool:
    message = str(exc.orig).lower()
    return bool(exc.connection_invalidated) or any(
        words in message
        for words in (
            "connection",
            "could not connect",
            "server closed",
            "terminating",
            "unable to open",
            "database is locked",
            "disk i/o",
            "readonly",
        )
    )
