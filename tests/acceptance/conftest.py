"""The whole desk over real HTTP: pesadesk, the Daraja emulator and a WhatsApp sink,
each on its own loopback port."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from pesadesk.api.app import create_app
from pesadesk.config import Settings
from pesadesk.core.retry import RetryPolicy
from pesadesk.db.session import Database
from pesadesk.emulator.state import EmulatorConfig
from pesadesk.emulator.whatsapp_sink import WhatsAppSink
from pesadesk.events.fanout import WEBHOOK_DELIVERY
from pesadesk.testing import free_port, serve_in_thread
from pesadesk.testing.emulator import RunningEmulator, running_emulator
from tests.conftest import ADMIN_KEY

ADMINS = ["254700111111", "254700222222"]
SANDBOX_PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"


@dataclass
class Desk:
    url: str
    api: httpx.Client
    emulator: RunningEmulator
    whatsapp: WhatsAppSink
    db: Database
    settings: Settings


def wait_until(check: Callable[[], Any], *, timeout: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        out[key] = _merged(out[key], value) if isinstance(value, dict) and key in out else value
    return out


def desk_settings(
    db_url: str, port: int, emulator_url: str, sink_url: str, credential: str = "",
    extra: dict[str, Any] | None = None,
) -> Settings:  # fmt: skip
    return Settings.model_validate(
        _merged(
            {
                "database_url": db_url,
                "admin_numbers": ADMINS,
                "whatsapp": {
                    "enabled": True,
                    "base_url": sink_url,
                    "phone_number_id": "1234567890",
                    "access_token": "sink-token",
                },
                "payments": {
                    "mpesa": {
                        "consumer_key": "emulator-key",
                        "consumer_secret": "emulator-secret",
                        "passkey": SANDBOX_PASSKEY,
                        "shortcode": "174379",
                        "base_url": emulator_url,
                        "callback_url": f"http://127.0.0.1:{port}/api/mpesa/callback",
                        "query_after_seconds": 1,
                    },
                    "b2c": {
                        "consumer_key": "emulator-key",
                        "consumer_secret": "emulator-secret",
                        "shortcode": "600000",
                        "initiator_name": "testapi",
                        "security_credential": credential,
                        "base_url": emulator_url,
                        "callback_url": f"http://127.0.0.1:{port}/api/mpesa/b2c/callback",
                        "timeout_url": f"http://127.0.0.1:{port}/api/mpesa/b2c/timeout",
                    },
                },
                "security": {"admin_api_key": ADMIN_KEY},
                "log_json": False,
            },
            extra or {},
        )
    )


@pytest.fixture
def desk_overrides() -> dict[str, Any]:
    """Settings a test module wants on top of the desk's (override this fixture)."""
    return {}


@pytest.fixture
def emulator_merchants() -> tuple[Any, ...]:
    """Shortcodes the emulator serves besides its defaults (override this fixture)."""
    return ()


def _with_credential(values: Any, credential: str) -> Any:
    """`__emulator_credential__` in test settings: the emulator's own SecurityCredential."""
    if isinstance(values, dict):
        return {k: _with_credential(v, credential) for k, v in values.items()}
    if isinstance(values, list):
        return [_with_credential(v, credential) for v in values]
    return credential if values == "__emulator_credential__" else values


@pytest.fixture
def desk(
    db: Database, db_url: str, desk_overrides: dict[str, Any], emulator_merchants: tuple[Any, ...]
) -> Iterator[Desk]:
    sink = WhatsAppSink()
    config = EmulatorConfig(callback_delay_seconds=0.05, merchants=emulator_merchants)
    with (
        running_emulator(config) as emulator,
        serve_in_thread(sink.app()) as sink_url,
    ):
        port = free_port()
        settings = desk_settings(
            db_url, port, emulator.base_url, sink_url, emulator.security_credential(),
            _with_credential(desk_overrides, emulator.security_credential()),
        )  # fmt: skip
        app = create_app(
            settings,
            db=db,
            worker_interval=0.1,
            worker_options={
                "base_delay_seconds": 0.05,
                "max_delay_seconds": 0.2,
                "policies": {WEBHOOK_DELIVERY: RetryPolicy(0.05, 0.2, max_attempts=10)},
            },
        )
        with (
            serve_in_thread(app, port=port) as url,
            httpx.Client(
                base_url=url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=30
            ) as api,
        ):
            yield Desk(url, api, emulator, sink, db, settings)
