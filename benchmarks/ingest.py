"""C2B ingest benchmark (issue 2): confirmations per second and p50/p99 latency through the
real HTTP server, printed beside a floor measured in the same run.

Why this shape: the webhook path is the one that must be fast (DESIGN.md "The hot path"),
and a server measured in a thread of the load generator shares its GIL and lies. So each
server runs in its own process under uvicorn (one worker, loopback only), and the load
comes from asyncio raw sockets with pre-built HTTP/1.1 requests, the cheapest client we
have, so the generator leaves the server most of this 2-core machine. The floor is a bare
ASGI callable doing the least a durable webhook endpoint can do (parse the same JSON, one
INSERT in one committed transaction) on the same kind of database, so the ratio says how
much pesadesk's own code costs rather than how fast the disk is.

After each run the database is checked: every acknowledged confirmation must be stored
exactly once and every request sent must have its raw body logged. Losing data, or any
error answer, makes the benchmark exit 1.

    .venv/bin/python -m benchmarks.ingest [--backend sqlite|postgres|both]
        [--clients 16,64] [--servers 2] [--seconds 10] [--warmup 1] [--pg-url URL]
        [--profile DIR]

`--clients 1,4,16,64` gives the table of how throughput and p99 move with connections;
`--servers 2` also runs two pesadesk processes on one PostgreSQL at the largest count.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from benchmarks.common import fresh_database, libpq_url, postgres_reachable

ROOT = Path(__file__).resolve().parents[1]
CONFIRMATION_PATH = "/api/webhooks/c2b/confirmation"
DEFAULT_PG_URL = os.environ.get("PESADESK_TEST_PG_URL", "postgresql://postgres@127.0.0.1/test")

# Issue 12's targets: the rate (PostgreSQL) and share of the same run's floor at every
# client count, p99 at TARGET_P99_CLIENTS connections.
TARGET_RATE = {"sqlite": 300.0, "postgres": 2000.0}
TARGET_RATIO = {"sqlite": 0.65, "postgres": 0.50}
TARGET_P99_MS = 100.0
TARGET_P99_CLIENTS = 64
DEFAULT_CLIENTS = "16,64"

SEED_CUSTOMERS = 20
SEED_INVOICES = 200
INVOICE_CENTS = 50_000_000  # 500,000 KES each: still PARTIALLY_PAID at the end of any run
REQUEST_TIMEOUT = 30.0
ACK = b'{"ResultCode":0,"ResultDesc":"Accepted"}'

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


# --------------------------------------------------------------------------- the floor


class Floor:
    """A bare ASGI endpoint: read the body, `json.loads` it, one INSERT, commit, 200.

    SQLite: one connection (WAL, synchronous=FULL, like pesadesk's) owned by one writer
    thread. PostgreSQL: a small pool of psycopg async connections, BEGIN/INSERT/COMMIT.
    """

    def __init__(self, url: str, pool_size: int) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.pool_size = pool_size
        self._sqlite: sqlite3.Connection | None = None
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="floor-writer")
        self._pool: asyncio.Queue[Any] = asyncio.Queue()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = bool(message.get("more_body", False))
        if scope["method"] != "POST":
            await _reply(send, 200, b'{"status":"ok"}')
            return
        raw = b"".join(chunks)
        try:
            payload = json.loads(raw, parse_float=Decimal)
            trans_id = str(payload["TransID"])
            cents = int(Decimal(str(payload["TransAmount"])) * 100)
        except (ValueError, KeyError, TypeError):
            await _reply(send, 400, b'{"error":"bad body"}')
            return
        try:
            await self._insert(trans_id, cents, raw)
        except (sqlite3.Error, psycopg.Error) as exc:
            print(f"floor insert failed: {exc!r}", file=sys.stderr)
            await _reply(send, 503, b'{"error":"not stored"}')
            return
        await _reply(send, 200, ACK)

    async def _insert(self, trans_id: str, cents: int, raw: bytes) -> None:
        now = datetime.now(UTC)
        if self.is_sqlite:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._writer, self._insert_sqlite, trans_id, cents, raw, now)
            return
        conn = await self._pool.get()
        try:
            async with conn.transaction():
                await conn.execute(
                    "INSERT INTO floor (trans_id, amount_cents, raw_body, received_at) "
                    "VALUES (%s, %s, %s, %s) ON CONFLICT (trans_id) DO NOTHING",
                    (trans_id, cents, raw, now),
                )
        finally:
            self._pool.put_nowait(conn)

    def _insert_sqlite(self, trans_id: str, cents: int, raw: bytes, now: datetime) -> None:
        conn = self._sqlite
        assert conn is not None
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "INSERT INTO floor (trans_id, amount_cents, raw_body, received_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (trans_id) DO NOTHING",
                (trans_id, cents, raw, now.isoformat()),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self._open()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self._close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _open(self) -> None:
        if self.is_sqlite:
            conn = sqlite3.connect(
                _sqlite_path(self.url), isolation_level=None, check_same_thread=False
            )
            for pragma in ("journal_mode=WAL", "synchronous=FULL", "busy_timeout=10000"):
                conn.execute(f"PRAGMA {pragma}")
            self._sqlite = conn
            return
        for _ in range(self.pool_size):
            self._pool.put_nowait(await psycopg.AsyncConnection.connect(libpq_url(self.url)))

    async def _close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
        while not self._pool.empty():
            await self._pool.get_nowait().close()
        self._writer.shutdown()


async def _reply(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


FLOOR_SCHEMA = {
    "sqlite": "CREATE TABLE floor (id INTEGER PRIMARY KEY, trans_id TEXT NOT NULL UNIQUE, "
    "amount_cents INTEGER NOT NULL, raw_body BLOB NOT NULL, received_at TEXT NOT NULL)",
    "postgres": "CREATE TABLE floor (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
    "trans_id VARCHAR(40) NOT NULL UNIQUE, amount_cents BIGINT NOT NULL, "
    "raw_body BYTEA NOT NULL, received_at TIMESTAMPTZ NOT NULL)",
}


# --------------------------------------------------------------------------- servers


def serve(
    kind: str, url: str, port: int, pool_size: int, background: bool, threads: int | None
) -> None:
    """The server subprocess: pesadesk as `pesadesk serve` builds it, or the floor.

    Without `background` the app's periodic tasks (recovery loop, outbox worker) are left
    out: they are not the ingest path, and the worker would try to reach Daraja.
    """
    import uvicorn

    app: Any
    if kind == "pesadesk":
        from pesadesk.api.app import create_app
        from pesadesk.config import Settings
        from pesadesk.db.session import Database
        from pesadesk.log import configure_logging

        settings = Settings(database_url=url)
        configure_logging(json=settings.log_json)
        app = create_app(
            settings, db=Database(settings.database_url), background=background,
            ingest_threads=threads,
        )  # fmt: skip
    else:
        app = Floor(url, pool_size)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", workers=1)


@dataclass
class Server:
    kind: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    def cpu_seconds(self) -> float:
        """User + system CPU of the server process (all its threads), from /proc."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def log_lines(self) -> list[str]:
        return [line for line in self.log_path.read_text(errors="replace").splitlines() if line]


@contextlib.contextmanager
def running_servers(
    kind: str,
    url: str,
    workdir: Path,
    pool_size: int,
    background: bool,
    count: int,
    threads: int | None = None,
) -> Iterator[list[Server]]:
    """`count` server processes on one database (stateless pesadesk scales out so)."""
    with contextlib.ExitStack() as stack:
        yield [
            stack.enter_context(running_server(kind, url, workdir, pool_size, background, threads))
            for _ in range(count)
        ]


@contextlib.contextmanager
def running_server(
    kind: str,
    url: str,
    workdir: Path,
    pool_size: int,
    background: bool,
    threads: int | None = None,
) -> Iterator[Server]:
    from pesadesk.testing import free_port

    port = free_port()
    log_path = workdir / f"{kind}-{port}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PESADESK_")}
    env["PESADESK_CONFIG"] = ""  # empty: no config file, nothing from ./config.yaml
    command = [sys.executable, "-m", "benchmarks.ingest", "--serve", kind]
    command += ["--db-url", url, "--port", str(port), "--pool", str(pool_size)]
    if background:
        command.append("--background")
    if threads:
        command += ["--ingest-threads", str(threads)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Server(kind, process, port, log_path)
    try:
        _wait_ready(server)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_ready(server: Server) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"{server.kind} server exited:\n" + "\n".join(server.log_lines()[-20:])
            )
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=2)
        try:
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.05)
    raise RuntimeError(f"{server.kind} server did not start within 60 s")


