"""Colours of every chart: one series palette readable on light and dark surfaces.

The series colours are from the Okabe-Ito colour-blind-safe set, restricted to those with at least
3:1 contrast against both the light and the dark surface (WCAG's minimum for graphics), so a chart
reads the same in a light or dark notebook or Slack theme. Text and axes use each theme's own
colour (at least 7:1). docs/charts.md explains the choice.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

ThemeName = Literal["light", "dark"]

# Okabe-Ito blue, vermillion and bluish green: >= 3:1 against #ffffff and #1e1e1e alike.
ACTUAL = "#0072B2"
FORECAST = "#0072B2"  # same series continued, drawn dashed
BUDGET = "#D55E00"
USAGE = "#0072B2"
PURCHASED = "#009E73"
OVERFLOW = "#D55E00"
CURVE = "#0072B2"
RECOMMENDED = "#D55E00"
SERIES = (ACTUAL, BUDGET, PURCHASED)


class Theme(BaseModel):
    """The surface a chart is drawn on and the colour of its text, axes and grid."""

    model_config = ConfigDict(frozen=True)

    surface: str
    text: str
    grid: str


THEMES: dict[ThemeName, Theme] = {
    "light": Theme(surface="#ffffff", text="#1f1f1f", grid="#d0d0d0"),
    "dark": Theme(surface="#1e1e1e", text="#e8e8e8", grid="#444444"),
}


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance of a #rrggbb colour."""
    value = colour.lstrip("#")
    channels = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two colours (1 to 21)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)
