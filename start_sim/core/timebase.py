"""Time in the model: days, with the year and month every module converts by."""

from __future__ import annotations

DAYS_PER_YEAR = 365.25
"""Rates per year and durations in years become days by this factor (calendar years)."""

DAYS_PER_MONTH = DAYS_PER_YEAR / 12
"""Monthly series and per-month costs use calendar months of this length."""

OUTCOME_WINDOW_DAYS = 365.0
"""The "12 months" of the published outcome definitions (placement, re-report, re-entry within
12 months), counted as 365 days as the studies count them."""
