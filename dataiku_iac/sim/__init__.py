"""A Dataiku DSS simulator: the DSS public REST API over real HTTP, for tests, demos and laptops.

    from dataiku_iac.sim import Simulator
    with Simulator() as sim:
        project = sim.client().create_project("CHURN", "Churn", "admin")

`dataiku_iac.sim.shared` runs one simulator per data dir as a server that several processes share.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .context import ApiKey, SimOptions
    from .simulator import DEFAULT_API_KEY, DataDirBusyError, Simulator

__all__ = ["DEFAULT_API_KEY", "ApiKey", "DataDirBusyError", "SimOptions", "Simulator"]


def __getattr__(name: str) -> Any:
    # Lazy: a process that only talks to a shared simulator (dataiku_iac.sim.shared) never loads the handlers.
    if name in ("ApiKey", "SimOptions"):
        from . import context

        return getattr(context, name)
    if name in ("DEFAULT_API_KEY", "DataDirBusyError", "Simulator"):
        from . import simulator

        return getattr(simulator, name)
    raise AttributeError(name)
