"""Issue 11's mechanisms switched off reproduce the model of before them.

``tests/golden/divert_kin_off/`` holds the divert scenario's golden files as they were pinned
before kin paths, START's kin preference, removals on re-reports and the split of safety
planning existed. ``divert_kin_off.toml`` is that scenario with the new mechanisms off (and the
split at its defaults): every file must match, byte for byte where no column was added, and
column for column in the files that gained columns (the disposition KPIs, kin-arrangement days).
These files are NOT rewritten by ``tests.golden.regenerate``: a change that moves them moves the
model with the new mechanisms off too, and must say so."""

from __future__ import annotations

import pandas as pd

from tests.golden.regenerate import FILES, HERE, produce

PINNED = HERE / "divert_kin_off"
GAINED_COLUMNS = ("kpis.csv", "families.csv")


def test_new_mechanisms_off_reproduce_the_outputs_of_before(tmp_path):
    out = produce("divert_kin_off", tmp_path / "off")
    for f in FILES:
        if f in GAINED_COLUMNS:
            old, new = pd.read_csv(PINNED / f, dtype=str), pd.read_csv(out / f, dtype=str)
            missing = [c for c in old.columns if c not in new.columns]
            assert not missing, f"{f}: columns gone {missing}"
            assert [c for c in new.columns if c in old.columns] == list(old.columns), f"{f}: columns reordered"
            pd.testing.assert_frame_equal(new[old.columns], old, obj=f)
        else:
            assert (out / f).read_bytes() == (PINNED / f).read_bytes(), f"{f} differs from the model of before"
    new = pd.read_csv(out / "families.csv")
    assert (new.filter(like="kin_arrangement_days").to_numpy() == 0).all(), "kin arrangements with the paths off"
