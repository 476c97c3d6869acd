"""Output folders that are safe to replace: ``--out`` may only replace an empty folder or one
that start-sim wrote (it holds a start-sim ``manifest.json``), and never ``.``, ``..``, a
folder holding the current one, the home folder, a project root or a mount point.

A folder is built hidden beside OUT (``.OUT.build-*``) and swapped in: the old OUT is first
renamed aside (``.OUT.old-*``), so a crash at any moment leaves either the old or the new
results, and the hidden leftovers are removed by the next run into OUT (under its lock)."""

from __future__ import annotations

import glob
import json
import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path

from start_sim.core.version import PACKAGE

MANIFEST = "manifest.json"


class FolderError(Exception):
    """An output folder that start-sim must not create or replace (the message says why and what to do)."""


def is_results_folder(folder: Path) -> bool:
    """True if ``folder`` holds a ``manifest.json`` written by start-sim (any command)."""
    try:
        doc = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and doc.get("package") == PACKAGE


def check_out(out: Path, option: str = "--out") -> None:
    """Raise :class:`FolderError` unless start-sim may create ``out`` or replace it."""
    shown = os.fspath(out)
    other = "give a new folder for the results instead, e.g. --out results/my-run (it is created)"
    if out.name in ("", ".", "..") or shown.rstrip("/\\") in ("", ".", ".."):
        raise FolderError(f"{option} {shown} is not allowed: start-sim replaces the whole output folder, so it must "
                          f"be a named folder, not '.', '..' or the root; {other}")
    if out.is_symlink():
        raise FolderError(f"{option} {shown} is a symbolic link; give the folder itself, or {other}")
    where = out.resolve()
    here = Path.cwd().resolve()
    refusals = (
        (where == here or where in here.parents, "holds the current folder"),
        (where == Path.home().resolve(), "is your home folder"),
        (os.path.ismount(where), "is a mount point (a disk or share)"),
        ((where / "pyproject.toml").exists() or (where / ".git").exists(), "is the root of a project"),
    )
    for refused, why in refusals:
        if refused:
            raise FolderError(f"{option} {shown} {why}; start-sim replaces the whole output folder, so it will not "
                              f"use this one. Nothing was changed; {other}")
    if not out.exists():
        return
    if not out.is_dir():
        raise FolderError(f"{option} {shown} is a file, not a folder; {other}")
    entries = sorted(p.name for p in out.iterdir())
    if entries and not is_results_folder(out):
        named = ", ".join(entries[:3]) + (f" and {len(entries) - 3} more" if len(entries) > 3 else "")
        raise FolderError(f"{option} {shown} holds files that start-sim did not write ({named}); start-sim only "
                          f"replaces an empty folder or one with a start-sim {MANIFEST}, so nothing was changed. "
                          f"{other[0].upper()}{other[1:]}, or move those files away")


def check_file(path: Path, option: str, written_by: Callable[[str], bool]) -> None:
    """Raise :class:`FolderError` unless ``path`` is new or a file start-sim wrote: ``written_by``
    tells from its first line (a fragment's header comment, a posterior's column names)."""
    shown = os.fspath(path)
    if path.is_dir():
        raise FolderError(f"{option} {shown} is a folder; give the path of a file, e.g. {option} results/calibrated.toml")
    if not path.exists():
        return
    try:
        with path.open(encoding="utf-8", errors="replace") as f:
            first = f.readline()
    except OSError as exc:
        raise FolderError(f"{option} {shown} cannot be read ({exc.strerror or exc}); give another file") from None
    if not written_by(first):
        raise FolderError(f"{option} {shown} exists and was not written by start-sim, so it is not replaced; nothing "
                          f"was changed. Give a new file name, or move that file away")


def _hidden(out: Path, kind: str) -> Path:
    """A new hidden name beside ``out`` for a folder being built (``build``) or retired (``old``)."""
    return out.parent / f".{out.name}.{kind}-{secrets.token_hex(4)}"


def clean_leftovers(out: Path) -> int:
    """Remove hidden build and retired folders a killed run left beside ``out``; how many.
    Call it only while holding the run lock of ``out`` (another run may be building one)."""
    n = 0
    for kind in ("build", "old"):
        for p in out.parent.glob(f".{glob.escape(out.name)}.{kind}-*"):
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
                n += 1
    return n


def replace_folder(out: str | Path, fill: Callable[[Path], None]) -> Path:
    """Build a folder with ``fill(tmp)`` beside ``out``, then put it in place of ``out``.

    ``out`` is checked with :func:`check_out` again just before the swap (its files may
    have changed during a long run); only the folder start-sim retires is deleted."""
    out = Path(out)
    check_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    build = _hidden(out, "build")
    build.mkdir()  # mode 0o777 less the umask: the results get the user's normal permissions
    try:
        fill(build)
        check_out(out)
        if out.exists():
            old = _hidden(out, "old")
            os.rename(out, old)
            try:
                os.rename(build, out)
            except OSError:
                os.rename(old, out)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(build, out)
    finally:
        if build.exists():
            shutil.rmtree(build, ignore_errors=True)
    return out
