"""What a consumer of events receives."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from pesadesk.config import Settings
from pesadesk.core.events import Event


@dataclass(frozen=True)
class Published:
    """A stored event: its id, the object's public `data`, and its `row` for cents."""

    event: Event
    event_id: str
    data: dict[str, Any]
    row: Any


# Runs inside the publishing transaction; may only add rows (outbox messages).
Consumer = Callable[[Session, Sequence[Published], Settings, datetime], None]
