"""Test helpers: run the emulator (or a callback sink) on a real loopback port.

Tests talk to the emulator over real HTTP, and the emulator sends its callbacks over
real HTTP, so nothing is monkeypatched:

    with running_emulator(EmulatorConfig(callback_delay_seconds=0.05)) as emu:
        config = emu.daraja_config()                 # a DarajaConfig pointing at it
        with callback_sink() as sink:                # somewhere for callbacks to land
            ...
            sink.wait_for(1)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from pesadesk.daraja.client import DarajaConfig
from pesadesk.daraja.credentials import encrypt_security_credential
from pesadesk.emulator.app import Emulator, create_emulator_app
from pesadesk.emulator.callback_sink import CallbackSink, Received
from pesadesk.emulator.state import EmulatorConfig, EmulatorState
from pesadesk.serving import serve_in_thread

__all__ = [
    "CallbackSink",
    "Received",
    "RunningEmulator",
    "callback_sink",
    "running_emulator",
    "serve_in_thread",
]


@dataclass
class RunningEmulator:
    """A live emulator: its base URL, its state, and helpers to point clients at it."""

    base_url: str
    state: EmulatorState
    emulator: Emulator

    def daraja_config(
        self, *, b2c: bool = False, merchant: str | None = None, **overrides: Any
    ) -> DarajaConfig:
        """A `DarajaConfig` the emulator accepts: STK shortcode, (b2c) the B2C one, or the
        `merchant` shortcode with its passkey (a till pays by Buy Goods)."""
        cfg = self.state.config
        values: dict[str, Any] = {
            "consumer_key": SecretStr("test-key"),
            "consumer_secret": SecretStr("test-secret"),
            "base_url": self.base_url,
            "shortcode": cfg.b2c_shortcode if b2c else cfg.stk_shortcode,
            "passkey": SecretStr(cfg.passkey),
            "callback_url": "http://127.0.0.1:9/callback",
            "initiator_name": cfg.initiator_name,
            "security_credential": SecretStr(self.security_credential()),
            "result_url": "http://127.0.0.1:9/result",
            "timeout_url": "http://127.0.0.1:9/timeout",
            "max_retries": 2,
            "backoff_base_seconds": 0.01,
            "backoff_max_seconds": 0.05,
            "timeout_seconds": 10.0,
        }
        if merchant is not None:
            values.update(self._merchant_values(merchant))
        values.update(overrides)
        return DarajaConfig(**values)

    def _merchant_values(self, shortcode: str) -> dict[str, Any]:
        found = self.state.merchant(shortcode)
        if found is None:
            raise KeyError(f"the emulator serves no merchant {shortcode}")
        values: dict[str, Any] = {"shortcode": shortcode, "passkey": SecretStr(found.passkey)}
        if found.kind == "till":
            values["transaction_type"] = "CustomerBuyGoodsOnline"
            values["till_number"] = found.till_number or shortcode
        return values

    def security_credential(self, password: str | None = None) -> str:
        """The initiator password (or `password`) encrypted with the emulator's certificate."""
        return encrypt_security_credential(
            password if password is not None else self.state.config.initiator_password,
            self.state.certificate,
        )


@contextmanager
def running_emulator(
    config: EmulatorConfig | None = None, *, state: EmulatorState | None = None
) -> Iterator[RunningEmulator]:
    """Run an emulator on a free loopback port for the duration of the `with` block."""
    app = create_emulator_app(config, state=state)
    emulator: Emulator = app.state.emulator
    with serve_in_thread(app) as base_url:
        yield RunningEmulator(base_url=base_url, state=emulator.state, emulator=emulator)


@contextmanager
def callback_sink() -> Iterator[CallbackSink]:
    """A little HTTP server that records every callback POSTed to any path."""
    sink = CallbackSink()
    with serve_in_thread(sink.app()) as base_url:
        sink.base_url = base_url
        yield sink
