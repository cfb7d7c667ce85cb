"""The `pesadesk` command (Typer). Each sub-command loads settings itself, so `--config`
works everywhere and nothing is read at import time."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, BinaryIO, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from pesadesk.accounts.daraja import c2b_config
from pesadesk.config import Settings, load_settings
from pesadesk.core.clock import SystemClock
from pesadesk.core.errors import PesadeskError
from pesadesk.db import migrate
from pesadesk.db.session import Database

app = typer.Typer(help="pesadesk: a self-hosted M-Pesa payments desk.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
apikey_app = typer.Typer(help="API keys.", no_args_is_help=True)
ledger_app = typer.Typer(help="The ledger.", no_args_is_help=True)
webhooks_app = typer.Typer(help="Logged callbacks.", no_args_is_help=True)
payments_app = typer.Typer(help="Payments.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(apikey_app, name="apikey")
app.add_typer(ledger_app, name="ledger")
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(payments_app, name="payments")
app.add_typer(audit_app, name="audit")

err = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="config.yaml (default: $PESADESK_CONFIG or ./config.yaml)"),
]


def _settings(config: Path | None) -> Settings:
    try:
        return load_settings(config)
    except (FileNotFoundError, ValueError) as exc:
        err.print(f"[red]configuration error:[/red] {exc}")
        raise typer.Exit(2) from None


_opened: list[Database] = []


def _database(settings: Settings) -> Database:
    """The configured database, migrated; closed when the command ends (`_command`)."""
    db = Database(settings.database_url)
    _opened.append(db)
    migrate.upgrade(db)
    return db


def _command(group: typer.Typer, name: str | None = None) -> Callable[[F], F]:
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


@_command(app)
def serve(
    config: ConfigOption = None,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8080,
) -> None:
    """Run the HTTP service, migrating the database first."""
    import uvicorn

    from pesadesk.api.app import create_app
    from pesadesk.log import configure_logging

    settings = _settings(config)
    configure_logging(json=settings.log_json)
    db = _database(settings)
    # proxy_headers off: only `security.trust_forwarded_for` decides who the client is
    uvicorn.run(
        create_app(settings, db=db),
        host=host,
        port=port,
        log_level="warning",
        proxy_headers=False,
    )


@_command(app)
def worker(
    config: ConfigOption = None,
    interval: Annotated[float, typer.Option(help="seconds between idle passes")] = 1.0,
) -> None:
    """Run the outbox worker alone (WhatsApp, STK queries), for scale-out beside `serve`."""
    import asyncio

    from pesadesk.jobs.runtime import build_runtime
    from pesadesk.log import configure_logging

    settings = _settings(config)
    configure_logging(json=settings.log_json)
    db = _database(settings)

    async def run() -> None:
        runtime = build_runtime(settings, db, SystemClock())
        try:
            await runtime.worker.run_forever(interval=interval)
        finally:
            await runtime.aclose()

    err.print("outbox worker running; Ctrl-C stops it")
    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        err.print("worker stopped")


@_command(app)
def demo(
    port: Annotated[int, typer.Option(help="port to listen on")] = 8080,
    data_dir: Annotated[Path, typer.Option(help="where the demo database lives")] = Path("data"),
) -> None:
    """The whole desk on SQLite with sample data and no credentials."""
    from pesadesk.demo import run_demo

    run_demo(port=port, data_dir=data_dir)


@_command(db_app, "upgrade")
def db_upgrade(config: ConfigOption = None) -> None:
    """Apply migrations to the configured database."""
    settings = _settings(config)
    db = _database(settings)
    typer.echo(f"database at revision {migrate.current_revision(db)}")


@_command(apikey_app, "create")
def apikey_create(
    role: Annotated[str, typer.Option(help="viewer, operator or admin")],
    name: Annotated[str, typer.Option(help="who or what uses the key")],
    config: ConfigOption = None,
) -> None:
    """Print a new API key once, alone on the last line; only its hash is stored."""
    from pesadesk.shared import apikeys

    db = _database(_settings(config))
    try:
        with db.write() as session:
            row, key = apikeys.create_key(session, name=name, role=role, clock=SystemClock())
    except PesadeskError as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from None
    err.print(f"created {row.role} key #{row.id} for {row.name!r}; it is shown only now:")
    typer.echo(key)


@_command(ledger_app, "verify")
def ledger_verify(config: ConfigOption = None) -> None:
    """Prove every balance and invoice against the ledger rows (exit 1 on a difference)."""
    from pesadesk.ledger.verify import verify

    db = _database(_settings(config))
    with db.read() as session:
        report = verify(session)
    table = Table("checked", "count")
    for label, count in (
        ("journals", report.journals),
        ("customers", report.customers),
        ("invoices", report.invoices),
        ("payments", report.payments),
    ):
        table.add_row(label, str(count))
    Console().print(table)
    if not report.ok:
        for problem in report.problems:
            typer.echo(f"DIFFERENCE: {problem}")
        raise typer.Exit(1)
    typer.echo("ledger OK: every balance agrees with the ledger rows")


@_command(audit_app, "verify")
def audit_verify(config: ConfigOption = None) -> None:
    """Check the audit trail's hash chain (exit 1 on a broken link)."""
    from pesadesk.shared import audit

    db = _database(_settings(config))
    with db.read() as session:
        report = audit.verify(session)
    if not report.ok:
        typer.echo(f"BROKEN at audit entry #{report.broken_at}: {report.reason}")
        raise typer.Exit(1)
    typer.echo(f"audit trail OK: {report.entries} entries, every link intact")


