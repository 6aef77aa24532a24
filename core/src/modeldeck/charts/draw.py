"""Drawing the charts with matplotlib's object API (no pyplot, no global state, Agg only).

Imported only when a chart is drawn (see `modeldeck.charts`), so nothing else pays for matplotlib.
Every figure is drawn under pinned settings (font, size, dpi) so the output is reproducible.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from matplotlib import dates as mdates
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from modeldeck.charts import palette
from modeldeck.charts.data import Chart, CostCurveChart, SpendChart, UsageChart
from modeldeck.money import format_amount
from modeldeck.timeutil import BEIJING, to_beijing

ImageFormat = Literal["png", "svg"]
WIDTH_IN, HEIGHT_IN = 8.0, 4.5
RC: dict[str, Any] = {
    "font.family": "DejaVu Sans",  # shipped with matplotlib: the same glyphs everywhere
    "font.size": 10,
    "axes.titlesize": 12,
    "svg.hashsalt": "modeldeck",
    "svg.fonttype": "path",
    "figure.dpi": 100,
}


@contextmanager
def pinned() -> Iterator[None]:
    """The settings every chart is drawn and saved under."""
    with rc_context(RC):  # type: ignore[arg-type]
        yield


def _style(fig: Figure, ax: Axes, theme: palette.Theme) -> None:
    fig.set_facecolor(theme.surface)
    ax.set_facecolor(theme.surface)
    for spine in ax.spines.values():
        spine.set_color(theme.text)
    ax.tick_params(colors=theme.text, which="both")
    ax.xaxis.label.set_color(theme.text)
    ax.yaxis.label.set_color(theme.text)
    ax.title.set_color(theme.text)
    ax.grid(True, color=theme.grid, linewidth=0.6)
    ax.set_axisbelow(True)


def _legend(ax: Axes, theme: palette.Theme) -> None:
    legend = ax.legend(loc="best", frameon=True, facecolor=theme.surface)
    legend.get_frame().set_edgecolor(theme.grid)
    for text in legend.get_texts():
        text.set_color(theme.text)


def _times(values: list[datetime]) -> list[float]:
    return [float(mdates.date2num(to_beijing(v))) for v in values]


def _money_axis(ax: Axes, currency: str) -> None:
    ax.yaxis.set_major_formatter(
        FuncFormatter(lambda y, _pos: format_amount(_dec(y), currency).removesuffix(".00"))
    )


def _dec(value: float) -> Decimal:
    return Decimal(str(round(value, 2)))  # a tick position, shown as money


def _spend(fig: Figure, ax: Axes, chart: SpendChart) -> None:
    if chart.actual:
        ax.plot(
            _times([p.at for p in chart.actual]),
            [float(p.amount) for p in chart.actual],
            color=palette.ACTUAL,
            linewidth=2.2,
            label="actual",
        )
    if chart.forecast:
        ax.plot(
            _times([p.at for p in chart.forecast]),
            [float(p.amount) for p in chart.forecast],
            color=palette.FORECAST,
            linewidth=2.0,
            linestyle=(0, (5, 3)),
            label="forecast",
        )
    if chart.budget is not None:
        ax.axhline(
            float(chart.budget),
            color=palette.BUDGET,
            linewidth=1.8,
            label=f"budget {format_amount(chart.budget, chart.currency)}",
        )
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d", tz=BEIJING))
    ax.set_xlabel("Beijing time")
    ax.set_ylabel(f"cumulative spend ({chart.currency})")
    _money_axis(ax, chart.currency)
    ax.set_ylim(bottom=0)


def _usage(fig: Figure, ax: Axes, chart: UsageChart) -> None:
    x = _times(chart.minutes)
    y = [float(v) for v in chart.input_tokens]
    cap = float(chart.purchased_tpm)
    ax.plot(x, y, color=palette.USAGE, linewidth=1.4, label="input tokens per minute")
    ax.axhline(cap, color=palette.PURCHASED, linewidth=1.8, label=f"purchased {cap:,.0f} TPM")
    over = [v > cap for v in y]
    if any(over):
        ax.fill_between(
            x,
            [cap] * len(y),
            y,
            where=over,
            interpolate=True,
            color=palette.OVERFLOW,
            alpha=0.45,
            linewidth=0,
            label="overflow (billed per token)",
        )
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=BEIJING))
    ax.set_xlabel("Beijing time")
    ax.set_ylabel("input tokens per minute")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    ax.set_ylim(bottom=0)


def _plan(fig: Figure, ax: Axes, chart: CostCurveChart) -> None:
    points = sorted(chart.points)
    ax.plot(
        [p[0] for p in points],
        [float(p[1]) for p in points],
        color=palette.CURVE,
        linewidth=2.0,
        marker="o",
        markersize=3.5,
        label=f"cost per {chart.per}",
    )
    if chart.recommended is not None:
        tpm, cost = chart.recommended
        ax.plot(
            [tpm],
            [float(cost)],
            linestyle="none",
            marker="D",
            markersize=9,
            color=palette.RECOMMENDED,
            label=f"recommended: {tpm:,} TPM, {format_amount(cost, chart.currency)}",
        )
    ax.set_xlabel("purchased input TPM")
    ax.set_ylabel(f"cost per {chart.per} ({chart.currency})")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    _money_axis(ax, chart.currency)


def figure(chart: Chart, theme: palette.ThemeName = "light") -> Figure:
    """A matplotlib Figure of `chart` (its artists carry the series labels tests look for)."""
    colours = palette.THEMES[theme]
    with pinned():
        fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        if isinstance(chart, SpendChart):
            _spend(fig, ax, chart)
        elif isinstance(chart, UsageChart):
            _usage(fig, ax, chart)
        else:
            _plan(fig, ax, chart)
        ax.set_title(chart.title)
        _style(fig, ax, colours)
        _legend(ax, colours)
    return fig


def save(fig: Figure, fmt: ImageFormat = "png", dpi: int = 100) -> bytes:
    """The figure as PNG or SVG bytes, without timestamps or version stamps (reproducible)."""
    buffer = io.BytesIO()
    metadata: dict[str, Any] = (
        {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
    )
    with pinned():
        fig.savefig(buffer, format=fmt, dpi=dpi, facecolor=fig.get_facecolor(), metadata=metadata)
    return buffer.getvalue()
