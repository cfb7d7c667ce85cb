"""Statement reconciliation benchmark (issue 5): a generated M-Pesa statement of a million
rows matched against a database holding the same payments, in rows/s and peak memory,
printed beside a floor measured in the same run.

Why this shape: `pesadesk reconcile` and the upload endpoint stream the statement through
`import_statement`, which must not hold the file in memory; the issue's target is the whole
million in under 60 s and 500 MB. Each measurement runs in its own child process so the
peak RSS it reports (VmHWM) is that run's alone, and the floor is a plain `csv.reader`
pass over the same file in the same kind of process, so the ratio says what pesadesk adds
to reading the file at all.

The statement is in the org-portal layout (preamble with `Time Period:`, the 13-column
header, day-first EAT times, quoted thousands, negative withdrawals). The database gets the
same payments by bulk insert (COPY on PostgreSQL), not through the services, plus a few
deliberate differences: amounts that disagree, receipts missing on each side, statement
rows that failed for money pesadesk holds as completed, failed rows pesadesk never saw,
and payments outside the period that must not be reported. The report must find exactly
those, or the run exits 1.

    .venv/bin/python -m benchmarks.reconcile [--backend sqlite|postgres|both]
        [--rows 1000000] [--pg-url URL] [--timeout 900] [--profile DIR] [--keep DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NamedTuple

from benchmarks.common import fresh_database, libpq_url, postgres_reachable

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PG_URL = os.environ.get("PESADESK_TEST_PG_URL", "postgresql://postgres@127.0.0.1/test")

TARGET_SECONDS = 60.0
TARGET_MB = 500.0

EAT = timezone(
    timedelta(hours=3), "EAT"
)  # as pesadesk.core.clock.EAT; the floor child imports no pesadesk
PERIOD_START = datetime(2026, 1, 1, 0, 0, 0, tzinfo=EAT)
PERIOD_END = datetime(2026, 1, 31, 23, 59, 59, tzinfo=EAT)
STATEMENT_TIME = "%d-%m-%Y %H:%M:%S"
CLOSING_BALANCE_CENTS = 1_000_000_000  # 10,000,000.00 KES; withdrawals sweep the inflow
HEADER = [
    "Receipt No.", "Completion Time", "Initiation Time", "Details", "Transaction Status",
    "Paid In", "Withdrawn", "Balance", "Balance Confirmed", "Reason Type", "Other Party Info",
    "Linked Transaction ID", "A/C No.",
]  # fmt: skip
WITHDRAWAL_EVERY = 50  # one row in 50 is money going out
NO_SECONDS_EVERY = 997  # `dd-mm-YYYY HH:MM`, as some exports write
SEED = 20260105

# Row kinds. Statement rows are PAID unless planned otherwise; the last two are payments
# only pesadesk has.
PAID = "matched"
WITHDRAWAL = "withdrawal"
AMOUNT = "amount_mismatches"
STATUS = "status_mismatches"
FAILED_UNKNOWN = "failed_rows_unknown_here"
MISSING_HERE = "missing_in_pesadesk"
MISSING_THERE = "missing_in_statement"
OUTSIDE = "outside_period"
SPECIAL_KINDS = (AMOUNT, STATUS, FAILED_UNKNOWN, MISSING_HERE)
EXTRA_KINDS = (MISSING_THERE, OUTSIDE)
IN_DATABASE = frozenset({PAID, AMOUNT, STATUS})

NAMES = [
    "JOHN DOE", "MARY WANJIRU", "ALI HASSAN", "PETER OTIENO", "GRACE AKINYI", "JAMES MWANGI",
    "FAITH CHEBET", "BRIAN KIPROTICH", "AMINA ABDI", "DAVID KAMAU", "MERCY NJERI",
    "KEVIN OCHIENG", "SARAH MUTUA", "JOSEPH WEKESA", "LUCY ATIENO", "SAMUEL KARIUKI",
]  # fmt: skip

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_RECEIPT_SPACE = 36**8
_RECEIPT_MULT = 2_654_435_761  # odd and not a multiple of 3: a bijection mod 36**8


def receipt_for(index: int) -> str:
    """A unique 10-character receipt per index, scattered like real ones (not sequential),
    so the database's receipt index is probed at random places as in production."""
    value = (index * _RECEIPT_MULT + 12_345_678) % _RECEIPT_SPACE
    chars = []
    for _ in range(8):
        value, digit = divmod(value, 36)
        chars.append(_ALPHABET[digit])
    return "TB" + "".join(reversed(chars))


