"""Reading posterior draws (``calibration/kentucky_posterior.csv``), written by ``start-sim calibrate``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def load_posterior(path: str | Path) -> pd.DataFrame:
    """Posterior draws written by :meth:`CalibrationResult.write` (one column per parameter path)."""
    df = pd.read_csv(path)
    return df.drop(columns=[c for c in ("draw", "particle") if c in df.columns])
