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


def money(value: float) -> str:
    """Dollars in words a budget request uses: "$1.2 million", "$850,000", "-$3.4 million"."""
    if value is None or not math.isfinite(value):
        return "-"
    sign, a = ("-" if value < 0 else ""), abs(value)
    if a >= 1e9:
        return f"{sign}${a / 1e9:.2f} billion"
    if a >= 1e6:
        return f"{sign}${a / 1e6:.{1 if a >= 1e7 else 2}f} million"
    if a >= 1000:
        return f"{sign}${round(a, -3 if a >= 1e5 else -2):,.0f}"
    return f"{sign}${a:,.0f}"


def share(value: float) -> str:
    """A share as a whole percentage ("87%"), with one decimal under 10%."""
    if value is None or not math.isfinite(value):
        return "-"
    p = 100 * value
    return f"{p:.1f}%" if 0 < abs(p) < 10 else f"{p:.0f}%"
