"""The errors of start-sim: bad input (with a message a planner can act on) and runs that cannot go on."""

from __future__ import annotations


class ScenarioError(ValueError):
    """A scenario file (or override) is invalid.

    The message names the file, the field path, the offending value and what is allowed,
    so that the CLI can print it as is and exit with status 2. ``file`` is the file being
    loaded (or ``"override"`` for :meth:`Scenario.with_changes`); ``problems`` holds one
    line per problem found (the message joins them into one paragraph).
    """

    def __init__(self, message: str, *, file: str | None = None, problems: list[str] | None = None) -> None:
        self.file = file
        self.problems = list(problems) if problems else [message]
        prefix = f"{file}: " if file else ""
        super().__init__(prefix + message)


class ScenarioWarning(UserWarning):
    """A scenario that runs but may not mean what was intended (e.g. a county launching after the
    horizon); the message names the field."""


class RunError(Exception):
    """A run that cannot start or continue as asked (e.g. a work folder of another run)."""
