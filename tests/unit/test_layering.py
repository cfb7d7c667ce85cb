"""The layout's arrows hold (import-linter contracts in pyproject.toml), and each kind of
message has exactly one way in: one parser per payload, one writer of the webhook log."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path

import pesadesk
from pesadesk.core.statuses import WebhookSource
from pesadesk.daraja.callbacks import parse_c2b_payment
from pesadesk.pipeline.contract import Origin
from pesadesk.pipeline.parse import PARSERS
from pesadesk.pipeline.registry import HANDLERS

SRC = Path(pesadesk.__file__).parent


def _sources(*skip: str) -> dict[str, str]:
    found = {}
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if "migrations/" in rel or any(rel.startswith(s) for s in skip):
            continue
        found[rel] = path.read_text(encoding="utf-8")
    return found


def test_import_contracts_are_kept() -> None:
    """`lint-imports` finds every contract kept (pure rules, no framework in services,
    no SQL in the API, a config-free Daraja client, a self-contained emulator)."""
    tool = Path(sys.executable).parent / "lint-imports"
    run = subprocess.run([str(tool)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "0 broken" in run.stdout


def test_every_message_kind_has_one_handler_and_its_parsers() -> None:
    """Each source has one handler; each (source, origin) one parser; C2B confirmations
    from a callback are read by the Daraja C2B reader itself, and from Pull by the
    Daraja reader of Pull items (unwrapped from the shortcode they were asked for)."""
    assert set(HANDLERS) == set(WebhookSource)
    assert {source for source, _ in PARSERS} == set(WebhookSource)
    callback = PARSERS[(WebhookSource.C2B_CONFIRMATION, Origin.CALLBACK)]
    assert callback is parse_c2b_payment
    pulled = PARSERS[(WebhookSource.C2B_CONFIRMATION, Origin.PULL)]
    assert "parse_pull_transaction(" in inspect.getsource(pulled)


def test_no_second_c2b_parser() -> None:
    """Only the Daraja C2B reader (and the emulator, which writes such bodies, and the API
    docs, which describe them and read none) names `TransAmount`: a second parser
    elsewhere fails this test."""
    readers = [rel for rel, text in _sources("emulator/").items() if "TransAmount" in text]
    assert readers == ["api/schemas/callbacks.py", "daraja/callbacks/c2b.py"]


def test_no_second_writer_of_the_webhook_log() -> None:
    """Only `pipeline/logrows.py` inserts or updates `webhook_logs` rows."""
    writes = re.compile(
        r"(INSERT\s+INTO|UPDATE)\s+webhook_logs|(insert|update)\(\s*WebhookLog\b"
        r"|(?<!class )WebhookLog\(",
        re.IGNORECASE,
    )
    writers = [rel for rel, text in _sources().items() if writes.search(text)]
    assert writers == ["pipeline/logrows.py"]
