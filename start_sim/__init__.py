"""start-sim: a discrete-event model of START child-welfare dyads for capacity planning."""

from .errors import ScenarioError
from .loader import load_scenario
from .scenario import Scenario

__version__ = "0.1.0"
__all__ = ["Scenario", "ScenarioError", "load_scenario", "__version__"]
