"""The root of the `pesadesk` command and what every command shares.

Each command loads its settings itself (so `--config` works everywhere and nothing is
read at import time) and opens the database through `database()`, closed when it ends.
A person's mistake or an unavailable resource is one line on stderr and an exit code
(2: usage or configuration, 1: the operation failed), never a traceback: commands raise
`CommandFailed`, `ConfigError` or a known library error and `PlainGroup.main` says it.
"""

from __future__ import annotations

import errno
import functools
import socket
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import httpx
import typer
from rich.console import Console
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError, SQLAlchemyError
from typer.core import TyperGroup

from pesadesk import __version__
from pesadesk.config import ConfigError, Settings, load_settings
from pesadesk.core.errors import InvalidInput, PesadeskError, StorageUnavailable
from pesadesk.db.session import Database

USAGE, FAILED = 2, 1

out = Console(highlight=False, soft_wrap=True, emoji=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)
F = TypeVar("F", bound=Callable[..., Any])

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="config.yaml to read (default: $PESADESK_CONFIG, else ./config.yaml if present)",
        show_default=False,
    ),
]
PortOption = Annotated[int, typer.Option(min=0, max=65535, help="port to listen on (0: any)")]


class CommandFailed(Exception):
    """A command cannot go on: one line for the person, and the exit code."""

    def __init__(self, message: str, code: int = FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def fail(message: str, code: int = FAILED) -> NoReturn:
    raise CommandFailed(message, code)


def settings(config: Path | None) -> Settings:
    """The settings for a command (ConfigError, exit 2, when they cannot be used)."""
    return load_settings(config)


def shown_url(url: str) -> str:
    """A database URL fit for a message: the password masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "(the configured database_url)"


_opened: list[Database] = []


def database(settings: Settings) -> Database:
    """The configured database, migrated; closed when the command ends (`command`)."""
    from alembic.util import CommandError as AlembicCommandError

    from pesadesk.db import migrate

    try:
        db = Database(settings.database_url)
        _opened.append(db)
        migrate.upgrade(db)
    except (SQLAlchemyError, StorageUnavailable, OSError) as exc:
        fail(f"cannot open the database {shown_url(settings.database_url)}: {reason(exc)}")
    except AlembicCommandError as exc:  # e.g. a revision a newer pesadesk wrote
        fail(f"cannot migrate the database {shown_url(settings.database_url)}: {exc}")
    return db


def command(group: typer.Typer, name: str | None = None) -> Callable[[F], F]:
    """`group.command`, closing every database the command opened, however it ends."""

    def register(function: F) -> F:
        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            finally:
                while _opened:
                    _opened.pop().dispose()

        group.command(name)(run)
        return function

    return register


def reason(exc: BaseException) -> str:
    """The first line of what went wrong, without SQL statements or parameters."""
    if isinstance(exc, StorageUnavailable) and exc.__cause__ is not None:
        return reason(exc.__cause__)  # the driver's words say more than "unavailable"
    if isinstance(exc, SQLAlchemyError) and getattr(exc, "orig", None) is not None:
        text = str(getattr(exc, "orig", ""))
    elif isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror
    else:
        text = str(exc)
    text = text.strip()
    return text.splitlines()[0].rstrip(".") if text else type(exc).__name__


def explain(exc: BaseException) -> tuple[list[str], int] | None:
    """The lines and exit code for an error a person can act on; None for a bug."""
    if isinstance(exc, ConfigError):
        return exc.problems, USAGE
    if isinstance(exc, CommandFailed):
        return [exc.message], exc.code
    if isinstance(exc, OperationalError | InterfaceError | StorageUnavailable):
        return [f"the database is unavailable: {reason(exc)}"], FAILED
    if isinstance(exc, InvalidInput):
        return [exc.message], USAGE
    if isinstance(exc, PesadeskError):
        return [str(exc)], FAILED
    if isinstance(exc, httpx.TransportError | socket.gaierror):
        return [f"network error: {reason(exc)}"], FAILED
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        return [f"{where}{reason(exc)}"], FAILED
    return None


def listen_error(host: str, port: int, exc: OSError) -> str:
    """One line for a port that cannot be had."""
    if exc.errno == errno.EADDRINUSE:
        return f"cannot listen on {host}:{port}: the port is in use (is pesadesk already running?)"
    if exc.errno == errno.EACCES:
        return f"cannot listen on {host}:{port}: permission denied (ports below 1024 need root)"
    return f"cannot listen on {host}:{port}: {reason(exc)}"


class PlainGroup(TyperGroup):
    """The root group: every usage mistake and known failure is said in one line on stderr,
    and the exit code tells which (2 usage or configuration, 1 a failed operation)."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        common = {"windows_expand_args": windows_expand_args, **extra}
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **common)
        try:
            code = super().main(args, prog_name, complete_var, False, **common)
        except Exception as exc:
            explained = _usage_error(exc) or explain(exc)
            if explained is None:
                raise
            _say(explained[0])
            raise SystemExit(explained[1]) from None
        raise SystemExit(code if isinstance(code, int) else 0)


def _usage_error(exc: Exception) -> tuple[list[str], int] | None:
    """Click's own errors (a bad option, a missing argument, no command). Newer Typer
    carries a private copy of click, so they are known by shape rather than by class."""
    context = getattr(exc, "ctx", None)
    if type(exc).__name__ == "NoArgsIsHelpError" and context is not None:
        text = context.get_help()  # rich help prints itself and returns ""
        if text:
            typer.echo(text)
        return [], USAGE
    if isinstance(exc, typer.Abort) or type(exc).__name__ == "Abort":
        return ["aborted"], FAILED
    format_message = getattr(exc, "format_message", None)
    exit_code = getattr(exc, "exit_code", None)
    if callable(format_message) and isinstance(exit_code, int):
        where = f"{context.command_path}: " if context is not None else ""
        message = str(format_message()).replace("Value error, ", "")  # Typer's pydantic
        return [f"{where}{message}"], exit_code
    return None


def _say(lines: list[str]) -> None:
    for line in lines:
        err.print(line, markup=False)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"pesadesk {__version__}")
        raise typer.Exit()


app = typer.Typer(
    cls=PlainGroup,
    help="pesadesk: a self-hosted M-Pesa payments desk.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals would print settings, URLs, keys
)


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_show_version, help="print the version and exit"
        ),
    ] = False,
) -> None:
    """pesadesk: a self-hosted M-Pesa payments desk."""


def main() -> None:
    app()
