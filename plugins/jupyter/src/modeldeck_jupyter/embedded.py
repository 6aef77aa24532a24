"""The embedded Model Studio sandbox for single-user notebooks, started in the kernel if needed.

In-process mode talks to the sandbox at `[sandbox] host:port`. If `modeldeck up` (or another
kernel) already serves it there, that one is used; otherwise this kernel starts one on that
address, with the same configuration `modeldeck up` would use, and keeps it for the kernel's life.
"""

from __future__ import annotations

import socket
import threading

from modeldeck.errors import ConfigError
from modeldeck.serving import ServerThread
from modeldeck.settings import Settings

_lock = threading.Lock()
_started: dict[tuple[str, int], ServerThread] = {}


def listening(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections on host:port right now."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def ensure_sandbox(settings: Settings) -> str:
    """Make sure the sandbox `settings` point at is served; say where it is and who runs it."""
    host, port = settings.sandbox.host, settings.sandbox.port
    url = f"http://{host}:{port}"
    with _lock:
        if (host, port) in _started:
            return f"embedded sandbox at {url}, started by this kernel"
        if listening(host, port):
            return f"sandbox at {url}"
        from modeldeck.sandbox import SandboxConfig, create_app

        settings.data_dir.mkdir(parents=True, exist_ok=True)
        server = ServerThread(create_app(SandboxConfig.from_settings(settings)), host, port)
        try:
            server.start()
        except (OSError, RuntimeError, TimeoutError) as exc:
            raise ConfigError(
                f"Could not start the embedded sandbox on {url} ({type(exc).__name__}).",
                hint="Run `modeldeck up`, or set MODELDECK_SANDBOX__PORT to a free port.",
            ) from None
        _started[(host, port)] = server
        return f"embedded sandbox at {url}, started by this kernel"


def stop_sandboxes() -> None:
    """Stop the sandboxes this process started (tests; a kernel simply exits)."""
    with _lock:
        for server in _started.values():
            server.stop()
        _started.clear()
