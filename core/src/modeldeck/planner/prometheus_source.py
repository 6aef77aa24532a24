"""Traces from Model Studio's monitoring: the account's Prometheus `query_range` for `model_usage`.

With advanced monitoring on, the account's own Prometheus instance (address from the console)
answers `/api/v1/query_range` with HTTP Basic auth of an AccessKey id and secret (not the
DashScope key). The client asks, per minute, for
`sum by (usage_type) (increase(model_usage{model="…"}[60s]))`. The value at time t is the tokens
of the minute ending at t. A minute with no sample had no traffic. Prometheus extrapolates
`increase`, so values are rounded to whole tokens. Long periods are fetched in chunks under
Prometheus' 11,000-points-per-series limit. Decisions: docs/planner.md.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import httpx
from pydantic import SecretStr

from modeldeck.errors import ModeldeckRuntimeError, UserError
from modeldeck.planner.trace import MINUTE, Trace, TraceError

STEP_SECONDS = 60
CHUNK_POINTS = 10_000
MAX_MINUTES = 31 * 24 * 60
USAGE_TYPES = {"input_tokens": 0, "output_tokens": 1}


def usage_query(model: str, workspace_id: str | None = None) -> str:
    """The PromQL modeldeck sends: one model's tokens per minute, by usage type."""
    labels = [f'model="{_escape(model)}"']
    if workspace_id:
        labels.append(f'workspace_id="{_escape(workspace_id)}"')
    return f"sum by (usage_type) (increase(model_usage{{{', '.join(labels)}}}[60s]))"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _minute(name: str, at: datetime, *, up: bool) -> datetime:
    if not isinstance(at, datetime) or at.tzinfo is None:
        raise TraceError(
            "from monitoring",
            [f"{name} {at!r} is not a timezone-aware time"],
            hint="Give the period with an offset, e.g. 2026-03-01T00:00+08:00.",
        )
    utc = at.astimezone(UTC)
    floor = utc.replace(second=0, microsecond=0)
    return floor + MINUTE if up and floor < utc else floor


class PrometheusUsage:
    """A client of the account's monitoring Prometheus, reading per-minute usage traces."""

    def __init__(
        self,
        base_url: str,
        access_key_id: str,
        access_key_secret: SecretStr | str,
        *,
        workspace_id: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        secret = (
            access_key_secret
            if isinstance(access_key_secret, SecretStr)
            else SecretStr(access_key_secret)
        )
        self.base_url = base_url.rstrip("/")
        self.workspace_id = workspace_id
        self._key_id = access_key_id
        self._http = httpx.Client(
            auth=httpx.BasicAuth(access_key_id, secret.get_secret_value()),
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PrometheusUsage:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _get(self, params: dict[str, str]) -> dict[str, Any]:
        url = f"{self.base_url}/api/v1/query_range"
        try:
            response = self._http.get(url, params=params)
        except httpx.HTTPError as exc:
            raise ModeldeckRuntimeError(
                f"Could not reach the monitoring Prometheus at {httpx.URL(url).host}: "
                f"{type(exc).__name__}.",
                hint="Check the Prometheus address from the console and the network.",
            ) from None
        if response.status_code in (401, 403):
            shown = f"{self._key_id[:6]}…" if len(self._key_id) > 6 else self._key_id
            raise UserError(
                f"The monitoring Prometheus refused the AccessKey {shown} "
                f"(HTTP {response.status_code}).",
                hint="Use an AccessKey id and secret of the account (not the DashScope API key) "
                "with permission to read monitoring data.",
            )
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ModeldeckRuntimeError(
                f"The monitoring Prometheus answered HTTP {response.status_code} without JSON.",
                hint="Check that the address is the Prometheus instance's, ending before /api/v1.",
            )
        if body.get("status") != "success":
            if response.status_code >= 500:
                raise ModeldeckRuntimeError(
                    f"The monitoring Prometheus failed: {body.get('error', 'no reason given')}."
                )
            raise TraceError(
                "from monitoring",
                [f"Prometheus refused the query: {body.get('error', 'no reason given')}"],
                hint="modeldeck sends: " + params["query"],
            )
        data = body.get("data")
        return data if isinstance(data, dict) else {}

    def trace(self, model: str, since: datetime, until: datetime) -> Trace:
        """The per-minute usage of `model` (the deployment's Model Code) in [since, until)."""
        start = _minute("since", since, up=False)
        end = _minute("until", until, up=True)
        source = f"of {model} from monitoring"
        n = int((end - start) / MINUTE)
        if n <= 0:
            raise TraceError(source, ["the period is empty"], hint="Ask for a later until.")
        if n > MAX_MINUTES:
            raise TraceError(
                source,
                [f"the period is {n:,} minutes; monitoring keeps 30 days"],
                hint="Ask for at most 31 days.",
            )
        query = usage_query(model, self.workspace_id)
        first_t = int(start.timestamp()) + STEP_SECONDS  # the end of the first minute
        counts = [[0] * n, [0] * n]
        seen = [False] * n
        problems: list[str] = []
        for lo in range(0, n, CHUNK_POINTS):
            hi = min(n, lo + CHUNK_POINTS)
            data = self._get(
                {
                    "query": query,
                    "start": str(first_t + lo * STEP_SECONDS),
                    "end": str(first_t + (hi - 1) * STEP_SECONDS),
                    "step": str(STEP_SECONDS),
                }
            )
            self._read(data, first_t, n, counts, seen, problems)
        if problems:
            raise TraceError(
                source, problems, hint="The monitoring answer could not be read as usage."
            )
        return Trace(
            source=source,
            start=start,
            input_tokens=counts[0],
            output_tokens=counts[1],
            zero_filled_minutes=seen.count(False),
        )

    @staticmethod
    def _read(
        data: dict[str, Any],
        first_t: int,
        n: int,
        counts: list[list[int]],
        seen: list[bool],
        problems: list[str],
    ) -> None:
        if data.get("resultType") != "matrix":
            problems.append(f"the answer is a {data.get('resultType')!r}, not a matrix")
            return
        got: set[str] = set()
        for series in data.get("result") or []:
            usage_type = (series.get("metric") or {}).get("usage_type")
            if usage_type not in USAGE_TYPES:
                continue
            if usage_type in got:
                problems.append(
                    f"more than one {usage_type} series (mixed models or workspaces?): "
                    f"{series.get('metric')}"
                )
                continue
            got.add(usage_type)
            column = counts[USAGE_TYPES[usage_type]]
            for point in series.get("values") or []:
                try:
                    t, raw = float(point[0]), str(point[1])
                    value = Decimal(raw)
                except (TypeError, ValueError, IndexError, InvalidOperation):
                    problems.append(f"{usage_type}: unreadable sample {point!r}")
                    continue
                index = (t - first_t) / STEP_SECONDS
                if not math.isfinite(index) or index != int(index) or not 0 <= index < n:
                    problems.append(f"{usage_type}: sample at {t} is off the minute grid")
                    continue
                if not value.is_finite() or value < 0:
                    problems.append(
                        f"{usage_type}: {raw} tokens in the minute ending "
                        f"{datetime.fromtimestamp(t, UTC).isoformat()} (must be ≥ 0)"
                    )
                    continue
                column[int(index)] = int(value.to_integral_value(rounding=ROUND_HALF_UP))
                seen[int(index)] = True