# --------------------------------------------------------------------------- the load


@dataclass
class Load:
    """What the clients saw. Latencies and the rate count only the measured window."""

    sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    acked: list[str] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    window_ok: int = 0
    window_seconds: float = 0.0
    client_cpu: float = 0.0
    server_cpu: float = 0.0


class Requests:
    """Daraja-shaped confirmations with distinct TransIDs, as ready-to-write bytes (one
    counter for all clients, whichever server they talk to)."""

    def __init__(self, refs: list[str]) -> None:
        self.refs = refs or ["NOMATCH"]
        self.counter = 0
        self.head = (
            f"POST {CONFIRMATION_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/json\r\nUser-Agent: pesadesk-bench\r\n"
        ).encode()
        self.trans_time = datetime.now(UTC).strftime("%Y%m%d%H%M%S")

    def next(self) -> tuple[str, bytes]:
        n = self.counter
        self.counter += 1
        trans_id = f"BM{n:010d}"
        body = json.dumps(
            {
                "TransactionType": "Pay Bill",
                "TransID": trans_id,
                "TransTime": self.trans_time,
                "TransAmount": "100.00",
                "BusinessShortCode": "600000",
                "BillRefNumber": self.refs[n % len(self.refs)],
                "InvoiceNumber": "",
                "OrgAccountBalance": "1000000.00",
                "ThirdPartyTransID": "",
                "MSISDN": "2547 ***** 126",
                "FirstName": "Wanjiru",
                "MiddleName": "",
                "LastName": "Kamau",
            },
            separators=(",", ":"),
        ).encode()
        return trans_id, self.head + b"Content-Length: %d\r\n\r\n" % len(body) + body


