"""Service targets of the staffing search, parsed from text such as ``assigned_within_days=14@0.9``.

* ``assigned_within_days=14@0.9``: at least 90% of the eligible families referred after the
  county's launch (within the horizon) are assigned to a dyad within 14 days of referral;
  families diverted to usual services, or still waiting, count as not assigned.
* ``diverted_share<=0.05``: at most 5% of those families are served by usual services
  because no slot opened in time (reneged after ``max_wait_days``, or diverted at once under
  ``waitlist_policy = "divert"``).

A share may be written as ``0.9`` or ``90%``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

TARGET_SYNTAX = (
    "assigned_within_days=DAYS@SHARE (e.g. assigned_within_days=14@0.9: at least 90% of families assigned within "
    "14 days) or diverted_share<=SHARE (e.g. diverted_share<=0.05); a share may be written 0.9 or 90%"
)


@dataclass(frozen=True)
class ServiceTarget:
    """One service target: a service level and the bound it must respect."""

    metric: str  # "assigned_within_days" or "diverted_share"
    level: float  # the share to reach (assigned) or not exceed (diverted)
    days: float = math.nan  # assigned_within_days only

    @property
    def text(self) -> str:
        """The target as typed on the command line."""
        if self.metric == "assigned_within_days":
            return f"assigned_within_days={self.days:g}@{self.level:g}"
        return f"diverted_share<={self.level:g}"

    @property
    def label(self) -> str:
        """A short label for table headers."""
        if self.metric == "assigned_within_days":
            return f"assigned within {self.days:g} d (>= {self.level:.0%})"
        return f"diverted (<= {self.level:.0%})"

    @property
    def column(self) -> str:
        """The column name of the service level in ``staffing.csv``."""
        if self.metric == "assigned_within_days":
            return f"assigned_within_{self.days:g}d"
        return "diverted_share"

    def meets(self, value: float) -> bool:
        """Whether a service level ``value`` respects the target (NaN never does)."""
        if math.isnan(value):
            return False
        if self.metric == "assigned_within_days":
            return value >= self.level - 1e-12
        return value <= self.level + 1e-12


def _share(text: str, whole: str) -> float:
    t = text.strip()
    try:
        value = float(t[:-1]) / 100 if t.endswith("%") else float(t)
    except ValueError:
        raise ValueError(f"--target {whole!r}: {t!r} is not a share; the syntax is {TARGET_SYNTAX}") from None
    if not 0 <= value <= 1 or math.isnan(value):
        raise ValueError(f"--target {whole!r}: the share {t!r} must lie between 0 and 1 (or 0% and 100%)")
    return value


def parse_target(text: str | ServiceTarget) -> ServiceTarget:
    """A :class:`ServiceTarget` from its text; ``ValueError`` naming the value and the syntax if malformed."""
    if isinstance(text, ServiceTarget):
        return text
    if not isinstance(text, str):
        raise ValueError(f"target {text!r} is not text; the syntax is {TARGET_SYNTAX}")
    s = text.strip().replace(" ", "")
    m = re.fullmatch(r"assigned_within_days=([^@]+)@(.+)", s)
    if m:
        try:
            days = float(m.group(1))
        except ValueError:
            raise ValueError(f"--target {text!r}: {m.group(1)!r} is not a number of days; the syntax is "
                             f"{TARGET_SYNTAX}") from None
        if not days >= 0 or math.isinf(days):
            raise ValueError(f"--target {text!r}: the days ({m.group(1)}) must be 0 or more")
        return ServiceTarget("assigned_within_days", _share(m.group(2), text), days)
    m = re.fullmatch(r"diverted_share<=(.+)", s)
    if m:
        return ServiceTarget("diverted_share", _share(m.group(1), text))
    raise ValueError(f"--target {text!r} is not a service target; the syntax is {TARGET_SYNTAX}")
