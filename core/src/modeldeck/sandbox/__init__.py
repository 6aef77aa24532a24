"""A local emulator of Model Studio over HTTP: the embedded default and our contract test.

``create_app(SandboxConfig(...))`` gives an ASGI app (serve it with
``modeldeck.serving.ServerThread`` in tests); ``run_sandbox(config, host, port)`` blocks serving it.
The app's :class:`Sandbox` (``app.state.sandbox``) exposes the clock, faults and usage to tests.
"""

from modeldeck.sandbox.app import create_app, run_sandbox
from modeldeck.sandbox.catalog import SEED_MODELS, SandboxModel
from modeldeck.sandbox.config import FaultRule, SandboxConfig, SandboxMember
from modeldeck.sandbox.engine import Sandbox, SandboxError, prepaid_expiry
from modeldeck.sandbox.inference import OVERFLOW_HEADER, count_tokens, prompt_tokens

__all__ = [
    "OVERFLOW_HEADER",
    "SEED_MODELS",
    "FaultRule",
    "Sandbox",
    "SandboxConfig",
    "SandboxError",
    "SandboxMember",
    "SandboxModel",
    "count_tokens",
    "create_app",
    "prepaid_expiry",
    "prompt_tokens",
    "run_sandbox",
]
