"""A Dataiku DSS simulator: the DSS public REST API over real HTTP, for tests, demos and laptops.

    from dataiku_iac.sim import Simulator
    with Simulator() as sim:
        project = sim.client().create_project("CHURN", "Churn", "admin")
"""

from .context import ApiKey, SimOptions
from .simulator import DEFAULT_API_KEY, DataDirBusyError, Simulator

__all__ = ["DEFAULT_API_KEY", "ApiKey", "DataDirBusyError", "SimOptions", "Simulator"]