def kes(cents: int) -> str:
    """`5,000.00` / `-500.00`, as the portal writes amounts."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100:,}.{cents % 100:02d}"


# --------------------------------------------------------------------------- the data


@dataclass(frozen=True)
class Plan:
    """Which rows are deliberately different; everything else follows from the seed."""

    rows: int
    specials: dict[int, str]  # statement row index -> kind
    extras: list[tuple[int, str]]  # receipt index (>= rows) -> MISSING_THERE or OUTSIDE

    @classmethod
    def make(cls, rows: int) -> Plan:
        each = max(1, min(100, rows // 10_000))
        rng = random.Random(SEED)
        wanted = each * len(SPECIAL_KINDS)
        picked: list[int] = []
        while len(picked) < wanted:
            for index in rng.sample(range(rows), min(rows, 2 * wanted)):
                if _is_withdrawal(index) or index in picked:
                    continue
                picked.append(index)
                if len(picked) == wanted:
                    break
        specials = {index: SPECIAL_KINDS[n % len(SPECIAL_KINDS)] for n, index in enumerate(picked)}
        extras = [(rows + n, EXTRA_KINDS[n % len(EXTRA_KINDS)]) for n in range(2 * each)]
        return cls(rows, specials, extras)

    def receipts(self, kind: str) -> set[str]:
        pool = [*self.specials.items(), *self.extras]
        return {receipt_for(index) for index, k in pool if k == kind}

    def expected_counts(self) -> dict[str, int]:
        withdrawals = sum(1 for i in range(self.rows) if _is_withdrawal(i))
        special = {kind: len(self.receipts(kind)) for kind in (*SPECIAL_KINDS, MISSING_THERE)}
        paid_in = self.rows - withdrawals
        return {
            "rows": self.rows,
            "paid_in_rows": paid_in,
            "withdrawal_rows": withdrawals,
            "matched": paid_in - sum(special[k] for k in SPECIAL_KINDS),
            **special,
        }


def _is_withdrawal(index: int) -> bool:
    return index % WITHDRAWAL_EVERY == WITHDRAWAL_EVERY // 2


class Txn(NamedTuple):
    position: int
    receipt: str
    kind: str
    completed: datetime  # EAT
    paid_in_cents: int
    withdrawn_cents: int
    name: str
    phone: str
    account: str


def transactions(plan: Plan) -> Iterator[Txn]:
    """Statement rows, newest first as the portal lists them; the same on every call."""
    rng = random.Random(SEED + 1)
    span = (PERIOD_END - PERIOD_START).total_seconds() - 60
    step = span / plan.rows
    pending = 0  # paid in since the last withdrawal, which sweeps it out
    for index in range(plan.rows):
        when = PERIOD_END - timedelta(seconds=int(30 + index * step))
        name = NAMES[rng.randrange(len(NAMES))]
        phone = f"2547{rng.randrange(10**8):08d}"
        kind = plan.specials.get(index, PAID)
        if _is_withdrawal(index):
            amount = pending or 10_000
            pending = 0
            yield Txn(index, receipt_for(index), WITHDRAWAL, when, 0, amount, name, phone, "")
            continue
        roll = rng.random()
        if roll < 0.70:
            cents = rng.randrange(10, 20_000) * 100
        elif roll < 0.95:
            cents = rng.randrange(20_000, 150_000) * 100
        else:
            cents = rng.randrange(1_000, 5_000_000)
        if roll < 0.6:
            account = f"INV-{when:%Y%m%d}-{rng.randrange(1, 9999):04d}"
        else:
            account = f"CUST-{rng.randrange(1, 5000):04d}"
        if kind not in (STATUS, FAILED_UNKNOWN):
            pending += cents
        yield Txn(index, receipt_for(index), kind, when, cents, 0, name, phone, account)


def write_statement(path: Path, plan: Plan) -> None:
    """The org-portal export: preamble, header, rows. The balances run backwards from the
    closing balance, so the rows are written first and the preamble put in front after."""
    body = path.with_suffix(".body")
    balance = CLOSING_BALANCE_CENTS
    with body.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(HEADER)
        for t in transactions(plan):
            finished = t.kind not in (STATUS, FAILED_UNKNOWN)
            stamp = t.completed.strftime(STATEMENT_TIME)
            if t.position % NO_SECONDS_EVERY == 0:
                stamp = stamp[:-3]
            started = (t.completed - timedelta(seconds=t.position % 3)).strftime(STATEMENT_TIME)
            masked = f"{t.phone[:4]}****{t.phone[-4:]}"
            party = f"{t.phone[:6]}***{t.phone[-3:]} - {t.name}"
            if t.withdrawn_cents:
                if t.position % (2 * WITHDRAWAL_EVERY) < WITHDRAWAL_EVERY:
                    details = f"Business Payment to {t.phone} - {t.name}"
                    reason = "Business Payment to Customer via API"
                else:
                    details = party = "Transfer of funds to Working Account"
                    reason = "Organization Settle Balance"
                money = ["", kes(-t.withdrawn_cents), kes(balance), "true"]
                row = [
                    t.receipt,
                    stamp,
                    started,
                    details,
                    "Completed",
                    *money,
                    reason,
                    party,
                    "",
                    "",
                ]
                balance += t.withdrawn_cents
            else:
                details = f"Pay Bill from {masked} - {t.name} Acc. {t.account}"
                state = "Completed" if finished else "Failed"
                money = [kes(t.paid_in_cents), "", kes(balance), "true"]
                row = [t.receipt, stamp, started, details, state, *money, "Pay Bill Online", party]
                row += ["", t.account]
                if finished:
                    balance -= t.paid_in_cents
            out.writerow(row)
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["Account Holder:", "PESADESK BENCH SHOP"])
        out.writerow(["Short Code:", "600000"])
        out.writerow(["Account:", "Utility Account"])
        out.writerow(
            [
                "Time Period:",
                "From",
                f"{PERIOD_START:{STATEMENT_TIME}}",
                "To",
                f"{PERIOD_END:{STATEMENT_TIME}}",
            ]
        )
        out.writerow(["Currency:", "KES"])
        out.writerow(
            ["Opening Balance:", kes(balance), "Closing Balance:", kes(CLOSING_BALANCE_CENTS)]
        )
        with body.open(encoding="utf-8", newline="") as rows:
            shutil.copyfileobj(rows, handle, 1 << 20)
    body.unlink()


PREAMBLE_LINES = 6

PAYMENT_COLUMNS = (
    "id", "amount_cents", "currency", "method", "status", "source", "payer_name", "reference",
    "provider_ref", "receipt", "unplaced_cents", "refund_reserved_cents", "refunded_cents",
    "needs_review", "query_attempts", "paid_at", "created_at", "updated_at",
)  # fmt: skip


def payment_rows(plan: Plan, stamp: Callable[[datetime], Any]) -> Iterator[tuple[Any, ...]]:
    """The `payments` rows pesadesk would hold had every confirmation arrived: C2B,
    completed, paid at the statement's completion time; plus the planned differences."""
    rng = random.Random(SEED + 2)

    def row(receipt: str, cents: int, paid: datetime, name: str, ref: str) -> tuple[Any, ...]:
        created = stamp(paid + timedelta(seconds=1))
        return (
            f"PAY-C2B-{receipt}",
            cents,
            "KES",
            "mpesa",
            "completed",
            "c2b",
            name,
            ref,
            receipt,
            receipt,
            0,
            0,
            0,
            False,
            0,
            stamp(paid),
            created,
            created,
        )

    for t in transactions(plan):
        if t.kind not in IN_DATABASE:
            continue
        cents = t.paid_in_cents + (100 * (1 + t.position % 50) if t.kind == AMOUNT else 0)
        yield row(t.receipt, cents, t.completed, t.name, t.account)
    period = (PERIOD_END - PERIOD_START).total_seconds()
    for index, kind in plan.extras:
        if kind == MISSING_THERE:
            paid = PERIOD_START + timedelta(seconds=rng.randrange(60, int(period) - 60))
        else:
            paid = PERIOD_START - timedelta(
                days=rng.randrange(1, 10), seconds=rng.randrange(86_400)
            )
        name = NAMES[index % len(NAMES)]
        yield row(receipt_for(index), rng.randrange(10, 50_000) * 100, paid, name, "CUST-0001")


