"""Reading the ``manifest.json`` of a results folder, with messages that name the file and
the key, and say what writes a valid one (instead of a ``KeyError: 'scenario'``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from start_sim.core.errors import RunError

REWRITE = "rerun start-sim run or compare into this folder to write a valid one"


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of ``folder`` as a dict (``RunError`` if it is missing, not JSON or not an object)."""
    path = folder / "manifest.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunError(f"{folder} is not a results folder: it has no manifest.json ({REWRITE})") from None
    except UnicodeDecodeError:
        raise RunError(f"{path} is not a text file ({REWRITE})") from None
    except ValueError as exc:
        raise RunError(f"{path} is not valid JSON ({exc}); it may have been edited or cut short; {REWRITE}") from None
    if not isinstance(doc, dict):
        raise RunError(f"{path} holds a JSON {type(doc).__name__}, not the object start-sim writes; {REWRITE}")
    return doc


def need(manifest: dict[str, Any], key: str, kind: type | tuple[type, ...], folder: Path) -> Any:
    """``manifest[key]``, checked to be of ``kind`` (``RunError`` naming the key and the file)."""
    if key not in manifest:
        raise RunError(f"{folder / 'manifest.json'} has no {key!r} entry, which start-sim needs; {REWRITE}")
    value = manifest[key]
    if not isinstance(value, kind):
        raise RunError(f"{folder / 'manifest.json'}: the {key!r} entry is not what start-sim writes; {REWRITE}")
    return value


def read_table(folder: Path, name: str) -> pd.DataFrame:
    """A CSV table of a results folder (``RunError`` if it is missing or unreadable)."""
    path = folder / name
    try:
        return pd.read_csv(path)
    except FileNotFoundError:
        raise RunError(f"{folder} has no {name}: the results folder is incomplete; {REWRITE}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise RunError(f"{path} cannot be read as a table ({exc}); {REWRITE}") from None
