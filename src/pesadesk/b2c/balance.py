"""What the B2C utility account can pay out, as Daraja last said: from Account Balance
results and from every B2C result (`B2CUtilityAccountAvailableFunds`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pesadesk.core.money import to_json_number
from pesadesk.db.models import BalanceSnapshot

UTILITY = "Utility Account"


def observe(
    session: Session,
    *,
    available_cents: int,
    current_cents: int | None,
    source: str,
    now: datetime,
    account: str = UTILITY,
) -> None:
    session.add(
        BalanceSnapshot(
            account=account,
            available_cents=available_cents,
            current_cents=current_cents,
            source=source,
            observed_at=now,
        )
    )


def latest(session: Session, account: str = UTILITY) -> BalanceSnapshot | None:
    return session.execute(
        select(BalanceSnapshot)
        .where(BalanceSnapshot.account == account)
        .order_by(BalanceSnapshot.observed_at.desc(), BalanceSnapshot.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def view(snapshot: BalanceSnapshot | None) -> dict[str, Any]:
    if snapshot is None:
        return {"account": UTILITY, "available": None, "known": False, "observed_at": None}
    return {
        "account": snapshot.account,
        "available": to_json_number(snapshot.available_cents),
        "current": None
        if snapshot.current_cents is None
        else to_json_number(snapshot.current_cents),
        "known": True,
        "source": snapshot.source,
        "observed_at": snapshot.observed_at.isoformat(),
    }
