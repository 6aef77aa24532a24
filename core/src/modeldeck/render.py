"""Plain-text renderings of every result: the core's `text` renderers (same words everywhere).

Also the row builders (`deployment_rows`, `request_rows`, `model_rows`, `cost_rows`) the CLI's
rich tables draw from, so a table and its text say the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from modeldeck.budgets.effect_text import effect_lines
from modeldeck.domain import DeploymentRecord, RequestRecord
from modeldeck.money import format_amount
from modeldeck.timeutil import iso, to_beijing

if TYPE_CHECKING:
    from modeldeck.billing.accrual import AccrualLine
    from modeldeck.results import CatalogRow
    from modeldeck.workflow.costs import CostReport

LINE_KIND_WORDS = {
    "reserved": "reserved capacity",
    "upfront_order": "upfront order",
    "refund": "refund",
    "overflow": "overflow tokens",
}
"""What each kind of cost line is called, on every surface."""


def line_kind(kind: str) -> str:
    """A cost line's kind in words (an unknown kind as it is)."""
    return LINE_KIND_WORDS.get(kind, kind)


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
    """The deployment's capacity in words (kept for callers; see `DeploymentRecord.capacity`)."""
    return dep.capacity


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
            d.capacity,
            d.status
            + (" (imported)" if d.imported else "")
            + (" PRICE UNKNOWN" if d.price_note else ""),
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
        f"  capacity: {dep.capacity}",
        f"  status:   {dep.status}" + ("  [imported from the console]" if dep.imported else ""),
        f"  created:  {iso(to_beijing(dep.created_at))}",
        f"  updated:  {iso(to_beijing(dep.updated_at))}",
    ]
    if dep.rpm_limit or dep.tpm_limit:
        lines.append(f"  limits:   rpm {dep.rpm_limit or '-'}, tpm {dep.tpm_limit or '-'}")
    if dep.price_note:
        lines.append(f"  PRICE UNKNOWN: {dep.price_note}")
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
        if req.schedule is not None and est.notes:  # approved once, for its maximum cost
            lines.append(f"  {est.notes[0]}")
    lines.append(f"  policy: {req.policy.rule}")
    lines.extend(f"  budget {line}" for line in effect_lines(req))
    status = req.status.value
    if req.status == "pending":
        status += f" - needs {req.approvals_remaining} more approval(s)"
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


def model_rows(rows: Sequence[CatalogRow]) -> Rows:
    """Headers and cells of the catalog table; unlisted prices say so (never $0)."""
    headers = ("model", "mode", "plan", "billing", "price", "amount", "unit")
    out = [
        (
            r.model,
            r.mode,
            r.plan,
            r.billing or "",
            r.price,
            format_amount(r.amount, r.currency, exact=True)
            if r.amount is not None
            else "not listed",
            r.unit or "",
        )
        for r in rows
    ]
    return headers, out


def models_text(rows: Sequence[CatalogRow]) -> str:
    return table(*model_rows(rows))


def line_amount(line: AccrualLine, currency: str = "USD") -> str:
    """A cost line's amount as every surface shows it: `PRICE NOT LISTED` when unpriced."""
    if not line.price_known:
        return "PRICE NOT LISTED"
    return format_amount(line.amount, line.currency or currency)


def line_detail(line: AccrualLine) -> str:
    """A cost line's description, with the override to set when its price is not listed."""
    if line.price_known or not line.override:
        return line.description
    return f"{line.description}. {line.override}"


def cost_rows(report: CostReport) -> Rows:
    """deployment | item | detail | amount for each line (a row saying so when nothing billed)."""
    rows: list[tuple[Any, ...]] = []
    for dep in report.deployments:
        name = dep.deployed_model or dep.id
        if not dep.lines:
            rows.append((name, "-", "nothing billed in this period", format_amount(Decimal(0))))
        for line in dep.lines:
            rows.append((name, line_kind(line.kind), line_detail(line), line_amount(line)))
        if dep.price_note and all(line.price_known for line in dep.lines):
            rows.append((name, "-", dep.price_note, "PRICE NOT LISTED"))
    return ("deployment", "item", "detail", "amount"), rows


def cost_scope(report: CostReport) -> str:
    """Who a cost report is about, in words."""
    return "all deployments" if report.target in ("", "all") else report.target


def cost_heading(report: CostReport) -> str:
    period = report.period
    return f"Spend {iso(period.start)} .. {iso(period.end)} (Beijing time), {cost_scope(report)}:"


def cost_text(report: CostReport) -> str:
    headers, rows = cost_rows(report)
    body = table(headers, rows) if rows else "No deployments."
    total = format_amount(report.total, report.currency)
    unpriced = report.unpriced_lines
    if unpriced:
        total += (
            f" (excludes {unpriced} line(s) whose price is not listed; set the override shown "
            "to price them)"
        )
    return f"{cost_heading(report)}\n{body}\nTotal: {total}"


def status_text(
    dep: DeploymentRecord,
    cost_so_far: Decimal,
    currency: str,
    unpriced: Sequence[str] = (),
) -> str:
    so_far = format_amount(cost_so_far, currency)
    incomplete = bool(unpriced) or dep.price_note is not None
    unknown = " — INCOMPLETE: a price is not listed" if incomplete else ""
    lines = [
        deployment_text(dep),
        f"  cost so far: {so_far} (since creation, metered overflow included){unknown}",
    ]
    lines += [f"  NOT IN THE TOTAL: {item}" for item in unpriced]
    return "\n".join(lines)
