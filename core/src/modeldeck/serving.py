"""Run ASGI apps with uvicorn: on a background thread (tests, notebooks) or together (`up`)."""

from __future__ import annotations

import asyncio
import errno
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from types import TracebackType
from typing import Any

import uvicorn


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on `host` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class PortTaken(OSError):
    """`host:port` is already in use (or may not be bound by this user)."""

    def __init__(self, host: str, port: int, reason: str) -> None:
        super().__init__(f"{host}:{port} {reason}")
        self.host, self.port, self.reason = host, port, reason


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on `host:port`, bound now, so a taken port fails before anything
    says it is up; `PortTaken` names it. Port 0 picks a free one (see `getsockname()`)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        sock.bind((host.strip("[]"), port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortTaken(host, port, "is already in use") from None
        if exc.errno == errno.EACCES:
            raise PortTaken(host, port, "may not be bound by this user") from None
        raise PortTaken(host, port, f"cannot be bound ({exc.strerror or exc})") from None
    sock.set_inheritable(True)
    return sock


def bound_port(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


def make_server(app: Any, host: str, port: int, *, log_level: str = "warning") -> uvicorn.Server:
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, lifespan="on")
    return uvicorn.Server(config)


class ServerThread:
    """An ASGI app served by uvicorn on a background thread; a context manager.

    `url` is `http://host:port` once `start()` returns (it waits until the socket listens).
    """

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.server = make_server(app, self.host, self.port)
        self._thread = threading.Thread(target=self.server.run, daemon=True, name="uvicorn")

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"server on {self.url} exited during start-up")
            if time.monotonic() > deadline:
                raise TimeoutError(f"server on {self.url} did not start in {timeout} s")
            time.sleep(0.02)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self._thread.join(timeout)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


async def serve_bound(
    bound: Iterable[tuple[uvicorn.Server, socket.socket]],
    extra: Iterable[Awaitable[Any]] = (),
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Serve uvicorn servers on sockets bound beforehand; `on_ready` runs once every one of
    them has started (lifespan done, accepting), never before."""
    pairs = list(bound)
    tasks = [asyncio.ensure_future(server.serve(sockets=[sock])) for server, sock in pairs]
    tasks += [asyncio.ensure_future(task) for task in extra]

    async def announce() -> None:
        while not all(server.started for server, _ in pairs):
            if any(task.done() for task in tasks):
                return
            await asyncio.sleep(0.02)
        if on_ready is not None:
            on_ready()

    watcher = asyncio.ensure_future(announce())
    try:
        await asyncio.gather(*tasks)
    finally:
        watcher.cancel()
