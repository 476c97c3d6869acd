"""Progress of the long analyses (``calibrate``, ``uncertainty``) on the rich progress bar.

Their progress callbacks report phases as messages (``"design: 40 points"``, ``"PSA: 200
draws"``); :class:`PhaseProgress` turns each message into the next step of the shared
:class:`~start_sim.cli.common.ProgressBar` (phases done, elapsed and time left) on a
terminal, and into one line on stderr otherwise (a log keeps them)."""

from __future__ import annotations

import sys

from start_sim.cli.common import ProgressBar


class PhaseProgress:
    """A progress callback ``(message)`` for an analysis of ``phases`` phases."""

    def __init__(self, bar: ProgressBar, command: str, phases: int):
        self.bar, self.command, self.phases, self.done = bar, command, max(phases, 1), 0

    def __call__(self, message: str) -> None:
        text = f"{self.command}: {message}"
        if not self.bar.enabled:
            print(text, file=sys.stderr, flush=True)
            return
        self.bar.describe(text)
        self.bar(min(self.done, self.phases), self.phases)
        self.done += 1

    def finish(self) -> None:
        """Fill the bar once the analysis has returned."""
        self.bar.describe(f"{self.command}: done")
        self.bar(self.phases, self.phases)
