"""start-sim: a discrete-event model of START child-welfare dyads for capacity planning."""

__version__ = "0.1.0"

from .compare import Comparison, compare  # noqa: E402
from .errors import ScenarioError  # noqa: E402
from .experiment import Results, run  # noqa: E402
from .loader import load_scenario  # noqa: E402
from .scenario import Scenario  # noqa: E402
from .staffing import size_staffing  # noqa: E402

__all__ = ["Comparison", "Results", "calibrate", "compare", "Scenario", "ScenarioError", "load_scenario", "run",
           "size_staffing", "__version__"]


def __getattr__(name: str):
    """``ss.calibrate``, imported on first use (scipy.optimize is not needed to run scenarios)."""
    if name == "calibrate":
        from .calibration import calibrate

        return calibrate
    raise AttributeError(f"module 'start_sim' has no attribute {name!r}")
