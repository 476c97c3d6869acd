"""Shared fixtures: small scenarios that run in a fraction of a second."""

from __future__ import annotations

from pathlib import Path

import pytest

import start_sim as ss

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def small() -> ss.Scenario:
    """One county, two dyads, two years: a busy but quick scenario."""
    return ss.Scenario(
        name="small",
        horizon_years=2,
        runout_years=1,
        counties=[{"name": "A", "referrals_per_year": 30, "dyads": 2}],
    )


@pytest.fixture
def kentucky() -> ss.Scenario:
    return ss.load_scenario(ROOT / "scenarios" / "kentucky.toml")
