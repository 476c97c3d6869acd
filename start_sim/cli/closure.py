"""The terminal's table of closure dispositions: where the children of the families START served
live when the case closes and 12 months later, in both arms (decision 0031)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from start_sim.cli.common import console, summary_cell

if TYPE_CHECKING:
    from start_sim.experiments.results import Results


def closure_keys() -> frozenset[str]:
    """The disposition KPIs: shown in this table, not in the outcomes table."""
    from start_sim.metrics.kpis import DISPOSITION_KPIS

    return frozenset(key for keys in DISPOSITION_KPIS.values() for key in keys)


def print_dispositions(results: Results) -> None:
    """Four rows (with a parent, with relatives, in non-relative care, TPR or adopted), each
    column adding up to 1: START and usual services at closure and 12 months after."""
    from rich.table import Table

    from start_sim.metrics.kpis import DISPOSITION_KPIS
    from start_sim.metrics.registry import METRICS

    s = results.summary()

    def cell(key: str) -> str:
        return summary_cell(s, key)

    t = Table(title=f"Where the children are when the case closes, and 12 months later (share of children of the "
                    f"families START served; mean [95% CI], {results.replications} replications; each column adds "
                    "up to 1)")
    t.add_column("disposition")
    for head in ("START at closure", "usual at closure", "START 12 months after", "usual 12 months after"):
        t.add_column(head)
    for at_close, after in DISPOSITION_KPIS.values():
        label = METRICS[at_close].label.split(": ", 1)[1]
        t.add_row(label, cell(f"{at_close}_start"), cell(f"{at_close}_usual"), cell(f"{after}_start"),
                  cell(f"{after}_usual"))
    console().print(t)
