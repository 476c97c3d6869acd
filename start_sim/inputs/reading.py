"""Reading an input file's text and TOML, every problem a :class:`ScenarioError` naming the file.

Shared by scenario, targets and posterior files, so that each says the same thing about a
folder, a missing file, a special file (``/dev/null``, a FIFO: never opened, a FIFO would
block), text that is not UTF-8 and malformed TOML. A UTF-8 byte-order mark (as some Windows
editors write) is dropped: the file is read as if it had none.
"""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import Any

from start_sim.core.errors import ScenarioError


def read_text(path: Path, what: str) -> str:
    """The file's text; ``what`` names the kind of file wanted, e.g. 'a scenario .toml file'."""
    if path.is_dir():
        raise ScenarioError(f"this is a folder; give {what}", file=str(path))
    if path.exists() and not path.is_file():
        raise ScenarioError(
            f"not a regular file (a device, pipe or socket, such as /dev/null); give {what}", file=str(path)
        )
    if not path.is_file():
        raise ScenarioError(f"file not found; give {what}{near_files(path)}", file=str(path))
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"not UTF-8 text (byte {exc.start}); give {what}, saved as UTF-8", file=str(path)) from None
    except OSError as exc:
        raise ScenarioError(f"cannot be read: {exc.strerror or exc}", file=str(path)) from None


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """The file's TOML as plain data (an empty file is an empty table)."""
    text = read_text(path, what)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(
            f"malformed TOML: {exc}; see https://toml.io for the syntax (strings in quotes, one key = value per line, "
            "[table] and [[array]] headers)",
            file=str(path),
        ) from None


def near_files(path: Path) -> str:
    """'; did you mean ...?' naming a file of the same kind in the same folder with a similar name, if any."""
    folder = path.parent
    if not folder.is_dir():
        return ""
    names = sorted(p.name for p in folder.glob(f"*{path.suffix or '.toml'}"))
    near = difflib.get_close_matches(path.name, names, n=1, cutoff=0.8)
    return f"; did you mean '{folder / near[0]}'?" if near else ""