def load_payments(backend: str, url: str, plan: Plan) -> int:
    """Migrate, then bulk-load the payments (COPY / executemany); returns rows loaded."""
    from pesadesk.db.migrate import upgrade
    from pesadesk.db.session import Database

    db = Database(url)
    try:
        upgrade(db)
    finally:
        db.dispose()
    if backend == "sqlite":
        return _load_sqlite(_sqlite_path(url), plan)
    return _load_postgres(url, plan)


def _sqlite_stamp(moment: datetime) -> str:
    # What SQLAlchemy's DateTime writes on SQLite (pesadesk.db.sql.db_time).
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _load_sqlite(path: str, plan: Plan) -> int:
    sql = (
        f"INSERT INTO payments ({', '.join(PAYMENT_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(PAYMENT_COLUMNS))})"
    )
    loaded = 0
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA synchronous=OFF")  # a throwaway file; durability is not measured
        conn.execute("PRAGMA cache_size=-200000")
        conn.execute("BEGIN")
        batch: list[tuple[Any, ...]] = []
        for row in payment_rows(plan, _sqlite_stamp):
            batch.append(row)
            if len(batch) == 20_000:
                conn.executemany(sql, batch)
                loaded += len(batch)
                batch.clear()
        if batch:
            conn.executemany(sql, batch)
            loaded += len(batch)
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return loaded


