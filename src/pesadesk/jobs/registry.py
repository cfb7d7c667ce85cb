"""Every periodic job, in the order a worker pass runs them."""

from __future__ import annotations

from pesadesk.b2c import checks
from pesadesk.c2b import pull, verify
from pesadesk.jobs.context import PeriodicJob
from pesadesk.notify import daily
from pesadesk.stk import sweeper

JOBS: tuple[PeriodicJob, ...] = (
    sweeper.job,
    pull.job,
    verify.job,
    daily.job,
    checks.status_checks,
    checks.balance_refresh,
)
