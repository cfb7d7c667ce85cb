"""`pesadesk demo`: the whole desk in one process with no credentials. pesadesk on a
fresh SQLite file, the Daraja emulator and a WhatsApp sink beside it on loopback ports,
sample customers, invoices, a POS sale and orders, and an admin key for the browser.

The demo writes its configuration to `demo.yaml` beside its database, so that every
other command works on the demo's data with `--config data/demo/demo.yaml`. It holds a
lock on its data directory and takes its port before it deletes anything, so a second
demo started by mistake refuses with one line instead of wiping the first one's data.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Annotated, Any

import typer
import yaml

from pesadesk.cli.app import PortOption, command, fail, listen_error
from pesadesk.config import Settings
from pesadesk.core.clock import SystemClock
from pesadesk.db.session import Database

DEMO_ADMINS = ["254700111111", "254700222222"]
HOST = "127.0.0.1"


def seed(db: Database) -> str:
    """Sample data a newcomer can pay against; returns a new admin key."""
    from pesadesk.receivables import customers, invoices, pos
    from pesadesk.shared import apikeys
    from pesadesk.stk import orders

    clock = SystemClock()
    with db.write() as session:
        wanjiku = customers.create_customer(
            session, new=customers.NewCustomer("Wanjiku Stores", "0722000000"), clock=clock
        )
        otieno = customers.create_customer(
            session, new=customers.NewCustomer("Otieno Hardware", "0711000111"), clock=clock
        )
        for customer, amount in ((wanjiku, 10_000_00), (wanjiku, 2_500_00), (otieno, 5_000_00)):
            invoices.create_invoice(
                session,
                new=invoices.NewInvoice(customer.customer_id, amount, "Monthly supplies"),
                clock=clock,
            )
        pos.create_sale(
            session,
            new=pos.NewSale(items=(pos.SaleLine("SODA-500", "Soda 500ml", 2, 50_00),)),
            clock=clock,
        )
        for phone, amount, place in (
            ("0712345678", 500_00, "Kilimani, Nairobi"),
            ("254700001032", 1_200_00, "Westlands (this customer cancels the prompt)"),
        ):
            orders.create_order(
                session,
                new=orders.NewOrder(phone, amount, place, [{"name": "Chapati", "qty": 4}]),
                clock=clock,
            )
        _, key = apikeys.create_key(session, name="demo-admin", role="admin", clock=clock)
    return key


@dataclass(frozen=True)
class DemoTill:
    """The demo shop's till: its store number, till number and passkey."""

    name: str = "shop-till"
    shortcode: str = "5123456"
    till_number: str = "5123457"
    passkey: str = "demo-till-passkey-0000000000000000"

    def merchant(self) -> Any:
        from pesadesk.emulator.config import Merchant

        return Merchant(self.shortcode, self.passkey, kind="till", till_number=self.till_number)


DEMO_TILL = DemoTill()


def demo_values(
    database: Path, port: int, emulator_url: str, sink_url: str, credential: str
) -> dict[str, Any]:
    """The demo's configuration, as plain values: what `demo.yaml` holds."""
    from pesadesk.emulator.config import SANDBOX_PASSKEY

    base = f"http://{HOST}:{port}"
    return {
        "database_url": f"sqlite:///{database.resolve()}",
        "admin_numbers": DEMO_ADMINS,
        "log_json": False,
        "whatsapp": {
            "enabled": True,
            "base_url": sink_url,
            "phone_number_id": "demo",
            "access_token": "demo",
        },
        "payments": {
            "mpesa": {
                "consumer_key": "demo",
                "consumer_secret": "demo",
                "passkey": SANDBOX_PASSKEY,
                "base_url": emulator_url,
                "callback_url": f"{base}/api/mpesa/callback",
                "query_after_seconds": 30,
            },
            "c2b": {
                "confirmation_url": f"{base}/api/webhooks/c2b/confirmation",
                "validation_url": f"{base}/api/webhooks/c2b/validation",
            },
            "b2c": {
                "consumer_key": "demo",
                "consumer_secret": "demo",
                "security_credential": credential,
                "base_url": emulator_url,
                "callback_url": f"{base}/api/mpesa/b2c/callback",
                "timeout_url": f"{base}/api/mpesa/b2c/timeout",
            },
            # A second collection account: the shop's till (CONTRACT §9).
            "accounts": [
                {
                    "name": DEMO_TILL.name,
                    "shortcode": DEMO_TILL.shortcode,
                    "kind": "till",
                    "till_number": DEMO_TILL.till_number,
                    "consumer_key": "demo-till",
                    "consumer_secret": "demo-till",
                    "passkey": DEMO_TILL.passkey,
                    "base_url": emulator_url,
                }
            ],
        },
    }


