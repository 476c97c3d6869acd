"""Reading scenario files: TOML, ``extends`` chains and readable errors.

Every problem with the input becomes one :class:`ScenarioError` whose message names the
file, the field path, the value given and what is allowed. When the bad value came from a
file reached by ``extends``, the message names that file too.
"""

from __future__ import annotations

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
    origin: Origin = {}
    data = _read_merged(path, chain=(), origin=origin)
    return validate(data, file=str(path), origin=origin, strict=True)


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
    return merge(base, data, origin, str(path))


SCENARIO_FILE = "a scenario .toml file, e.g. scenarios/kentucky.toml"


def _read_toml(path: Path) -> dict[str, Any]:
    return read_toml(path, SCENARIO_FILE)
