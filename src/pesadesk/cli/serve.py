"""`pesadesk serve` and `pesadesk worker`: the long-running processes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pesadesk.cli.app import (
    ConfigOption,
    PortOption,
    command,
    database,
    err,
    fail,
    listen_error,
    settings,
)
from pesadesk.config import ConfigError, Settings, serving_problems
from pesadesk.core.clock import SystemClock


def _checked(config: Path | None) -> Settings:
    """Settings a server may run on: CONTRACT §8 refuses real money with open webhooks."""
    loaded = settings(config)
    problems = serving_problems(loaded)
    if problems:
        raise ConfigError(problems)
    return loaded


def serve(
    config: ConfigOption = None,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: PortOption = 8080,
) -> None:
    """Run the HTTP service (with its outbox worker), migrating the database first."""
    from pesadesk.api.app import create_app
    from pesadesk.log import configure_logging
    from pesadesk.serving import listen, serve_on, socket_url

    loaded = _checked(config)
    try:
        sock = listen(host, port)
    except OSError as exc:
        fail(listen_error(host, port, exc))
    try:
        db = database(loaded)
        configure_logging(json=loaded.log_json)
        app = create_app(loaded, db=db)
    except BaseException:
        sock.close()
        raise
    url = socket_url(sock)
    serve_on(sock, app, on_started=lambda: typer.echo(f"Listening on {url}"))


def worker(
    config: ConfigOption = None,
    interval: Annotated[float, typer.Option(min=0.01, help="seconds between idle passes")] = 1.0,
) -> None:
    """Run the outbox worker alone (WhatsApp, STK queries), for scale-out beside `serve`."""
    import asyncio

    from pesadesk.jobs.runtime import build_runtime
    from pesadesk.log import configure_logging

    loaded = _checked(config)
    db = database(loaded)
    configure_logging(json=loaded.log_json)

    async def run() -> None:
        runtime = build_runtime(loaded, db, SystemClock())
        try:
            await runtime.worker.run_forever(interval=interval)
        finally:
            await runtime.aclose()

    err.print("outbox worker running; Ctrl-C stops it")
    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        err.print("worker stopped")


def register(app: typer.Typer) -> None:
    command(app, "serve")(serve)
    command(app, "worker")(worker)