def _load_postgres(url: str, plan: Plan) -> int:
    import psycopg

    loaded = 0
    with psycopg.connect(libpq_url(url)) as conn:
        with (
            conn.cursor() as cur,
            cur.copy(f"COPY payments ({', '.join(PAYMENT_COLUMNS)}) FROM STDIN") as copy,
        ):
            for row in payment_rows(plan, lambda moment: moment.astimezone(UTC)):
                copy.write_row(row)
                loaded += 1
        conn.commit()
        # Autovacuum would get there soon after a real month of payments; do it now so the
        # planner has statistics and the measurement does not depend on its timing.
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE payments")
    return loaded


def _sqlite_path(url: str) -> str:
    return url.split("///", 1)[1]


# --------------------------------------------------------------------------- the children


def _peak_mb() -> float:
    """This process image's peak RSS (VmHWM). Not `ru_maxrss`: on Linux that keeps the
    high-water mark of the memory the child was spawned from, i.e. the parent's, which has
    SQLAlchemy and pesadesk loaded and would put a ~90 MB floor under every figure."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource  # not Linux: the best there is

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_floor(statement: Path) -> dict[str, Any]:
    """The least any importer does: decode the file and split it into CSV rows."""
    base = _peak_mb()
    start = time.perf_counter()
    with statement.open(encoding="utf-8-sig", newline="") as handle:
        lines = sum(1 for _ in csv.reader(handle))
    seconds = time.perf_counter() - start
    rows = lines - PREAMBLE_LINES - 1
    return {"seconds": seconds, "base_mb": base, "peak_mb": _peak_mb(), "rows": rows}


def child_parse(statement: Path) -> dict[str, Any]:
    """pesadesk's statement reader alone, no database: splits its time into parsing the
    file and everything else (lookups, the report)."""
    from pesadesk.reconcile.statement import StatementHeader, read_statement

    base = _peak_mb()
    start = time.perf_counter()
    with statement.open(encoding="utf-8-sig", newline="") as handle:
        rows = sum(1 for _ in read_statement(handle, StatementHeader()))
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "base_mb": base, "peak_mb": _peak_mb(), "rows": rows}


def child_pesadesk(statement: Path, db_url: str, profile: Path | None) -> dict[str, Any]:
    """`import_statement` over the file as the CLI would run it; the report comes back
    trimmed to its counts and short lists (the matched list is a million receipts)."""
    from pesadesk.core.clock import SystemClock
    from pesadesk.db.session import Database
    from pesadesk.reconcile.service import import_statement

    db = Database(db_url)
    base = _peak_mb()
    progressed = 0

    def progress(rows: int) -> None:
        nonlocal progressed
        progressed += rows

    def run() -> dict[str, Any]:
        with statement.open(encoding="utf-8-sig", newline="") as handle:
            return import_statement(
                db,
                lines=handle,
                filename=statement.name,
                imported_by="benchmark",
                clock=SystemClock(),
                progress=progress,
            )

    start = time.perf_counter()
    if profile is None:
        view = run()
    else:
        import cProfile

        profiler = cProfile.Profile()
        view = profiler.runcall(run)
        profiler.dump_stats(profile)
    seconds = time.perf_counter() - start
    db.dispose()
    return {
        "seconds": seconds,
        "base_mb": base,
        "peak_mb": _peak_mb(),
        "rows": view["counts"]["rows"],
        "progress_rows": progressed,
        "counts": view["counts"],
        "period": view["period"],
        "matched_distinct": len(set(view["matched"])),
        MISSING_HERE: view[MISSING_HERE],
        MISSING_THERE: view[MISSING_THERE],
        AMOUNT: [m["receipt"] for m in view[AMOUNT]],
        STATUS: [m["receipt"] for m in view[STATUS]],
    }


@dataclass
class Measurement:
    backend: str
    kind: str
    seconds: float = float("nan")
    peak_mb: float = float("nan")
    base_mb: float = float("nan")
    rows: int = 0
    result: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("nan")


def run_child(
    backend: str, kind: str, args: list[str], workdir: Path, timeout: float
) -> Measurement:
    """One measurement in a fresh interpreter, so the peak memory it reports is its own
    and nothing the parent or an earlier run touched is counted."""
    result_path = workdir / f"result-{backend}-{kind}.json"
    result_path.unlink(missing_ok=True)
    command = [sys.executable, "-m", "benchmarks.reconcile", "--child", kind,
               "--result", str(result_path), *args]  # fmt: skip
    proc = subprocess.Popen(command, cwd=ROOT)
    timed_out = False
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        timed_out = True
    m = Measurement(backend, kind)
    if timed_out:
        m.problems.append(f"{kind} child killed after {timeout:.0f} s")
        return m
    if proc.returncode != 0 or not result_path.exists():
        m.problems.append(f"{kind} child exited {proc.returncode} (see its traceback above)")
        return m
    m.result = json.loads(result_path.read_text())
    m.seconds = m.result["seconds"]
    m.base_mb = m.result["base_mb"]
    m.peak_mb = m.result["peak_mb"]
    m.rows = m.result["rows"]
    return m


def check_floor(m: Measurement, plan: Plan) -> None:
    if m.result and m.rows != plan.rows:
        m.problems.append(f"{m.kind} counted {m.rows} data rows, the statement has {plan.rows}")


def check_report(m: Measurement, plan: Plan) -> None:
    """The report must find exactly the planned differences and match everything else."""
    if not m.result:
        return
    got: dict[str, int] = m.result["counts"]
    want = plan.expected_counts()
    for key, value in want.items():
        if got.get(key) != value:
            m.problems.append(f"counts[{key!r}] = {got.get(key)}, expected {value}")
    for kind in (MISSING_HERE, MISSING_THERE, AMOUNT, STATUS):
        found, expected = set(m.result[kind]), plan.receipts(kind)
        if found != expected:
            wrong, lost = sorted(found - expected)[:3], sorted(expected - found)[:3]
            m.problems.append(f"{kind}: unexpected {wrong}, not found {lost}")
        if len(m.result[kind]) != len(found):
            m.problems.append(f"{kind} lists a receipt twice")
    if m.result["matched_distinct"] != want["matched"]:
        m.problems.append(f"{m.result['matched_distinct']} distinct matched receipts")
    if m.result["progress_rows"] != plan.rows:
        m.problems.append(f"progress reported {m.result['progress_rows']} rows of {plan.rows}")
    period = m.result["period"]
    if (
        period["from"] != PERIOD_START.astimezone(UTC).isoformat()
        or period["to"] != PERIOD_END.astimezone(UTC).isoformat()
    ):
        m.problems.append(f"period {period} is not the statement's Time Period")


# --------------------------------------------------------------------------- the run


def _mark(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def report(results: list[Measurement]) -> str:
    out = [
        f"{'backend':<10}{'run':<10}{'rows':>10}{'seconds':>10}{'rows/s':>10}"
        f"{'peak MB':>10}{'idle MB':>10}",
    ]
    for r in results:
        out.append(
            f"{r.backend:<10}{r.kind:<10}{r.rows:>10}{r.seconds:>10.2f}{r.rate:>10.0f}"
            f"{r.peak_mb:>10.0f}{r.base_mb:>10.0f}"
        )
    out.append("(idle MB: the child's peak RSS after its imports, before reading the file)")
    out.append("(parse: pesadesk's read_statement alone over the file, no database)")
    by = {(r.backend, r.kind): r for r in results}
    for backend in ("sqlite", "postgres"):
        mine, floor = by.get((backend, "pesadesk")), by.get((backend, "floor"))
        parse = by.get((backend, "parse"))
        if mine is None or floor is None or not mine.result:
            continue
        out += [
            "",
            f"{backend}: pesadesk {mine.rate:,.0f} rows/s vs floor {floor.rate:,.0f} rows/s: "
            f"{mine.seconds / floor.seconds:.1f}x the floor's time, "
            f"{mine.peak_mb / floor.peak_mb:.1f}x its memory",
        ]
        if parse is not None and parse.result:
            out.append(
                f"  read_statement alone: {parse.seconds:.1f} s "
                f"({100 * parse.seconds / mine.seconds:.0f}% of pesadesk's time); lookups, "
                f"report, storing it: {mine.seconds - parse.seconds:.1f} s"
            )
        out += [
            f"  {_mark(mine.seconds < TARGET_SECONDS)}  < {TARGET_SECONDS:.0f} s for "
            f"{mine.rows:,} rows: {mine.seconds:.1f} s",
            f"  {_mark(mine.peak_mb < TARGET_MB)}  < {TARGET_MB:.0f} MB peak RSS: "
            f"{mine.peak_mb:.0f} MB",
        ]
        if mine.rows != 1_000_000:
            out.append("  (the targets are for 1,000,000 rows)")
    return "\n".join(out)


def summarize_profile(path: Path, limit: int = 25) -> str:
    import io
    import pstats

    text = io.StringIO()
    stats = pstats.Stats(str(path), stream=text)
    stats.strip_dirs().sort_stats("tottime").print_stats(limit)
    stats.sort_stats("cumulative").print_stats(limit)
    return text.getvalue()


def run_backend(
    backend: str, plan: Plan, statement: Path, workdir: Path, args: argparse.Namespace
) -> list[Measurement]:
    with fresh_database(backend, workdir, "pesadesk", args.pg_url) as url:
        start = time.perf_counter()
        loaded = load_payments(backend, url, plan)
        print(
            f"  {backend}: migrated and loaded {loaded:,} payments in "
            f"{time.perf_counter() - start:.1f} s"
        )
        floor = run_child(backend, "floor", ["--file", str(statement)], workdir, args.timeout)
        check_floor(floor, plan)
        parse = run_child(backend, "parse", ["--file", str(statement)], workdir, args.timeout)
        check_floor(parse, plan)
        mine = run_child(
            backend, "pesadesk", ["--file", str(statement), "--db-url", url], workdir, args.timeout
        )
        check_report(mine, plan)
        results = [floor, parse, mine]
        for r in results:
            print(f"  {backend}: {r.kind:<8} {r.seconds:7.2f} s  {r.peak_mb:5.0f} MB peak")
        if args.profile:
            out = Path(args.profile)
            out.mkdir(parents=True, exist_ok=True)
            prof = out / f"{backend}.prof"
            profiled = run_child(
                backend,
                "pesadesk",
                ["--file", str(statement), "--db-url", url, "--cprofile", str(prof)],
                workdir,
                3 * args.timeout,
            )
            print(f"  {backend}: profiled run {profiled.seconds:.1f} s (cProfile) -> {prof}")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--timeout", type=float, default=900.0, help="per child, seconds")
    parser.add_argument("--profile", metavar="DIR", help="also run pesadesk under cProfile")
    parser.add_argument("--keep", metavar="DIR", help="copy the generated statement here")
    parser.add_argument("--child", choices=["floor", "parse", "pesadesk"], help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--db-url", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--cprofile", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        statement = Path(args.file)
        if args.child == "floor":
            outcome = child_floor(statement)
        elif args.child == "parse":
            outcome = child_parse(statement)
        else:
            cprofile = Path(args.cprofile) if args.cprofile else None
            outcome = child_pesadesk(statement, args.db_url, cprofile)
        Path(args.result).write_text(json.dumps(outcome))
        return 0
    if args.rows < 1000:
        parser.error("--rows must be at least 1000")

    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    if "postgres" in backends:
        why = postgres_reachable(args.pg_url)
        if why is not None:
            if args.backend == "postgres":
                print(f"PostgreSQL at {args.pg_url} is not reachable: {why}", file=sys.stderr)
                return 2
            print(f"skipping PostgreSQL ({args.pg_url}): {why}")
            backends.remove("postgres")
    print(
        f"Statement reconciliation, {args.rows:,} rows, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.2f} (others' work skews the figures)"
    )
    plan = Plan.make(args.rows)
    results: list[Measurement] = []
    with tempfile.TemporaryDirectory(prefix="pesadesk-bench-reconcile-") as tmp:
        workdir = Path(tmp)
        statement = workdir / "statement.csv"
        start = time.perf_counter()
        write_statement(statement, plan)
        size = statement.stat().st_size / 2**20
        print(f"  statement: {size:.0f} MB written in {time.perf_counter() - start:.1f} s")
        if args.keep:
            Path(args.keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(statement, Path(args.keep) / statement.name)
        for backend in backends:
            results += run_backend(backend, plan, statement, workdir, args)
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}\n")
    print(report(results))
    if args.profile:
        for path in sorted(Path(args.profile).glob("*.prof")):
            print(f"\n--- {path}")
            print(summarize_profile(path))
    problems = [(r, p) for r in results for p in r.problems]
    for r, p in problems:
        print(f"PROBLEM ({r.backend} {r.kind}): {p}")
    if problems:
        print(f"\nFAILED: {len(problems)} problem(s); the report is not what was planted")
        return 1
    return 0


if __name__ == "__main__":
    if __package__ in (None, ""):
        sys.path.insert(0, str(ROOT))  # `python benchmarks/reconcile.py` as well as `-m`
    sys.exit(main())
