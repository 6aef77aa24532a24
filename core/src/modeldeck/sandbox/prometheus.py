"""Model Studio's monitoring, emulated: Prometheus `query_range` over the usage the sandbox meters.

The real account's Prometheus instance (advanced monitoring) answers `/api/v1/query_range` with
HTTP Basic auth of an AccessKey id and secret (not the DashScope key). Its series include
`model_usage{workspace_id, model, usage_type, ...}`. The sandbox serves, under `/prometheus`, the
one query modeldeck's planner sends:

    sum by (usage_type) (increase(model_usage{model="<Model Code>"[, workspace_id="<id>"]}[60s]))

The value at evaluation time t is the tokens of the minute that ends at t. Minutes without
calls have no sample, as a counter with no increase in the window would show nothing here.
Other queries get Prometheus' `bad_data` error. Like Prometheus, it refuses more than 11,000
points per series.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import math
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from modeldeck.sandbox.engine import Sandbox

# The sandbox account's AccessKey pair (override with app.state.prometheus_access_keys).
DEFAULT_ACCESS_KEY_ID = "LTAI5tSandboxMonitoring"
DEFAULT_ACCESS_KEY_SECRET = "sandbox-monitoring-secret"  # a fixed sandbox credential
MAX_POINTS = 11_000
USAGE_TYPES = ("input_tokens", "output_tokens")
_QUERY = re.compile(
    r"^\s*sum\s+by\s*\(\s*usage_type\s*\)\s*\(\s*increase\s*\(\s*model_usage\s*"
    r"\{(?P<labels>[^}]*)\}\s*\[\s*(?P<window>\d+)(?P<unit>[sm])\s*\]\s*\)\s*\)\s*$"
)
_LABEL = re.compile(r'^\s*(?P<name>[a-z_]+)\s*=\s*"(?P<value>[^"]*)"\s*$')


def _error(status: int, kind: str, message: str) -> JSONResponse:
    return JSONResponse({"status": "error", "errorType": kind, "error": message}, status)


def _authorised(request: Request) -> bool:
    keys: dict[str, str] = getattr(
        request.app.state,
        "prometheus_access_keys",
        {DEFAULT_ACCESS_KEY_ID: DEFAULT_ACCESS_KEY_SECRET},
    )
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        key_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    expected = keys.get(key_id)
    return expected is not None and hmac.compare_digest(expected.encode(), secret.encode())


def _number(params: dict[str, str], name: str) -> float:
    raw = params.get(name)
    if raw is None:
        raise ValueError(f'missing parameter "{name}"')
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(
            f'invalid parameter "{name}": cannot parse "{raw}" to a valid timestamp'
        ) from None
    if not math.isfinite(value):
        raise ValueError(f'invalid parameter "{name}": not a finite number')
    return value


def _labels(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in filter(str.strip, text.split(",")):
        match = _LABEL.match(part)
        if match is None:
            raise ValueError(f'unsupported label matcher {part.strip()!r} (only name="value")')
        out[match.group("name")] = match.group("value")
    return out


def query_range(sandbox: Sandbox, params: dict[str, str]) -> dict[str, Any]:
    """The `data` of a query_range answer; ValueError (bad_data) for what it can't answer."""
    match = _QUERY.match(params.get("query", ""))
    if match is None:
        raise ValueError(
            "the sandbox answers only: sum by (usage_type) "
            '(increase(model_usage{model="<Model Code>"}[60s]))'
        )
    labels = _labels(match.group("labels"))
    model = labels.pop("model", None)
    workspace = labels.pop("workspace_id", None)
    if model is None or labels:
        raise ValueError("select model_usage by model (and optionally workspace_id) only")
    window = int(match.group("window")) * (60 if match.group("unit") == "m" else 1)
    start, end, step = _number(params, "start"), _number(params, "end"), _number(params, "step")
    if step <= 0:
        raise ValueError("zero or negative query resolution step widths are not accepted")
    if end < start:
        raise ValueError("end timestamp must not be before start time")
    if (end - start) / step + 1 > MAX_POINTS:
        raise ValueError(
            f"exceeded maximum resolution of {MAX_POINTS:,} points per timeseries. "
            "Try decreasing the query resolution (?step=XX)"
        )
    minutes: dict[float, list[int]] = {}  # minute start -> tokens by usage type
    with sandbox.meter.lock:
        for (ws, code), by_minute in sandbox.meter.usage.items():
            if code != model or (workspace is not None and ws != workspace):
                continue
            for row in by_minute.values():
                sums = minutes.setdefault(row.minute, [0] * len(USAGE_TYPES))
                for j, usage_type in enumerate(USAGE_TYPES):
                    sums[j] += getattr(row, usage_type)
    series: dict[str, list[list[Any]]] = {u: [] for u in USAGE_TYPES}
    for i in range(int((end - start) // step) + 1):
        t = start + i * step
        # the minutes wholly inside (t - window, t]: those starting at t - window .. t - 60
        first = math.ceil((t - window) / 60) * 60
        inside = [minutes[m] for m in range(int(first), int(t) - 59, 60) if m in minutes]
        if not inside:
            continue
        for j, usage_type in enumerate(USAGE_TYPES):
            series[usage_type].append([t, str(sum(row[j] for row in inside))])
    result = [
        {"metric": {"usage_type": u}, "values": values} for u, values in series.items() if values
    ]
    return {"resultType": "matrix", "result": result}


async def _endpoint(request: Request) -> Response:
    if not _authorised(request):
        return Response("Unauthorized", 401, headers={"WWW-Authenticate": 'Basic realm="cms"'})
    params = dict(request.query_params)
    if request.method == "POST":
        params.update({k: v for k, v in (await request.form()).items() if isinstance(v, str)})
    try:
        data = query_range(request.app.state.sandbox, params)
    except ValueError as exc:
        return _error(400, "bad_data", str(exc))
    return JSONResponse({"status": "success", "data": data})


def prometheus_routes() -> list[Route]:
    """The monitoring routes, mounted by the sandbox app under /prometheus."""
    return [Route("/prometheus/api/v1/query_range", _endpoint, methods=["GET", "POST"])]