async def _client(
    port: int, requests: Requests, load: Load, measure_from: float, stop_at: float
) -> None:
    """One keep-alive connection, one request in flight, until `stop_at`."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < stop_at:
            trans_id, request = requests.next()
            started = time.perf_counter()
            load.sent += 1
            try:
                writer.write(request)
                async with asyncio.timeout(REQUEST_TIMEOUT):
                    head = await reader.readuntil(b"\r\n\r\n")
                    status, length, closing = _parse_head(head)
                    await reader.readexactly(length)
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
                load.unanswered.append(trans_id)
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            ended = time.perf_counter()
            load.statuses[status] += 1
            if status == 200:
                load.acked.append(trans_id)
                if measure_from <= ended <= stop_at:
                    load.window_ok += 1
                    load.latencies.append(ended - started)
            if closing:
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
    finally:
        writer.close()


def _parse_head(head: bytes) -> tuple[int, int, bool]:
    """(status, content length, server closes) from an HTTP/1.1 response head."""
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    closing = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and value.strip().lower() == b"close":
            closing = True
    return status, length, closing


async def _drive(servers: list[Server], refs: list[str], clients: int, warmup: float,
                 seconds: float, profile: Path | None, profile_mode: str) -> Load:  # fmt: skip
    """`clients` connections dealt round the servers; the first server is profiled."""
    load = Load()
    requests = Requests(refs)
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + seconds
    tasks = [
        asyncio.create_task(
            _client(servers[n % len(servers)].port, requests, load, measure_from, stop_at)
        )
        for n in range(clients)
    ]
    await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
    spy = _start_profiler(servers[0], seconds, profile, profile_mode) if profile else None

    def server_cpu() -> float:
        return sum(server.cpu_seconds() for server in servers)

    cpu0, server0, t0 = time.process_time(), server_cpu(), time.perf_counter()
    await asyncio.sleep(max(0.0, stop_at - time.perf_counter()))
    cpu1, server1, t1 = time.process_time(), server_cpu(), time.perf_counter()
    async with asyncio.timeout(REQUEST_TIMEOUT + 10):
        await asyncio.gather(*tasks)
    if spy is not None:
        spy.wait(timeout=60)
    load.window_seconds = seconds
    load.client_cpu = (cpu1 - cpu0) / (t1 - t0)
    load.server_cpu = (server1 - server0) / (t1 - t0)
    return load


def _run_load(servers: list[Server], refs: list[str], clients: int, args: argparse.Namespace,
              profile: Path | None) -> Load:  # fmt: skip
    coro = _drive(servers, refs, clients, args.warmup, args.seconds, profile,
                  args.profile_mode)  # fmt: skip
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


# --------------------------------------------------------------------------- profiling


def _start_profiler(
    server: Server, seconds: float, out: Path, mode: str
) -> subprocess.Popen[bytes] | None:
    """py-spy on the server for the measured window (`pip install py-spy` into the venv)."""
    spy = Path(sys.executable).parent / "py-spy"
    if not spy.exists():
        print("py-spy not installed in this environment; no profile taken", file=sys.stderr)
        return None
    out.mkdir(parents=True, exist_ok=True)
    command = [str(spy), "record", "--pid", str(server.process.pid), "--rate", "250"]
    command += ["--duration", str(max(1, int(seconds))), "--format", "raw", "--nonblocking"]
    command += ["--output", str(out / f"{server.kind}.txt")]
    command += {"gil": ["--gil"], "idle": ["--idle"]}.get(mode, [])
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def summarize_profile(path: Path, top: int = 25) -> str:
    """Top functions by own samples and by inclusive samples, from py-spy's raw stacks."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    if not total:
        return f"{path}: no samples"
    out = [f"{path.name}: {total} samples", "  own time:"]
    out += [f"    {100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    out.append("  inclusive:")
    out += [f"    {100 * n / total:5.1f}%  {frame}" for frame, n in inclusive.most_common(top)]
    return "\n".join(out)


# --------------------------------------------------------------------------- databases


def _sqlite_path(url: str) -> str:
    return url.split("///", 1)[1]


def seed_pesadesk(url: str, webhook_endpoints: int = 0) -> list[str]:
    """Migrate, then customers and invoices for the confirmations to land on, and
    `webhook_endpoints` endpoints taking every event (so each callback queues deliveries;
    nothing is sent without `--background`)."""
    from pesadesk.core.clock import SystemClock
    from pesadesk.db.migrate import upgrade
    from pesadesk.db.session import Database
    from pesadesk.receivables.customers import NewCustomer, create_customer
    from pesadesk.receivables.invoices import NewInvoice, create_invoice

    db = Database(url)
    clock = SystemClock()
    refs: list[str] = []
    try:
        upgrade(db)
        with db.write() as session:
            for c in range(SEED_CUSTOMERS):
                customer = create_customer(
                    session, new=NewCustomer(name=f"Bench Customer {c}"), clock=clock
                )
                for _ in range(SEED_INVOICES // SEED_CUSTOMERS):
                    invoice, _ = create_invoice(
                        session,
                        new=NewInvoice(customer.customer_id, INVOICE_CENTS, "benchmark"),
                        clock=clock,
                    )
                    refs.append(invoice.invoice_id)
        _seed_endpoints(db, webhook_endpoints)
    finally:
        db.dispose()
    return refs


def _seed_endpoints(db: Any, count: int) -> None:
    from pesadesk.core.clock import SystemClock
    from pesadesk.core.statuses import Role
    from pesadesk.events import endpoints
    from pesadesk.shared.apikeys import Principal

    who = Principal(name="bench", role=Role.ADMIN, key_id=None, owner="bench")
    for n in range(count):
        endpoints.create(db, url=f"http://127.0.0.1:9/hooks/{n}", events=["*"], actor=who,
                         clock=SystemClock())  # fmt: skip


def seed_floor(backend: str, url: str) -> None:
    if backend == "sqlite":
        with contextlib.closing(sqlite3.connect(_sqlite_path(url))) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(FLOOR_SCHEMA["sqlite"])
            conn.commit()
        return
    with psycopg.connect(libpq_url(url)) as conn:
        conn.execute(FLOOR_SCHEMA["postgres"])


def verify_pesadesk(url: str, load: Load) -> tuple[list[str], str]:
    """Every 200 is exactly one c2b payment, placed; every request sent is logged once."""
    from sqlalchemy import func, select

    from pesadesk.db.models import Payment, WebhookLog
    from pesadesk.db.session import Database
    from pesadesk.ledger.verify import verify

    db = Database(url)
    problems: list[str] = []
    try:
        with db.read() as session:
            receipts = list(
                session.execute(select(Payment.receipt).where(Payment.source == "c2b")).scalars()
            )
            logs = session.execute(select(func.count()).select_from(WebhookLog)).scalar_one()
            unprocessed = session.execute(
                select(func.count()).where(WebhookLog.processed.is_(False))
            ).scalar_one()
            not_placed = session.execute(
                select(func.count()).where(Payment.source == "c2b", Payment.invoice_pk.is_(None))
            ).scalar_one()
            ledger = verify(session)
    finally:
        db.dispose()
    problems += _compare(receipts, load)
    if logs != load.sent:
        problems.append(f"webhook_logs has {logs} rows for {load.sent} requests sent")
    if unprocessed:
        problems.append(f"{unprocessed} webhook_logs rows were never processed")
    if not_placed:
        problems.append(f"{not_placed} payments did not land on an invoice")
    problems += [f"ledger: {p}" for p in ledger.problems[:5]]
    note = (
        f"payments(c2b)={len(receipts)} acked={len(load.acked)} webhook_logs={logs} "
        f"sent={load.sent} unprocessed={unprocessed} unplaced={not_placed} "
        f"ledger={'ok' if ledger.ok else 'BAD'}"
    )
    return problems, note


def verify_floor(backend: str, url: str, load: Load) -> tuple[list[str], str]:
    if backend == "sqlite":
        with contextlib.closing(sqlite3.connect(_sqlite_path(url))) as conn:
            trans_ids = [row[0] for row in conn.execute("SELECT trans_id FROM floor")]
    else:
        with psycopg.connect(libpq_url(url)) as conn:
            trans_ids = [row[0] for row in conn.execute("SELECT trans_id FROM floor")]
    return _compare(trans_ids, load), f"rows={len(trans_ids)} acked={len(load.acked)}"


def _compare(stored: list[str | None], load: Load) -> list[str]:
    problems: list[str] = []
    acked = set(load.acked)
    kept = Counter(stored)
    doubled = [t for t, n in kept.items() if n > 1]
    lost = acked - set(kept)
    if doubled:
        problems.append(f"{len(doubled)} TransIDs stored more than once, e.g. {doubled[:3]}")
    if lost:
        problems.append(
            f"LOST: {len(lost)} acknowledged TransIDs not stored, e.g. {sorted(lost)[:3]}"
        )
    if len(acked) != len(load.acked):
        problems.append("a TransID was acknowledged twice (the generator repeated one)")
    if load.unanswered:
        problems.append(f"{len(load.unanswered)} requests got no answer")
    bad = {s: n for s, n in load.statuses.items() if s != 200}
    if bad:
        problems.append(f"non-200 answers: {bad}")
    return problems


# --------------------------------------------------------------------------- the run


def _counts(text: str) -> list[int]:
    """`16,64` -> [16, 64]: connection counts, each at least 1."""
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("client counts must be 1 or more")
    return counts


@dataclass
class Result:
    backend: str
    server: str
    clients: int
    servers: int
    load: Load
    problems: list[str]
    note: str
    log_errors: list[str]

    @property
    def rate(self) -> float:
        return self.load.window_ok / self.load.window_seconds

    def percentile(self, q: float) -> float:
        """Nearest-rank percentile of the measured latencies, in milliseconds."""
        values = sorted(self.load.latencies)
        if not values:
            return float("nan")
        rank = max(0, min(len(values) - 1, math.ceil(q * len(values)) - 1))
        return 1000 * values[rank]


# Server log lines worth printing: errors, and warnings such as a batch rolled back.
_NOTEWORTHY = ("Traceback", '"level": "error"', '"level": "warning"', "ERROR", "failed")


def measure(backend: str, kind: str, url: str, refs: list[str], workdir: Path,
            args: argparse.Namespace, clients: int, servers: int = 1) -> Result:  # fmt: skip
    pool = min(clients, 20)
    profile = (
        Path(args.profile) / f"{backend}-{clients}-{servers}"
        if args.profile and kind == "pesadesk"
        else None
    )
    with running_servers(
        kind, url, workdir, pool, args.background, servers, args.ingest_threads
    ) as running:
        load = _run_load(running, refs, clients, args, profile)
    lines = [line for server in running for line in server.log_lines()]
    log_errors = [
        line
        for line in lines
        if any(
            w in line
            for w in ("Traceback", '"level": "error"', "ERROR", "failed", "redone", "warning")
        )
    ]
    if kind == "pesadesk":
        problems, note = verify_pesadesk(url, load)
    else:
        problems, note = verify_floor(backend, url, load)
    return Result(backend, kind, clients, servers, load, problems, note, log_errors)


def run_backend(backend: str, args: argparse.Namespace) -> Iterator[Result]:
    """Floor then pesadesk, each on a fresh database, at each client count; then (on
    PostgreSQL, with `--servers N`) pesadesk as N processes at the largest count."""
    runs = [(clients, 1) for clients in args.clients]
    if backend == "postgres" and args.servers > 1:
        runs.append((max(args.clients), args.servers))
    with tempfile.TemporaryDirectory(prefix=f"pesadesk-bench-{backend}-") as tmp:
        workdir = Path(tmp)
        for clients, servers in runs:
            if servers == 1:
                with fresh_database(backend, workdir, "floor", args.pg_url) as floor_url:
                    seed_floor(backend, floor_url)
                    yield measure(backend, "floor", floor_url, [], workdir, args, clients)
            with fresh_database(backend, workdir, "pesadesk", args.pg_url) as url:
                refs = seed_pesadesk(url, args.webhook_endpoints)
                yield measure(backend, "pesadesk", url, refs, workdir, args, clients, servers)


def _mark(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def report(results: list[Result]) -> str:
    out = [
        f"{'backend':<9}{'server':<10}{'procs':>6}{'clients':>8}{'req/s':>8}{'p50 ms':>8}"
        f"{'p99 ms':>8}{'max ms':>8}{'sent':>8}{'errors':>7}{'srv CPU':>9}{'gen CPU':>9}",
    ]
    for r in results:
        errors = len(r.load.unanswered) + sum(n for s, n in r.load.statuses.items() if s != 200)
        out.append(
            f"{r.backend:<9}{r.server:<10}{r.servers:>6}{r.clients:>8}{r.rate:>8.0f}"
            f"{r.percentile(0.50):>8.1f}{r.percentile(0.99):>8.1f}"
            f"{1000 * max(r.load.latencies, default=0):>8.1f}{r.load.sent:>8}{errors:>7}"
            f"{100 * r.load.server_cpu:>8.0f}%{100 * r.load.client_cpu:>8.0f}%"
        )
    by = {(r.backend, r.server, r.clients, r.servers): r for r in results}
    for backend in ("sqlite", "postgres"):
        counts = sorted({r.clients for r in results if r.backend == backend})
        if not counts:
            continue
        out += ["", f"{backend}: clients  pesadesk/s   p99 ms   floor/s  share"]
        checks: list[str] = []
        for clients in counts:
            mine = by.get((backend, "pesadesk", clients, 1))
            floor = by.get((backend, "floor", clients, 1))
            if mine is None or floor is None:
                continue
            ratio = mine.rate / floor.rate if floor.rate else float("nan")
            p99 = mine.percentile(0.99)
            out.append(
                f"{'':>10}{clients:>7}{mine.rate:>12.0f}{p99:>9.1f}{floor.rate:>10.0f}"
                f"{100 * ratio:>6.0f}%"
            )
            if clients >= 16:
                checks.append(
                    f"  {_mark(ratio >= TARGET_RATIO[backend])}  >= "
                    f"{100 * TARGET_RATIO[backend]:.0f}% of the floor at {clients} clients: "
                    f"{100 * ratio:.0f}%"
                )
                checks.append(
                    f"  {_mark(mine.rate >= TARGET_RATE[backend])}  >= "
                    f"{TARGET_RATE[backend]:.0f}/s at {clients} clients: {mine.rate:.0f}/s"
                )
            if clients == TARGET_P99_CLIENTS:
                checks.append(
                    f"  {_mark(p99 < TARGET_P99_MS)}  p99 < {TARGET_P99_MS:.0f} ms at "
                    f"{clients} clients: {p99:.1f} ms"
                )
        out += checks
        several = [r for r in results if r.backend == backend and r.servers > 1]
        for r in several:
            one = by.get((backend, "pesadesk", r.clients, 1))
            if one is not None and one.rate:
                out.append(
                    f"  {r.servers} pesadesk processes at {r.clients} clients: {r.rate:.0f}/s, "
                    f"{r.rate / one.rate:.2f}x one process ({one.rate:.0f}/s), "
                    f"p99 {r.percentile(0.99):.1f} ms"
                )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--clients",
        type=_counts,
        default=_counts(DEFAULT_CLIENTS),
        help=f"connections, or several comma-separated (default {DEFAULT_CLIENTS})",
    )
    parser.add_argument(
        "--servers",
        type=int,
        default=1,
        help="PostgreSQL: also run N pesadesk processes on one database (largest count)",
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--profile", metavar="DIR", help="py-spy the pesadesk server into DIR")
    parser.add_argument(
        "--profile-mode",
        choices=["gil", "active", "idle"],
        default="gil",
        help="py-spy samples: threads holding the GIL (CPU), not idle, or all",
    )
    parser.add_argument(
        "--background",
        action="store_true",
        help="run pesadesk's periodic tasks too (its outbox worker may try to reach Daraja)",
    )
    parser.add_argument(
        "--ingest-threads",
        type=int,
        help="pesadesk's ingest writer threads (default: 1 on SQLite, 4 on PostgreSQL)",
    )
    parser.add_argument(
        "--webhook-endpoints",
        type=int,
        default=0,
        metavar="N",
        help="seed N webhook endpoints taking every event (deliveries queued, not sent)",
    )
    parser.add_argument("--serve", choices=["pesadesk", "floor"], help=argparse.SUPPRESS)
    parser.add_argument("--db-url", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--pool", type=int, default=16, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.db_url, args.port, args.pool, args.background, args.ingest_threads)
        return 0
    if args.seconds <= 0 or args.warmup < 0 or args.servers < 1:
        parser.error("--seconds > 0, --warmup >= 0, --servers >= 1")

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
        f"C2B confirmations, {','.join(map(str, args.clients))} keep-alive clients, "
        f"{args.warmup:g} s warm-up + "
        f"{args.seconds:g} s measured, uvicorn (1 worker) on 127.0.0.1, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.2f} (others' work skews the figures)"
    )
    results: list[Result] = []
    for backend in backends:
        for result in run_backend(backend, args):
            results.append(result)
            print(
                f"  {backend:<8} {result.server:<8} x{result.servers} {result.clients:>3} clients "
                f"{result.rate:6.0f} req/s  {result.note}"
            )
            for line in result.log_errors[:5]:
                print(f"    server log: {line[:200]}")
            for problem in result.problems:
                print(f"    PROBLEM: {problem}")
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}\n")
    print(report(results))
    if args.profile:
        for path in sorted(Path(args.profile).glob("*/pesadesk.txt")):
            print(f"\n{path.parent.name} (backend-clients-processes)")
            print()
            print(summarize_profile(path))
    failed = [r for r in results if r.problems]
    if failed:
        print(f"\nFAILED: {len(failed)} run(s) lost data or got errors (see PROBLEM lines)")
        return 1
    return 0


if __name__ == "__main__":
    if __package__ in (None, ""):
        sys.path.insert(0, str(ROOT))  # `python benchmarks/ingest.py` as well as `-m`
    sys.exit(main())
