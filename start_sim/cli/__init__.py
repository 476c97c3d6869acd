"""The ``start-sim`` command line: one subcommand per module of ``start_sim.cli``."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings

from start_sim.core.version import __version__

COMMANDS = ("run", "compare", "report", "calibrate", "uncertainty", "discover", "size", "referrals", "new-county", "app")
"""Subcommands in the order ``--help`` lists them; each is ``start_sim.cli.<name>``."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="start-sim", description="Simulate START dyads, caseloads and outcomes.")
    p.add_argument("--version", action="version", version=f"start-sim {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        module = importlib.import_module(f"start_sim.cli.{name.replace('-', '_')}")
        cmd = sub.add_parser(name, help=module.HELP, description=module.__doc__)
        module.add_arguments(cmd)
        cmd.set_defaults(handler=module.main)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad input, 1 cannot write or
    an internal error, 130 interrupted). Every command gets here: errors a user can cause
    become a one-paragraph message, anything else a request to report it, never a traceback
    (set START_SIM_DEBUG=1 to see one)."""
    from start_sim.cli.common import fail
    from start_sim.core.errors import RunError, ScenarioError
    from start_sim.outputs.folders import FolderError

    args = _parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return args.handler(args)
    except (ScenarioError, RunError, FolderError) as exc:
        return fail(exc)
    except KeyboardInterrupt:
        return fail("interrupted", 130)
    except OSError as exc:
        return fail(f"cannot read or write {exc.filename or 'a file'}: {exc.strerror or exc}", 1)
    except Exception as exc:
        if os.environ.get("START_SIM_DEBUG"):
            raise
        return _internal(args.command, exc)


def _internal(command: str, exc: Exception) -> int:
    """Exit 1 for an error start-sim did not expect: say where (which replication) and ask for a report."""
    from start_sim.cli.common import fail
    from start_sim.experiments.records import ReplicationFailed

    if isinstance(exc, ReplicationFailed):
        if exc.user:
            return fail(f"the simulation cannot go on with this scenario: {exc}")
        where = f"in scenario {exc.scenario!r}, replication {exc.replication}, seed {exc.seed}: {exc.cause}"
    else:
        where = f"{type(exc).__name__}: {exc}"
    return fail(f"internal error in start-sim {command} {where}. This is a bug in start-sim, not in your input; "
                f"please report it with this message and the command you ran (START_SIM_DEBUG=1 shows the "
                f"traceback)", 1)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A scenario warning as one line on stderr (no source line); others as Python shows them."""
    from start_sim.core.errors import ScenarioWarning

    if issubclass(category, ScenarioWarning):
        print(f"start-sim: warning: {message}", file=sys.stderr)
    else:
        print(warnings.formatwarning(message, category, filename, lineno, line), end="", file=sys.stderr)
