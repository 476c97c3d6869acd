"""Numbers as a planner reads them, for tables in the terminal and in reports."""

from __future__ import annotations

import math
from typing import Any


def fmt(value: Any) -> str:
    """A number as a planner reads it: thousands separators, sensible decimals, '-' for none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if value == 0:
        return "0"
    a = abs(value)
    if a == math.inf:
        return "inf" if value > 0 else "-inf"
    if a >= 10_000:
        return f"{value:,.0f}"
    if a >= 100:
        return f"{value:.0f}"
    if a >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"
