"""`pesadesk demo`: the whole desk in one process with no credentials. pesadesk on a
fresh SQLite file, the Daraja emulator and a WhatsApp sink beside it on loopback ports,
sample customers, invoices, a POS sale and orders, and an admin key for the browser."""

from __future__ import annotations

from pathlib import Path

import typer

from pesadesk.config import Settings
from pesadesk.core.clock import SystemClock
from pesadesk.db import migrate
from pesadesk.db.session import Database
from pesadesk.receivables import customers, invoices, pos
from pesadesk.shared import apikeys
from pesadesk.stk import orders

DEMO_ADMINS = ["254700111111", "254700222222"]
SANDBOX_PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"


def seed(db: Database) -> str:
    """Sample data a newcomer can pay against; returns a new admin key."""
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


def demo_settings(
    path: Path, port: int, emulator_url: str, sink_url: str, credential: str
) -> Settings:
    base = f"http://127.0.0.1:{port}"
    return Settings.model_validate(
        {
            "database_url": f"sqlite:///{path}",
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
            },
        }
    )


def run_demo(*, port: int, data_dir: Path) -> None:
    import uvicorn

    from pesadesk.api.app import create_app
    from pesadesk.daraja.credentials import encrypt_security_credential
    from pesadesk.emulator.app import create_emulator_app
    from pesadesk.emulator.whatsapp_sink import WhatsAppSink
    from pesadesk.log import configure_logging
    from pesadesk.serving import serve_in_thread

    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "demo.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    configure_logging(json=False)
    sink = WhatsAppSink()
    emulator = create_emulator_app()
    state = emulator.state.emulator.state
    credential = encrypt_security_credential(state.config.initiator_password, state.certificate)
    with (
        serve_in_thread(emulator) as emulator_url,
        serve_in_thread(sink.app()) as sink_url,
    ):
        settings = demo_settings(path, port, emulator_url, sink_url, credential)
        db = Database(settings.database_url)
        migrate.upgrade(db)
        key = seed(db)
        typer.echo(f"Dashboard: http://127.0.0.1:{port}/")
        typer.echo(f"Admin API key: {key}")
        typer.echo(f"Daraja emulator: {emulator_url}  (pay any order: POST /api/orders/ID/pay)")
        typer.echo(f"WhatsApp sink: {sink_url}/_sink/messages  (what the admins were sent)")
        uvicorn.run(
            create_app(settings, db=db),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            proxy_headers=False,
        )
