"""Charts render offline to real images with the expected series, and match committed goldens.

Goldens are small PNGs under tests/charts/golden, drawn under pinned font/size/dpi. After an
intended change of look, regenerate them with `MODELDECK_UPDATE_GOLDEN=1 uv run pytest
tests/charts` and look at them before committing.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from modeldeck.charts import (
    CostCurveChart,
    SpendChart,
    SpendPoint,
    UsageChart,
    figure,
    notebook_figure,
    render,
)
from modeldeck.charts.palette import SERIES, THEMES, contrast
from modeldeck.timeutil import BEIJING

GOLDEN = Path(__file__).parent / "golden"
T0 = datetime(2026, 3, 1, tzinfo=BEIJING)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def spend_chart() -> SpendChart:
    actual = [SpendPoint(at=T0 + timedelta(days=d), amount=Decimal("74.88") * d) for d in range(11)]
    forecast = [
        SpendPoint(at=T0 + timedelta(days=d), amount=Decimal("74.88") * d + Decimal(9) * (d - 10))
        for d in range(10, 32)
    ]
    return SpendChart(actual=actual, forecast=forecast, budget=Decimal(2000))


def usage_chart() -> UsageChart:
    minutes = [T0 + timedelta(minutes=m) for m in range(90)]
    tokens = [12_000 + (m % 30) * 400 for m in range(90)]  # saw-tooth, above 20,000 near peaks
    return UsageChart(minutes=minutes, input_tokens=tokens, purchased_tpm=20_000)


def plan_chart() -> CostCurveChart:
    return CostCurveChart(
        points=[(n * 10_000, Decimal("3.36") * n + Decimal(40) / n) for n in range(1, 11)],
        recommended=(40_000, Decimal("23.44")),
    )


def labels(chart: SpendChart | UsageChart | CostCurveChart) -> list[str]:
    fig = figure(chart)
    _, found = fig.axes[0].get_legend_handles_labels()
    return found


@pytest.mark.slow
def test_spend_chart_shows_actual_forecast_and_budget() -> None:
    assert labels(spend_chart()) == ["actual", "forecast", "budget $2,000.00"]
    ax = figure(spend_chart()).axes[0]
    budget = next(line for line in ax.get_lines() if str(line.get_label()).startswith("budget"))
    assert set(budget.get_ydata()) == {2000.0}  # type: ignore[arg-type]


def test_spend_chart_without_budget_or_forecast_has_only_actual() -> None:
    chart = spend_chart().model_copy(update={"forecast": [], "budget": None})
    assert labels(chart) == ["actual"]


def test_usage_chart_shades_overflow_only_when_usage_exceeds_purchase() -> None:
    assert labels(usage_chart()) == [
        "input tokens per minute",
        "purchased 20,000 TPM",
        "overflow (billed per token)",
    ]
    under = usage_chart().model_copy(update={"purchased_tpm": 50_000})
    assert "overflow (billed per token)" not in labels(under)


def test_usage_chart_refuses_mismatched_series() -> None:
    with pytest.raises(ValueError, match="same length"):
        UsageChart(minutes=[T0], input_tokens=[1, 2], purchased_tpm=10_000)


def test_plan_chart_marks_the_recommendation() -> None:
    assert labels(plan_chart()) == ["cost per day", "recommended: 40,000 TPM, $23.44"]
    ax = figure(plan_chart()).axes[0]
    marker = ax.get_lines()[1]
    assert list(marker.get_xdata()) == [40_000]  # type: ignore[arg-type]


@pytest.mark.parametrize("make", [spend_chart, usage_chart, plan_chart])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_png_is_a_real_non_blank_image(make, theme) -> None:  # type: ignore[no-untyped-def]
    data = render(make(), theme=theme)
    assert data.startswith(PNG_MAGIC)
    image = Image.open(io.BytesIO(data))
    assert image.size == (800, 450)
    pixels = np.asarray(image.convert("RGB"))
    surface = np.array(Image.new("RGB", (1, 1), THEMES[theme].surface).getpixel((0, 0)))
    assert pixels[0, 0].tolist() == surface.tolist()  # opaque surface of the theme
    drawn = np.any(pixels != surface, axis=2).mean()
    assert 0.02 < drawn < 0.6  # lines and text drawn, not a blank or a filled canvas


@pytest.mark.slow
def test_svg_for_the_notebook() -> None:
    fig = notebook_figure(spend_chart(), theme="dark")
    svg = fig._repr_svg_()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert fig._repr_png_().startswith(PNG_MAGIC)
    assert render(spend_chart(), "svg") == render(spend_chart(), "svg")  # reproducible


def test_palette_reads_on_light_and_dark_surfaces() -> None:
    for theme in THEMES.values():
        for colour in SERIES:
            assert contrast(colour, theme.surface) >= 3.0, (colour, theme.surface)
        assert contrast(theme.text, theme.surface) >= 7.0


@pytest.mark.slow
def test_importing_modeldeck_does_not_import_matplotlib() -> None:
    code = (
        "import sys, modeldeck.cli, modeldeck.charts;"
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported at start-up'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _compare(name: str, data: bytes, *, may_update: bool = True) -> None:
    path = GOLDEN / f"{name}.png"
    if may_update and os.environ.get("MODELDECK_UPDATE_GOLDEN"):
        path.write_bytes(data)
    expected = np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)
    actual = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.int16)
    assert actual.shape == expected.shape
    diff = np.abs(actual - expected).max(axis=2)
    # Tolerance for anti-aliasing differences between FreeType builds: few pixels, small change.
    assert (diff > 32).mean() < 0.005, f"{name}: {(diff > 32).mean():.3%} of pixels differ"
    assert diff.mean() < 2.0


@pytest.mark.parametrize(
    ("name", "make", "theme"),
    [
        ("spend-light", spend_chart, "light"),
        ("usage-dark", usage_chart, "dark"),
        ("plan-light", plan_chart, "light"),
    ],
)
def test_golden_images(name, make, theme) -> None:  # type: ignore[no-untyped-def]
    _compare(name, render(make(), theme=theme, dpi=60))


def test_golden_comparison_catches_a_changed_chart() -> None:
    changed = spend_chart().model_copy(update={"budget": Decimal(1000)})
    with pytest.raises(AssertionError):
        _compare("spend-light", render(changed, dpi=60), may_update=False)