@_command(app, "seal-secret")
def seal_secret(
    new_key: Annotated[bool, typer.Option("--new-key", help="print a fresh key first")] = False,
) -> None:
    """Encrypt a secret from stdin for config.yaml (`enc:...`), with $PESADESK_SECRET_KEY."""
    import os

    from pesadesk.secrets import KEY_ENV, seal
    from pesadesk.secrets import new_key as make_key

    if new_key:
        typer.echo(f"{KEY_ENV}={make_key()}")
        return
    key = os.environ.get(KEY_ENV)
    if not key:
        err.print(f"set {KEY_ENV} first (pesadesk seal-secret --new-key makes one)")
        raise typer.Exit(2)
    plain = sys.stdin.readline().rstrip("\n")
    if not plain:
        err.print("nothing on stdin to seal")
        raise typer.Exit(2)
    typer.echo(seal(plain, key))


@_command(webhooks_app, "reprocess")
def webhooks_reprocess(
    log_id: Annotated[int | None, typer.Option("--id", help="one logged callback")] = None,
    all_failed: Annotated[bool, typer.Option("--all-failed", help="every failed one")] = False,
    config: ConfigOption = None,
) -> None:
    """Re-run logged callbacks that failed; a re-run never credits twice."""
    from pesadesk.pipeline.rerun import failed_log_ids, reprocess
    from pesadesk.pipeline.run import Pipeline

    if (log_id is None) == (not all_failed):
        err.print("give --id N or --all-failed")
        raise typer.Exit(2)
    settings = _settings(config)
    db = _database(settings)
    ids = [log_id] if log_id is not None else failed_log_ids(db)
    pipeline = Pipeline(db, settings, SystemClock())
    failures = 0
    for entry_id in ids:
        try:
            done = reprocess(pipeline, log_id=entry_id).outcome is not None
        except PesadeskError as exc:
            err.print(f"#{entry_id}: {exc.message}")
            failures += 1
            continue
        typer.echo(f"#{entry_id}: {'processed' if done else 'already processed or still failing'}")
    typer.echo(f"{len(ids)} callback(s) looked at")
    if failures:
        raise typer.Exit(1)


