"""The models of a capacity schedule: levels, weekly entries and one-off windows.

A recurring schedule is a list of weekly entries (`mon-fri 09:00` → a capacity level); a window
sets one level `from` an instant and restores the deployment's capacity `until` another. Every
level is complete (filled from the deployment at request time), so it is what will run.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from modeldeck.timeutil import iso, to_beijing

__all__ = ["DAY_NAMES", "ScheduleEntry", "ScheduleKind", "ScheduleLevel", "ScheduleSpec"]

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ScheduleKind = Literal["recurring", "window"]
LEVEL_KEYS = ("units", "input_tpm", "output_tpm", "thinking_output_tpm")


class ScheduleLevel(BaseModel):
    """One capacity a schedule sets: MU units, or PTU input/output (thinking) TPM."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    units: int | None = None
    input_tpm: int | None = None
    output_tpm: int | None = None
    thinking_output_tpm: int | None = None

    def given(self) -> dict[str, int]:
        """The directions this level sets (the ones that are not None)."""
        return {k: v for k in LEVEL_KEYS if (v := getattr(self, k)) is not None}

    def describe(self) -> str:
        """In the words every surface uses: `8 unit(s)` or `40,000 in / 4,000 out TPM`."""
        if self.units is not None:
            return f"{self.units} unit(s)"
        text = f"{self.input_tpm or 0:,} in / {self.output_tpm or 0:,} out TPM"
        if self.thinking_output_tpm:
            text += f" / {self.thinking_output_tpm:,} thinking"
        return text


class ScheduleEntry(BaseModel):
    """A weekly change: on these Beijing weekdays (0 = Monday) at `time` (HH:MM), set `level`."""

    model_config = ConfigDict(defer_build=True)

    days: list[int] = Field(min_length=1)
    time: str
    level: ScheduleLevel

    @property
    def hour(self) -> int:
        return int(self.time.split(":")[0])

    @property
    def minute(self) -> int:
        return int(self.time.split(":")[1])

    def days_text(self) -> str:
        """The weekdays as written back (`mon-fri`, `sat,sun`, `daily`)."""
        days = sorted(set(self.days))
        if days == list(range(7)):
            return "daily"
        runs: list[str] = []
        start = prev = days[0]
        for day in [*days[1:], None]:
            if day is not None and day == prev + 1:
                prev = day
                continue
            runs.append(
                DAY_NAMES[start]
                if start == prev
                else f"{DAY_NAMES[start]}{',' if prev == start + 1 else '-'}{DAY_NAMES[prev]}"
            )
            if day is not None:
                start = prev = day
        return ",".join(runs)

    def describe(self) -> str:
        return f"{self.days_text()} {self.time} → {self.level.describe()}"


class ScheduleSpec(BaseModel):
    """What a `schedule` request (or a `scale … from= until=` window) asks for."""

    model_config = ConfigDict(defer_build=True)

    deployment: str
    kind: ScheduleKind = "recurring"
    entries: list[ScheduleEntry] = Field(default_factory=list)
    window_from: datetime | None = None
    window_until: datetime | None = None
    level: ScheduleLevel | None = None
    # a window's capacity after `until`: the deployment's when it was requested (filled then)
    restore: ScheduleLevel | None = None

    def levels(self) -> list[ScheduleLevel]:
        """Every level the schedule sets (for its maximum cost)."""
        if self.kind == "window":
            return [self.level] if self.level is not None else []
        return [e.level for e in self.entries]

    def describe(self) -> str:
        """One line: the entries, or the window with its level."""
        if self.kind == "window":
            level = self.level.describe() if self.level else "?"
            start = iso(to_beijing(self.window_from)) if self.window_from else "?"
            end = iso(to_beijing(self.window_until)) if self.window_until else "?"
            return f"{level} from {start} until {end}"
        return "; ".join(e.describe() for e in self.entries)
