"""Reading posterior draws (``calibration/kentucky_posterior.csv``), written by ``start-sim calibrate``.

Every problem in the file (empty, no parameter column, a value that is not a finite number,
a draw outside the prior box of the targets file) is one :class:`ScenarioError` naming the
file, the column, the row and the value.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from start_sim.core.errors import ScenarioError
from start_sim.inputs.reading import read_text
from start_sim.inputs.targets import Parameter

POSTERIOR_FILE = "a posterior draws .csv file, e.g. calibration/kentucky_posterior.csv"
BOOKKEEPING = ("draw", "particle")


def load_posterior(path: str | Path, parameters: Sequence[Parameter] | None = None) -> pd.DataFrame:
    """Posterior draws, one column per parameter path. With ``parameters`` (of the targets file),
    the columns must be exactly their paths and every draw inside their prior box."""
    path = Path(path)
    text = read_text(path, POSTERIOR_FILE)

    def fail(message: str) -> ScenarioError:
        return ScenarioError(f"invalid posterior file: {message}", file=str(path))

    if not text.strip():
        raise fail(f"the file is empty; give {POSTERIOR_FILE} with a header row of parameter paths")
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as exc:
        raise fail(f"not a CSV table ({' '.join(str(exc).split())}); give one header row and one row per draw") from None
    df = df.drop(columns=[c for c in BOOKKEEPING if c in df.columns])
    if df.columns.empty:
        raise fail("no parameter columns; the header row names scenario paths, e.g. placement.rate_using")
    if df.empty:
        raise fail(f"no draws: the header names {', '.join(df.columns)} but no row follows it")
    if parameters is not None:
        want = [p.path for p in parameters]
        missing, extra = [c for c in want if c not in df.columns], [c for c in df.columns if c not in want]
        if missing or extra:
            raise fail(f"columns {', '.join(df.columns)} do not match the targets file's parameters ({', '.join(want)})"
                       + (f"; missing: {', '.join(missing)}" if missing else "")
                       + (f"; not a parameter: {', '.join(extra)}" if extra else ""))
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        values = pd.to_numeric(df[col], errors="coerce")
        bad = [i for i, v in enumerate(values) if not math.isfinite(v)]
        if bad:
            raise fail(f"column {col}, row {bad[0] + 1} = {df[col].iloc[bad[0]]!r} is not allowed: every draw must be "
                       f"a finite number ({len(bad)} row{'' if len(bad) == 1 else 's'} not)")
        out[col] = values.astype(float)
    for p in parameters or ():
        outside = out.index[(out[p.path] < p.low) | (out[p.path] > p.high)]
        if len(outside):
            row = int(outside[0])
            raise fail(f"column {p.path}, row {row + 1} = {out[p.path].iloc[row]:g} is not allowed: outside the prior "
                       f"box [{p.low:g}, {p.high:g}] of the targets file ({len(outside)} row"
                       f"{'' if len(outside) == 1 else 's'} outside)")
    return out
