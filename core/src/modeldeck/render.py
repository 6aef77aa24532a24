"""Plain-text renderings shared by the CLI, Slack and the notebook (same words, same answers)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from modeldeck.domain import DeploymentRecord, RequestRecord
from modeldeck.money import format_amount
from modeldeck.timeutil import iso, to_beijing


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A fixed-width text table (monospace in Slack code blocks and terminals)."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def capacity(dep: DeploymentRecord) -> str:
    if dep.plan == "mu":
        return f"{dep.units or 0} unit(s)"
    return f"{dep.input_tpm or 0:,} in / {dep.output_tpm or 0:,} out TPM"


Rows = tuple[tuple[str, ...], list[tuple[Any, ...]]]


def deployment_rows(deps: Sequence[DeploymentRecord]) -> Rows:
    """Headers and cells of the deployments table (text here, rich in the CLI)."""
    headers = ("deployment", "model", "plan", "billing", "capacity", "status", "created")
    rows = [
        (
            d.deployed_model or d.id,
            d.model,
            d.plan,
            d.billing,
            capacity(d),
            d.status + (" (imported)" if d.imported else ""),
            iso(to_beijing(d.created_at)),
        )
        for d in deps
    ]
    return headers, rows


def deployments_text(deps: Sequence[DeploymentRecord]) -> str:
    if not deps:
        return "No deployments yet. Try `estimate` then `deploy`."
    return table(*deployment_rows(deps))


def deployment_text(dep: DeploymentRecord) -> str:
    lines = [
        f"{dep.deployed_model or dep.id}  ({dep.id})",
        f"  model:    {dep.model} ({dep.mode})",
        f"  plan:     {dep.plan}, billed {dep.billing}",
        f"  capacity: {capacity(dep)}",
        f"  status:   {dep.status}" + ("  [imported from the console]" if dep.imported else ""),
        f"  created:  {iso(to_beijing(dep.created_at))}",
        f"  updated:  {iso(to_beijing(dep.updated_at))}",
    ]
    if dep.rpm_limit or dep.tpm_limit:
        lines.append(f"  limits:   rpm {dep.rpm_limit or '-'}, tpm {dep.tpm_limit or '-'}")
    return "\n".join(lines)


def request_text(req: RequestRecord) -> str:
    lines = [
        f"Request {req.id}: {req.summary}",
        f"  requested by {req.requester} via {req.surface}",
    ]
    if req.reason:
        lines.append(f"  reason: {req.reason}")
    if req.estimate is not None:
        est = req.estimate
        per_day = (
            f", {format_amount(Decimal(est.per_day), est.currency)}/day" if est.per_day else ""
        )
        lines.append(
            f"  estimate: {format_amount(Decimal(est.total), est.currency)} ({est.period}){per_day}"
        )
    lines.append(f"  policy: {req.policy.rule}")
    status = req.status.value
    if status == "pending":
        got = len({d.principal for d in req.decisions if d.verdict == "approve"})
        status += f" - needs {req.policy.approvers_required - got} more approval(s)"
    lines.append(f"  status: {status}")
    if req.error:
        lines.append(f"  error: {req.error}")
    if req.deployment_id:
        lines.append(f"  deployment: {req.deployment_id}")
    return "\n".join(lines)


def request_rows(reqs: Sequence[RequestRecord]) -> Rows:
    """Headers and cells of the pending-requests table."""
    headers = ("request", "what", "requester", "estimate", "policy")
    rows = [
        (
            r.id,
            r.summary,
            r.requester,
            format_amount(Decimal(r.estimate.total), r.estimate.currency) if r.estimate else "-",
            r.policy.rule,
        )
        for r in reqs
    ]
    return headers, rows


def requests_text(reqs: Sequence[RequestRecord]) -> str:
    if not reqs:
        return "No requests are waiting for a decision."
    return table(*request_rows(reqs))


def model_rows(rows: Sequence[dict[str, Any]]) -> Rows:
    """Headers and cells of the catalog table; unlisted prices say so (never $0)."""
    headers = ("model", "mode", "plan", "billing", "price", "amount", "unit")
    out = []
    for r in rows:
        amount = r.get("amount")
        price = (
            format_amount(Decimal(str(amount)), str(r.get("currency", "USD")), exact=True)
            if amount is not None
            else "not listed"
        )
        out.append(
            (
                r.get("model"),
                r.get("mode"),
                r.get("plan"),
                r.get("billing") or "",
                r.get("price"),
                price,
                r.get("unit") or "",
            )
        )
    return headers, out


def models_text(rows: Sequence[dict[str, Any]]) -> str:
    return table(*model_rows(rows))