def write_config(path: Path, values: dict[str, Any]) -> None:
    """`demo.yaml`: demo credentials only, but readable by its owner alone all the same."""
    header = (
        "# Written by `pesadesk demo` at each start (edits are lost). Use it with any\n"
        "# command: pesadesk ledger verify --config " + str(path) + "\n"
        "# The emulator and WhatsApp sink URLs work only while that demo runs.\n"
    )
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(header + yaml.safe_dump(values, sort_keys=False))


def _try_lock(handle: IO[str]) -> bool:
    """An exclusive lock on the open file, without waiting; False when another holds it."""
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextlib.contextmanager
def data_lock(data_dir: Path) -> Iterator[None]:
    """Held while a demo runs on `data_dir` (the system drops it when the process ends)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / "demo.lock").open("a+", encoding="utf-8") as handle:
        handle.seek(0)
        if not _try_lock(handle):
            holder = ""
            with contextlib.suppress(OSError):
                handle.seek(0)
                holder = handle.read().strip()
            fail(
                f"{data_dir} is in use by another running demo"
                + (f" (pid {holder})" if holder else "")
                + "; stop it first, or give this one another --data-dir"
            )
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield


def _fresh_database(data_dir: Path) -> Path:
    """The previous demo's database removed (only ever under the lock)."""
    path = data_dir / "demo.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


def demo(
    port: PortOption = 8080,
    data_dir: Annotated[
        Path, typer.Option(help="where the demo's database and demo.yaml live")
    ] = Path("data/demo"),
) -> None:
    """The whole desk on SQLite with sample data and no credentials."""
    from pesadesk.serving import listen

    with data_lock(data_dir):
        try:
            sock = listen(HOST, port)
        except OSError as exc:
            fail(listen_error(HOST, port, exc))
        with sock:
            _run(sock, data_dir)


def _run(sock: socket.socket, data_dir: Path) -> None:
    """Emulator and sink in threads, the desk on `sock` in this one, until Ctrl-C."""
    from pesadesk.api.app import create_app
    from pesadesk.daraja.credentials import encrypt_security_credential
    from pesadesk.db import migrate
    from pesadesk.emulator.app import create_emulator_app
    from pesadesk.emulator.config import EmulatorConfig
    from pesadesk.emulator.whatsapp_sink import WhatsAppSink
    from pesadesk.log import configure_logging
    from pesadesk.serving import serve_in_thread, serve_on

    port = sock.getsockname()[1]
    database = _fresh_database(data_dir)
    configure_logging(json=False)
    sink = WhatsAppSink()
    emulator = create_emulator_app(EmulatorConfig(merchants=(DEMO_TILL.merchant(),)))
    state = emulator.state.emulator.state
    credential = encrypt_security_credential(state.config.initiator_password, state.certificate)
    with serve_in_thread(emulator) as emulator_url, serve_in_thread(sink.app()) as sink_url:
        values = demo_values(database, port, emulator_url, sink_url, credential)
        config_file = data_dir / "demo.yaml"
        write_config(config_file, values)
        settings = Settings.model_validate(values)
        db = Database(settings.database_url)
        try:
            migrate.upgrade(db)
            key = seed(db)
            typer.echo(f"Dashboard: http://{HOST}:{port}/")
            typer.echo(f"Admin API key: {key}")
            typer.echo(f"Config: {config_file} (use --config with any command)")
            typer.echo(f"Daraja emulator: {emulator_url}  (pay any order: POST /api/orders/ID/pay)")
            typer.echo(f"WhatsApp sink: {sink_url}/_sink/messages  (what the admins were sent)")
            serve_on(sock, create_app(settings, db=db), on_started=lambda: None)
        finally:
            db.dispose()


def register(app: typer.Typer) -> None:
    command(app, "demo")(demo)
