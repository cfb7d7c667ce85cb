"""A business's webhook receiver for the tests: a real HTTP server that keeps every
request, answers by a script (e.g. 500, 500, then 200), and can be slow."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pesadesk.testing import serve_in_thread


@dataclass(frozen=True)
class Hit:
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Receiver:
    url: str = ""
    hits: list[Hit] = field(default_factory=list)
    plan: list[int] = field(default_factory=list)  # statuses to answer first, then 200
    delay: float = 0.0  # seconds to take over each answer
    arrived: int = 0  # requests that came in, answered or not yet
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def _endpoint(self, request: Request) -> Response:
        body = await request.body()
        with self.lock:
            self.arrived += 1
        waited = 0.0
        while waited < self.delay and not self.stop.is_set():
            await asyncio.sleep(0.05)
            waited += 0.05
        with self.lock:
            status = self.plan.pop(0) if self.plan else 200
            self.hits.append(Hit(dict(request.headers), body, status))
        return Response(b"ok" if status < 300 else b"nope", status_code=status)

    def accepted(self) -> list[Hit]:
        with self.lock:
            return [h for h in self.hits if 200 <= h.status < 300]

    def all(self) -> list[Hit]:
        with self.lock:
            return list(self.hits)

    def wait_accepted(self, count: int, timeout: float = 15.0) -> list[Hit]:
        deadline = time.monotonic() + timeout
        while len(self.accepted()) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} deliveries, got {len(self.accepted())}")
            time.sleep(0.02)
        return self.accepted()


@contextmanager
def receiver(*, plan: list[int] | None = None, delay: float = 0.0) -> Iterator[Receiver]:
    """A receiver on a free loopback port for the `with` block."""
    found = Receiver(plan=list(plan or []), delay=delay)
    app = Starlette(routes=[Route("/hooks", found._endpoint, methods=["POST"])])
    with serve_in_thread(app) as base_url:
        found.url = f"{base_url}/hooks"
        try:
            yield found
        finally:
            found.stop.set()
