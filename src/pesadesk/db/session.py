"""Engine and transactions.

`Database.write()` is one unit of work. On SQLite one writer owns the file: a process
lock plus `BEGIN IMMEDIATE` queue writers in order instead of letting them spin on
SQLITE_BUSY. On PostgreSQL writers run side by side and rely on row locks and
unique constraints.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.orm import Session

from pesadesk.core.errors import DatabaseBusy, StorageUnavailable

WRITE_OPTION = "pesadesk_write"

# A pooled connection idle this long is pinged before use; a busy one is not.
PING_AFTER_IDLE_SECONDS = 1.0


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


_PROBE = text("INSERT INTO sequences (name, value) VALUES (:name, 0)")


def _drop_broken_connections(engine: Engine) -> None:
    """A connection that met a read-only file or an I/O error is thrown away, not pooled:
    SQLite opens a file it could not write as read-only and would stay so after the file
    is writable again."""

    @event.listens_for(engine, "handle_error")
    def _on_error(context: Any) -> None:
        message = str(context.original_exception or "").lower()
        if any(words in message for words in _BROKEN_CONNECTION):
            context.is_disconnect = True


def _ping_idle_connections(engine: Engine) -> None:
    """Pre-ping only connections that sat idle: after a database restart the first callback
    of a quiet morning must not fail on a dead connection (Safaricom never retries an STK
    callback), while under load, where connections are back in use within milliseconds,
    no round trip is added to the hot path."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            # The pool drops this connection and checks out a fresh one.
            raise DisconnectionError("stale pooled connection replaced") from exc


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
            # LIFO: the connections in use stay warm and only the idle tail is pinged.
            kwargs.update(pool_size=20, max_overflow=20, pool_timeout=10, pool_use_lifo=True)
        self.engine = create_engine(self.url, **kwargs)
        if self.is_sqlite:
            _prepare_sqlite(self.engine)
        else:
            _ping_idle_connections(self.engine)
        _drop_broken_connections(self.engine)
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
        """Whether the database can be written now: a row written and rolled back (a
        database that answers reads but refuses writes is not ready)."""
        try:
            with self.write() as session:
                session.execute(_PROBE, {"name": "readyz-probe"})
                session.rollback()
        except (DBAPIError, StorageUnavailable):
            return False
        return True

    def dispose(self) -> None:
        self.engine.dispose()


@contextmanager
def _storage_errors() -> Iterator[None]:
    """Database trouble as pesadesk's own errors, so no caller needs SQLAlchemy to tell:
    a database that cannot be reached or written is `StorageUnavailable` (503, retry
    later); a lock timeout, deadlock or serialization failure is `DatabaseBusy` (the same
    503 to an API caller; a callback is kept and retried)."""
    try:
        yield
    except OperationalError as exc:
        if _is_connection_problem(exc):
            raise StorageUnavailable("database unavailable; try again shortly") from exc
        raise DatabaseBusy(f"database busy: {_primary(exc)}") from exc


def _primary(exc: OperationalError) -> str:
    orig = exc.orig
    primary = getattr(getattr(orig, "diag", None), "message_primary", None)
    state = getattr(orig, "sqlstate", None)
    text_ = str(primary or orig).splitlines()[0] if orig is not None else type(exc).__name__
    return f"{text_} (SQLSTATE {state})" if state else text_


# A connection that met these is of no more use (SQLite keeps a file it opened read-only
# read-only); one that met a full disk is fine once it has rolled back, and is kept.
_BROKEN_CONNECTION = ("unable to open", "disk i/o", "readonly", "read-only")
_STORAGE_TROUBLE = (
    "unable to open", "disk i/o", "readonly", "read-only", "disk is full", "no space left",
    "could not extend file", "could not write",
)  # fmt: skip


def _is_storage_trouble(message: str) -> bool:
    return any(words in message for words in _STORAGE_TROUBLE)


def _is_connection_problem(exc: OperationalError) -> bool:
    message = str(exc.orig).lower()
    return (
        bool(exc.connection_invalidated)
        or _is_storage_trouble(message)
        or any(
            words in message
            for words in (
                "connection",
                "could not connect",
                "server closed",
                "terminating",
                "database is locked",
            )
        )
    )
