"""Plain-text rendering of a PlanResult for the CLI, Slack and the notebook."""

from __future__ import annotations

from decimal import Decimal

from modeldeck.money import format_amount
from modeldeck.planner.result import OptionResult, PlanResult

_WORDS = {
    "payg": "pay-as-you-go (no reservation)",
    "hourly": "PTU hourly, constant capacity",
    "upfront": "PTU upfront daily package, constant capacity",
    "schedule": "PTU hourly on a schedule (capacity per Beijing hour)",
    "mu": "model units, hourly",
}


def _capacity(opt: OptionResult) -> str:
    if opt.option == "payg":
        return "no reservation"
    if opt.option == "mu":
        return f"{opt.units} unit(s) = {opt.input_tpm:,} input / {opt.output_tpm:,} output TPM"
    if opt.option == "schedule":
        return f"up to {opt.input_tpm:,} input / {opt.output_tpm:,} output TPM"
    return f"{opt.input_tpm:,} input / {opt.output_tpm:,} output TPM"


def _amount(value: Decimal | None, currency: str) -> str:
    return "unknown" if value is None else format_amount(value, currency)


def _option_lines(opt: OptionResult, recommended: str | None) -> list[str]:
    mark = "*" if opt.option == recommended else " "
    head = f"{mark} {opt.rank or '-'}. {opt.option:<8} {_WORDS[opt.option]}"
    if not opt.available:
        return [head, f"      not priced: {opt.error}"]
    cur = opt.currency
    lines = [
        head,
        f"      {_capacity(opt)}: {_amount(opt.total, cur)} = reserved "
        f"{_amount(opt.reserved, cur)} + overflow {_amount(opt.overflow, cur)}"
        + (
            f", {format_amount(opt.effective_per_million, cur, exact=True)} per million tokens"
            if opt.effective_per_million is not None
            else ""
        ),
    ]
    extra = []
    if opt.saving_vs_payg is not None and opt.option != "payg":
        extra.append(f"vs payg {_signed(opt.saving_vs_payg, cur)}")
    if opt.saving_vs_current is not None:
        extra.append(f"vs today {_signed(opt.saving_vs_current, cur)}")
    if opt.meets_coverage is False:
        extra.append("does NOT meet the coverage asked for")
    if extra:
        lines.append("      " + "; ".join(extra))
    lines += [f"      {why}" for why in opt.reasoning]
    if opt.schedule:
        busy = [h for h in opt.schedule if h.minutes]
        cells = ", ".join(
            f"{h.hour:02d}h {h.input_tpm // 1000}k/{h.output_tpm // 1000}k" for h in busy
        )
        lines.append(f"      schedule (input/output TPM by Beijing hour): {cells}")
    return lines


def _signed(saving: Decimal, currency: str) -> str:
    if saving > 0:
        return f"saves {format_amount(saving, currency)}"
    if saving < 0:
        return f"costs {format_amount(-saving, currency)} more"
    return "same cost"


def render_plan_text(result: PlanResult) -> str:
    """The plan as text: trace, ranked options with reasoning, today, sensitivity, notes."""
    t = result.trace
    cov = f", coverage={result.coverage}" if result.coverage is not None else ""
    lines = [
        f"Plan for {result.model} ({result.mode}{cov}) from the trace {t.source}:",
        f"  {t.minutes:,} minutes from {t.start.isoformat()} to {t.end.isoformat()}; "
        f"{t.input_tokens:,} input and {t.output_tokens:,} output tokens; peak "
        f"{t.peak_input_tpm:,} input / {t.peak_output_tpm:,} output TPM.",
        "",
    ]
    for opt in result.options:
        lines += _option_lines(opt, result.recommended)
    lines.append("")
    if result.recommended:
        best = result.option(result.recommended)
        lines.append(
            f"Recommended: {result.recommended} — {_capacity(best)}, "
            f"{_amount(best.total, best.currency)} for the trace."
        )
    elif any(o.available for o in result.options):
        lines.append(
            f"No option that meets coverage={result.coverage} could be priced; see the reasons "
            "above."
        )
    else:
        lines.append("No option could be priced for this trace; see the reasons above.")
    if result.current is not None:
        now = result.current
        if now.available:
            lines.append(
                f"Today ({now.billing}, {_capacity(now)}): {_amount(now.total, now.currency)}."
            )
        else:
            lines.append(f"Today's capacity could not be priced: {now.error}")
    if result.sensitivity is not None:
        lines.append(result.sensitivity.text)
    if result.notes:
        lines.append("")
        lines += [f"Note: {n}" for n in result.notes]
    return "\n".join(lines)
