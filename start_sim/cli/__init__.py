"""The ``start-sim`` command line: one subcommand per module of ``start_sim.cli``."""

from __future__ import annotations

import argparse
import importlib

COMMANDS = ("run", "compare", "report", "calibrate", "uncertainty", "size")
"""Subcommands in the order ``--help`` lists them; each is ``start_sim.cli.<name>``."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="start-sim", description="Simulate START dyads, caseloads and outcomes.")
    sub = p.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        module = importlib.import_module(f"start_sim.cli.{name}")
        cmd = sub.add_parser(name, help=module.HELP, description=module.__doc__)
        module.add_arguments(cmd)
        cmd.set_defaults(handler=module.main)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad input, 1 cannot write, 130 interrupted)."""
    args = _parser().parse_args(argv)
    return args.handler(args)
