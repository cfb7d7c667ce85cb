"""The sample payloads of the Daraja reference (§15), copied into tests/fixtures/daraja."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "daraja"


def load_fixture(name: str) -> Any:
    """A sample payload by file name, decoded as Daraja's JSON would be."""
    return json.loads((FIXTURES / name).read_text())