@_command(app)
def reconcile(
    statement: Annotated[Path, typer.Argument(help="the M-Pesa statement export (CSV)")],
    config: ConfigOption = None,
) -> None:
    """Import an M-Pesa business statement and print the match report."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from pesadesk.reconcile.service import import_statement

    if not statement.is_file():
        err.print(f"[red]no such file:[/red] {statement}")
        raise typer.Exit(2)
    db = _database(_settings(config))
    total = statement.stat().st_size
    read = 0

    def lines(handle: BinaryIO) -> Iterator[str]:
        nonlocal read
        for raw in handle:
            read += len(raw)
            yield raw.decode("utf-8-sig" if read == len(raw) else "utf-8")

    with (
        statement.open("rb") as handle,
        Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeRemainingColumn(),
            console=err,
            transient=True,
        ) as progress,
    ):
        task = progress.add_task("matching receipts", total=total)

        def advance(_rows: int) -> None:
            progress.update(task, completed=read)

        try:
            report = import_statement(
                db,
                lines=lines(handle),
                filename=statement.name,
                imported_by="cli",
                clock=SystemClock(),
                progress=advance,
            )
        except PesadeskError as exc:
            err.print(f"[red]{exc.message}[/red]")
            raise typer.Exit(2) from None
    period = report["period"]
    title = f"Statement #{report['id']}: {period['from']} to {period['to']}"
    table = Table("", "count", title=title)
    for name, count in report["counts"].items():
        table.add_row(name.replace("_", " "), str(count))
    Console().print(table)
    for name in ("missing_in_pesadesk", "missing_in_statement"):
        if report[name]:
            typer.echo(f"{name}: {', '.join(report[name][:50])}")
    for name in ("amount_mismatches", "status_mismatches"):
        for item in report[name][:50]:
            typer.echo(f"{name[:-2]}: {item}")


@_command(payments_app, "export")
def payments_export(
    format: Annotated[str, typer.Option("--format", help="csv or json")] = "csv",
    start: Annotated[str | None, typer.Option("--from", help="YYYY-MM-DD or ISO time")] = None,
    end: Annotated[str | None, typer.Option("--to", help="YYYY-MM-DD (inclusive)")] = None,
    config: ConfigOption = None,
) -> None:
    """Write payments to stdout, newest first."""
    from pesadesk.api.filters import parse_bound
    from pesadesk.payments import export as payment_export

    if format not in ("csv", "json"):
        err.print("--format must be csv or json")
        raise typer.Exit(2)
    db = _database(_settings(config))
    query = payment_export.filtered(
        start=parse_bound(start, end=False), end=parse_bound(end, end=True)
    )
    for piece in payment_export.stream(db, query, format):
        sys.stdout.write(piece)
    if format == "json":
        sys.stdout.write("\n")


def _register_daraja_commands() -> None:
    from pesadesk.cli_daraja import c2b_app, register_commands

    register_commands(app)

    @_command(c2b_app, "pull")
    def c2b_pull(
        hours: Annotated[float, typer.Option(help="how far back (Daraja keeps 48 h)")] = 24,
        config: ConfigOption = None,
    ) -> None:
        """Recover C2B payments that never arrived as callbacks (Pull Transactions)."""
        import asyncio

        from pesadesk.c2b.pull import pull_missed
        from pesadesk.daraja.client import DarajaClient
        from pesadesk.pipeline.run import Pipeline

        settings = _settings(config)
        db = _database(settings)

        async def run() -> None:
            daraja_config = c2b_config(settings)
            async with DarajaClient(daraja_config) as daraja:
                pipeline = Pipeline(db, settings, SystemClock())
                result = await pull_missed(pipeline=pipeline, daraja=daraja, hours=hours)
            typer.echo(f"{result.seen} transaction(s) seen, {len(result.recorded)} recovered")
            for trans_id in result.recorded:
                typer.echo(f"recovered {trans_id}")

        asyncio.run(run())


_register_daraja_commands()


def main() -> None:
    try:
        app()
    except PesadeskError as exc:
        err.print(f"[red]{exc.message}[/red]")
        sys.exit(2)
