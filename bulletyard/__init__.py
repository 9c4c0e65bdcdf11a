"""bulletyard's composition root: the command line, config files and the choice of adapters.

``bulletyard.simulate(...)`` runs one simulation from Python (see :mod:`bulletyard.api`).
"""

__version__ = "0.1.0"

from bulletyard.api import Kpis, SimulationResult, simulate  # noqa: E402

__all__ = ["Kpis", "SimulationResult", "__version__", "simulate"]
