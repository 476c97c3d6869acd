"""start-sim: a discrete-event model of START child-welfare dyads for capacity planning."""

from start_sim.analyses.staffing import size_staffing
from start_sim.core.errors import ScenarioError
from start_sim.core.version import __version__
from start_sim.experiments.compare import Comparison, compare
from start_sim.experiments.results import Results
from start_sim.experiments.runner import run
from start_sim.inputs.files import load_scenario
from start_sim.inputs.schema import Scenario
from start_sim.outputs.writers import write_comparison, write_run

__all__ = ["Comparison", "Results", "calibrate", "compare", "Scenario", "ScenarioError", "load_scenario", "run",
           "size_staffing", "write_comparison", "write_run", "__version__"]


def __getattr__(name: str):
    """``ss.calibrate``, imported on first use (scipy.optimize is not needed to run scenarios)."""
    if name == "calibrate":
        from start_sim.analyses.calibration import calibrate

        return calibrate
    raise AttributeError(f"module 'start_sim' has no attribute {name!r}")
