"""Who must be confirmed with Daraja before moving money (CONTRACT §8), for every
setting: never, always, and auto (sandbox or production, proven or not)."""

from __future__ import annotations

import pytest

from pesadesk.config import Settings
from pesadesk.pipeline.contract import Context
from pesadesk.testing import FrozenClock

SECRETS = {"consumer_key": "k", "consumer_secret": "s", "passkey": "p"}


def _ctx(mode: str, *, sandbox: bool, proven: bool, unprotected: bool = False) -> Context:
    settings = Settings.model_validate(
        {
            "payments": {"mpesa": {"sandbox": sandbox, **SECRETS}},
            "security": {"verify_callbacks": mode, "allow_unprotected_webhooks": unprotected},
        }
    )
    return Context(settings, FrozenClock(), proven=proven)


@pytest.mark.parametrize(
    ("mode", "sandbox", "proven", "unprotected", "verify"),
    [
        ("never", False, False, False, False),
        ("always", True, True, False, True),
        ("auto", True, False, False, False),  # the sandbox: money is not real
        ("auto", False, False, False, True),  # production, origin not proven
        ("auto", False, True, False, False),  # production, token or allow-list passed
        ("auto", False, True, True, True),  # started unprotected on purpose: all verified
    ],
)
def test_must_verify(
    mode: str, sandbox: bool, proven: bool, unprotected: bool, verify: bool
) -> None:
    """The policy table of §8."""
    assert _ctx(mode, sandbox=sandbox, proven=proven, unprotected=unprotected).must_verify is verify


def test_incomplete_successes_are_checked_unless_checks_are_off() -> None:
    """A receipt-less STK success is confirmed under auto and always, sandbox or not."""
    assert _ctx("auto", sandbox=True, proven=True).checks_incomplete
    assert not _ctx("never", sandbox=True, proven=True).checks_incomplete
