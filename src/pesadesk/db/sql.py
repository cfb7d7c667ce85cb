"""Hand-written SQL for the hot path, run straight on the driver.

The ingest path runs a few short statements per callback; building them through the
ORM cost more than running them. `Sql` holds one statement written with `:name`
parameters and hands each driver its own spelling (psycopg wants `%(name)s`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from sqlalchemy import Connection

_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


class Sql:
    """`binary`: parameters psycopg sends in PostgreSQL's binary format (`%(name)b`):
    arrays, whose text form psycopg builds in Python with an escape per quote or
    backslash (a JSON or bytea array costs far more as text than as binary)."""

    def __init__(self, text: str, binary: tuple[str, ...] = ()) -> None:
        self.text = " ".join(text.split())
        self.binary = frozenset(binary)

    @cached_property
    def pyformat(self) -> str:
        def placeholder(found: re.Match[str]) -> str:
            name = found.group(1)
            return f"%({name})b" if name in self.binary else f"%({name})s"

        return _NAMED.sub(placeholder, self.text.replace("%", "%%"))

    def run(
        self, conn: Connection, params: Mapping[str, Any] | Sequence[Mapping[str, Any]] = ()
    ) -> Any:  # a CursorResult; its rows are plain tuples of whatever the SQL selects
        statement = self.pyformat if conn.dialect.name == "postgresql" else self.text
        if isinstance(params, Mapping):
            return conn.exec_driver_sql(statement, dict(params))
        rows = [dict(p) for p in params]
        if not rows:
            raise ValueError("executemany needs at least one row of parameters")
        return conn.exec_driver_sql(statement, rows)


def db_time(conn: Connection, moment: datetime) -> Any:
    """An aware UTC datetime in the form the column type stores it on this database."""
    moment = moment.astimezone(UTC)
    if conn.dialect.name == "sqlite":  # what SQLAlchemy's DateTime writes on SQLite
        return moment.replace(tzinfo=None).isoformat(" ", "microseconds")
    return moment


def insert_many(
    conn: Connection, table: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]]
) -> None:
    """Many rows in one statement whose text does not depend on how many: on PostgreSQL
    an `INSERT ... SELECT FROM unnest(arrays)` (parsed and planned once, one round trip),
    on SQLite one prepared statement run for every row. `columns` are (name, SQL type)."""
    if not rows:
        return
    names = ", ".join(name for name, _ in columns)
    if conn.dialect.name == "postgresql":
        arrays = ", ".join(f"CAST(%(c{i})b AS {kind}[])" for i, (_, kind) in enumerate(columns))
        statement = f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays})"  # noqa: S608
        params = {f"c{i}": [row[i] for row in rows] for i in range(len(columns))}
        conn.exec_driver_sql(statement, params)
        return
    marks = ", ".join("?" for _ in columns)
    conn.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(map(tuple, rows)))  # noqa: S608


_MEMBER_OF = {
    "postgresql": "= ANY(CAST(:{name} AS {kind}[]))",
    "sqlite": "IN (SELECT value FROM json_each(:{name}))",
}


class ListSql:
    """A statement taking whole lists as single parameters, so its text is the same for
    any number of values (PostgreSQL prepares it once): write `column {name}` to test a
    column against the list `name`; that becomes `= ANY(array)` on PostgreSQL and `IN`
    a JSON list read by `json_each` on SQLite."""

    def __init__(self, text: str, **lists: str) -> None:
        self.lists = lists  # parameter name -> SQL type of its items
        self.by_dialect = {
            dialect: Sql(
                text.format(
                    **{name: spelling.format(name=name, kind=kind) for name, kind in lists.items()}
                ),
                binary=tuple(lists),
            )
            for dialect, spelling in _MEMBER_OF.items()
        }

    def run(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        dialect = "postgresql" if conn.dialect.name == "postgresql" else "sqlite"
        values = dict(params)
        for name in self.lists:
            items = list(values[name])
            values[name] = items if dialect == "postgresql" else json.dumps(items)
        return self.by_dialect[dialect].run(conn, values)
