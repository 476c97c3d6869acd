"""Write a minimal scenario for one county that extends the calibrated Kentucky parameters.

start-sim new-county "Buncombe" writes Buncombe.toml in the current folder (or --folder):
one county of that name, with placeholder referral volume and dyads to replace with the
county's own figures; everything else (case lengths, effects, costs, the calibrated recovery
and placement parameters) comes from scenarios/kentucky_calibrated.toml through `extends`,
and the four Kentucky counties are removed. An existing file is never overwritten."""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

from start_sim.cli.common import fail

HELP = "write NAME.toml: one county's scenario extending the calibrated Kentucky parameters"

CALIBRATED = Path(__file__).resolve().parents[2] / "scenarios" / "kentucky_calibrated.toml"
"""The calibrated scenario new counties extend (its four counties are removed in the new file)."""

TEMPLATE = '''# {name}: START for one county, on the calibrated Kentucky parameters.
# Written by `start-sim new-county`. Everything not set here comes from the file named by
# `extends` (case lengths, START's effects, costs, calibrated recovery and placement).
extends = "{parent}"
name = "{name} START"
description = "{name}: replace the placeholder figures below with the county's own"

# The calibrated scenario's Kentucky counties are removed (remove = true drops a parent's county by name):
{removals}[[counties]]
name = "{name}"
referrals_per_year = 100  # placeholder: replace with your county's figure (CPS referrals screened for START a year)
eligible_share = 1.0      # share of those referrals that are START-eligible
dyads = 2                 # placeholder: START caseworker-mentor dyads from launch (start-sim size finds how many)
launch_day = 0

# The county's parents use a public treatment provider that also serves clients from outside
# child welfare (its places are not reserved for START). These replace the calibrated scenario's
# Kentucky regions; the figures are placeholders (Kenton's provider scaled to 100 referrals a
# year): give your provider's places and its other admissions a year (README, "Planning a rural region").
[[regions]]
name = "{name}"
counties = ["{name}"]
[[regions.providers]]
name = "{name} public treatment"
places = {{outpatient = 86, intensive_outpatient = 29, residential = 21, moud = 57}}
background_clients_per_year = {{outpatient = 286, intensive_outpatient = 144, residential = 147, moud = 73}}
'''

NEXT_STEPS = """Next:
  1. open {path} and replace referrals_per_year (and dyads) with your county's figures;
  2. start-sim size {path} --target 'assigned_within_days=14@0.9'   (how many dyads)
  3. start-sim run {path} --replications 20                        (waits, outcomes, costs)"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("name", help="the county's name, e.g. Buncombe (the file is NAME.toml)")
    p.add_argument("--folder", "-d", default=".", help="folder to write NAME.toml in (default: the current folder)")


def safe_file_name(name: str) -> str:
    """A file name stem from a county name: letters, digits, '-' and '_' kept, runs of others as '_'."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name.strip()).strip("_")


def scenario_text(name: str, path: Path, parent_counties: list[str]) -> str:
    """The scenario file's text, its ``extends`` relative to the folder of ``path``."""
    parent = Path(os.path.relpath(CALIBRATED, path.resolve().parent)).as_posix()
    removals = "".join(f'[[counties]]\nname = "{c}"\nremove = true\n\n' for c in parent_counties)
    return TEMPLATE.format(name=name.replace("\\", "").replace('"', ""), parent=parent, removals=removals)


def main(args: argparse.Namespace) -> int:
    from start_sim.inputs.files import load_scenario

    name = args.name.strip()
    stem = safe_file_name(name)
    if not stem:
        return fail(f"new-county {args.name!r}: give a county name with letters or digits, e.g. Buncombe")
    folder = Path(args.folder)
    if not folder.is_dir():
        return fail(f"--folder {folder}: no such folder")
    path = folder / f"{stem}.toml"
    if path.exists() or path.is_symlink():
        return fail(f"{path} already exists: it is left as it is; choose another name or --folder, or edit that file")
    if not CALIBRATED.is_file():
        return fail(f"the calibrated scenario {CALIBRATED} is missing: new-county needs start-sim's scenarios folder")
    text = scenario_text(name, path, [c.name for c in load_scenario(CALIBRATED).counties])
    with open(path, "x", encoding="utf-8") as f:  # "x": never overwrite, even if the file appears meanwhile
        f.write(text)
    load_scenario(path)  # the new file must read back as a valid scenario
    print(f"wrote {path}")
    print(NEXT_STEPS.format(path=path))
    return 0
