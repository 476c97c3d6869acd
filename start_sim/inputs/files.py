"""Reading scenario files: TOML, ``extends`` chains and readable errors.

``extends`` merges the file over its parent: tables key by key, other values replace the
parent's, and ``[[counties]]`` items by ``name`` (:func:`merge_counties`): a county of the
parent's name changes only the keys it gives, a new name adds a county, and ``remove = true``
on an item removes the parent's county of that name.

Every problem with the input becomes one :class:`ScenarioError` whose message names the
file, the field path, the value given and what is allowed. When the bad value came from a
file reached by ``extends``, the message names that file too.
"""

from __future__ import annotations

import copy
import difflib
import os
from pathlib import Path
from typing import Any

from start_sim.core.dotted import Origin, merge, show
from start_sim.core.errors import ScenarioError
from start_sim.inputs.messages import validate_as
from start_sim.inputs.reading import near_files, read_toml
from start_sim.inputs.schema import Scenario


def load_scenario(path: str | Path) -> Scenario:
    """Read, merge (``extends``) and validate a scenario file.

    Values in a file are checked strictly: a quoted ``"6"`` or ``true`` is not a number.
    """
    path = Path(path)
    data, origin = read_scenario_data(path)
    return validate(data, file=str(path), origin=origin, strict=True)


def read_scenario_data(path: str | Path) -> tuple[dict[str, Any], Origin]:
    """A scenario file's data merged over its ``extends`` chain, not yet validated, and which
    file set each value (for a caller that fills in what no file gives, as ``size`` does)."""
    origin: Origin = {}
    return _read_merged(Path(path), chain=(), origin=origin), origin


def validate(
    data: dict[str, Any], *, file: str | None = None, origin: Origin | None = None, strict: bool = False
) -> Scenario:
    """Validate plain data as a Scenario, turning pydantic errors into one clear message."""
    return validate_as(Scenario, data, file=file, origin=origin, strict=strict)


# --------------------------------------------------------------------------- reading files


def _read_merged(path: Path, chain: tuple[Path, ...], origin: Origin) -> dict[str, Any]:
    """The file's data merged over its ``extends`` chain; fills ``origin`` as it goes."""
    resolved = path.resolve()
    try:
        data = _read_toml(path)
    except ScenarioError as exc:
        if not chain:
            raise
        via = f" (reached by 'extends' from {chain[-1].name})"
        raise ScenarioError(str(exc).removeprefix(f"{exc.file}: ") + via, file=exc.file) from None
    parent = data.pop("extends", None)
    if parent is None:
        _no_remove(data, path)
        origin.update({(key,): str(path) for key in data})
        return data
    if not isinstance(parent, str) or not parent.strip():
        raise ScenarioError(
            f"extends = {show(parent)} is not allowed: give the name of another scenario file in quotes, "
            'e.g. extends = "kentucky.toml"',
            file=str(path),
        )
    parent_path = Path(os.path.normpath(path.parent / parent))
    if not parent_path.is_file():
        near = near_files(parent_path)
        raise ScenarioError(
            f'extends = "{parent}" is not allowed: no such file ({parent_path}); give a path relative to the folder '
            f"of this file{near}",
            file=str(path),
        )
    seen = (*chain, resolved)
    if parent_path.resolve() in seen:
        loop = " -> ".join(p.name for p in (*seen, parent_path.resolve()))
        raise ScenarioError(
            f'extends = "{parent}" makes a loop ({loop}); a scenario may not extend itself, directly or through others',
            file=str(path),
        )
    base = _read_merged(parent_path, seen, origin)
    counties = data.pop("counties", None)
    merged = merge(base, data, origin, str(path))
    if counties is not None:
        merged["counties"] = merge_counties(base.get("counties"), counties, origin, str(path))
    return merged


def merge_counties(base: Any, over: Any, origin: Origin | None = None, file: str = "") -> Any:
    """A variant's ``[[counties]]`` merged into its parent's by ``name``.

    A county whose name (ignoring case and surrounding spaces) is the parent's changes only the
    keys it gives (``hiring`` and other lists replace the parent's); a new name is appended;
    ``remove = true`` on an item removes the parent's county of that name. Anything that is not
    a list of named tables is left for the schema to report."""
    if not _named_tables(base) or not _named_tables(over):
        if origin is not None:
            for k in [k for k in origin if k[:1] == ("counties",)]:
                del origin[k]
            origin[("counties",)] = file
        return copy.deepcopy(over)
    out = copy.deepcopy(base)
    index = {_key(c["name"]): i for i, c in enumerate(out)}
    dropped: set[int] = set()
    for item in over:
        item = dict(item)
        remove = item.pop("remove", False)
        i = index.get(_key(item["name"]))
        if remove is not False:
            _check_remove(item, remove, i, out, file)
            dropped.add(i)  # type: ignore[arg-type]
            del index[_key(item["name"])]  # a later item of this name is a new county
        elif i is None:
            index[_key(item["name"])] = len(out)
            out.append(copy.deepcopy(item))
            if origin is not None:
                origin[("counties", len(out) - 1)] = file
        else:
            out[i] = merge(out[i], item, origin, file, ("counties", i))
    if dropped:
        keep = [i for i in range(len(out)) if i not in dropped]
        if origin is not None:
            moved = {k: f for k, f in origin.items() if k[:1] == ("counties",) and len(k) > 1}
            for k in moved:
                del origin[k]
            for new, old in enumerate(keep):
                origin.update({("counties", new, *k[2:]): f for k, f in moved.items() if k[1] == old})
        out = [out[i] for i in keep]
    return out


def _named_tables(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(c, dict) and isinstance(c.get("name"), str) for c in value)


def _key(name: str) -> str:
    return name.strip().casefold()


def _check_remove(item: dict[str, Any], remove: Any, i: int | None, base: list[dict[str, Any]], file: str) -> None:
    """``remove = true`` must be true, alone with the name, and name a county of the parent."""
    name = item["name"]
    if remove is not True:
        raise ScenarioError(f"counties item {show(name)}: remove = {show(remove)} is not allowed: write remove = true "
                            "to remove the parent's county of that name, or leave remove out", file=file)
    if i is None:
        names = [c["name"] for c in base]
        near = difflib.get_close_matches(name, names, n=1)
        hint = f"; did you mean {show(near[0])}?" if near else ""
        raise ScenarioError(f"counties item {show(name)} has remove = true, but the scenario it extends has no county "
                            f"of that name (its counties: {', '.join(map(show, names))}){hint}", file=file)
    extra = sorted(set(item) - {"name"})
    if extra:
        raise ScenarioError(f"counties item {show(name)} has remove = true and also {', '.join(extra)}: a county "
                            "that is removed takes no other keys; remove them, or drop remove = true to change it",
                            file=file)


def _no_remove(data: dict[str, Any], path: Path) -> None:
    """``remove = true`` on a county only makes sense in a file that extends another."""
    counties = data.get("counties")
    if _named_tables(counties) and any("remove" in c for c in counties):
        raise ScenarioError("a counties item has remove = true, but this file extends no other scenario: remove "
                            "the county's [[counties]] item instead", file=str(path))


SCENARIO_FILE = "a scenario .toml file, e.g. scenarios/kentucky.toml"


def _read_toml(path: Path) -> dict[str, Any]:
    return read_toml(path, SCENARIO_FILE)
