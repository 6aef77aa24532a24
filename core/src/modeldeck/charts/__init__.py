"""Charts of spend, usage and plans: PNG bytes for Slack and files, a figure for the notebook.

Importing this package is cheap: matplotlib is imported only when a chart is drawn, so the CLI's
start-up never pays for it. Build a chart model (`SpendChart`, `UsageChart`, `CostCurveChart`),
then `render(chart)` for bytes or `notebook_figure(chart)` for a Jupyter display object.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from modeldeck.charts.data import (
    Chart,
    CostCurveChart,
    SpendChart,
    SpendPoint,
    UsageChart,
)
from modeldeck.charts.palette import THEMES, ThemeName

if TYPE_CHECKING:
    from matplotlib.figure import Figure

ImageFormat = Literal["png", "svg"]


def figure(chart: Chart, theme: ThemeName = "light") -> Figure:
    """The matplotlib Figure of a chart (for inspection or further drawing)."""
    from modeldeck.charts import draw

    return draw.figure(chart, theme)


def render(
    chart: Chart, fmt: ImageFormat = "png", *, theme: ThemeName = "light", dpi: int = 100
) -> bytes:
    """The chart as PNG (or SVG) bytes, 8 x 4.5 inches at `dpi` (800 x 450 px by default)."""
    from modeldeck.charts import draw

    return draw.save(draw.figure(chart, theme), fmt, dpi)


class NotebookFigure:
    """A chart for Jupyter: displays as SVG (crisp at any zoom) with a PNG fallback."""

    def __init__(self, chart: Chart, theme: ThemeName = "light") -> None:
        self.chart = chart
        self.theme: ThemeName = theme

    def _repr_svg_(self) -> str:
        return render(self.chart, "svg", theme=self.theme).decode()

    def _repr_png_(self) -> bytes:
        return render(self.chart, "png", theme=self.theme)


def notebook_figure(chart: Chart, theme: ThemeName = "light") -> NotebookFigure:
    """What the notebook panel displays for a chart."""
    return NotebookFigure(chart, theme)


__all__ = [
    "THEMES",
    "Chart",
    "CostCurveChart",
    "ImageFormat",
    "NotebookFigure",
    "SpendChart",
    "SpendPoint",
    "ThemeName",
    "UsageChart",
    "figure",
    "notebook_figure",
    "render",
]
