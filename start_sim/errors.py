"""One exception type for bad input, with a message a planner can act on."""

from __future__ import annotations


class ScenarioError(ValueError):
    """A scenario file (or override) is invalid.

    The message names the file, the field path, the offending value and what is allowed,
    so that the CLI can print it as is and exit with status 2.
    """

    def __init__(self, message: str, *, file: str | None = None) -> None:
        self.file = file
        prefix = f"{file}: " if file else ""
        super().__init__(prefix + message)
