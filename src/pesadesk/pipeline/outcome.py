"""What processing a callback concluded; written onto its `webhook_logs` row."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Outcome:
    external_id: str | None = None
    duplicate: bool = False
    flagged: bool = False
    note: str | None = None
    reply: dict[str, Any] = field(default_factory=dict)
