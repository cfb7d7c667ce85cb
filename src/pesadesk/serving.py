"""Serving ASGI apps: `listen` + `serve_on` for `pesadesk serve` and the demo (the port is
taken before any slow start-up work, so a busy port is one clear error, and the address is
announced only once the server accepts), and `serve_in_thread` for the demo's emulator
and WhatsApp stand-in and the tests' servers."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to host:port and listening (port 0: any free one), as uvicorn would
    bind it (IPv6 when the host has a colon).

    Raises OSError (EADDRINUSE for a busy port, gaierror for a host that does not resolve).
    Clients that connect before the server starts wait in the backlog.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


def socket_url(sock: socket.socket) -> str:
    """`http://HOST:PORT` of a listening socket, as a browser would write it."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class _AnnouncingServer(uvicorn.Server):
    """uvicorn, calling `on_started` once every socket accepts connections."""

    def __init__(self, config: uvicorn.Config, on_started: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_started = on_started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and not self.should_exit:
            self._on_started()


def serve_on(sock: socket.socket, app: Any, *, on_started: Callable[[], None]) -> None:
    """Serve `app` on a socket from `listen` until SIGINT/SIGTERM; blocks."""
    # proxy_headers off: only `security.trust_forwarded_for` decides who the client is
    config = uvicorn.Config(app, log_level="warning", proxy_headers=False)
    try:
        _AnnouncingServer(config, on_started).run(sockets=[sock])
    finally:
        sock.close()


@contextlib.contextmanager
def serve_in_thread(app: Any, *, port: int | None = None) -> Iterator[str]:
    """Run an ASGI app under uvicorn on loopback in a daemon thread; yields its base URL.

    The socket is bound here, before the server starts, so no other process can take the
    port in between (`port=None`: any free one).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port or 0))
    bound = sock.getsockname()[1]
    config = uvicorn.Config(
        app, host="127.0.0.1", port=bound, log_level="error", lifespan="on",
        proxy_headers=False, access_log=False, ws="none", http="h11",
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=lambda: asyncio.run(server.serve(sockets=[sock])),
        name=f"uvicorn-{bound}",
        daemon=True,
    )
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{bound}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
