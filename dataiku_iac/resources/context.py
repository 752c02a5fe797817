"""What one environment changes about the desired state: connection and code-env names, variables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..config.loader import ProjectSource
    from ..config.models import Environment


@dataclass(frozen=True)
class EnvContext:
    name: str
    connections: Mapping[str, str] = field(default_factory=dict)
    code_envs: Mapping[str, str] = field(default_factory=dict)
    variables: Mapping[str, Any] = field(default_factory=dict)
    # The environment's settings: project key pattern and per-resource overrides (None in unit tests).
    environment: Environment | None = None
    # The values its `${env:...}` references gave: sensitive wherever they land.
    sensitive: frozenset[str] = frozenset()
    # Where `${env:...}` references are read from (None: the process's environment).
    environ: Mapping[str, str] | None = None
    # A `deploy: bundle` environment: the environment its bundles are made in, and (set per project while the
    # desired state is built) the project as that environment builds it, which is what a bundle carries.
    design: EnvContext | None = None
    design_view: ProjectSource | None = None

    def connection(self, logical: str) -> str:
        """The DSS connection behind a logical name; unmapped names are used as they are."""
        return self.connections.get(logical, logical)

    def code_env(self, logical: str) -> str:
        return self.code_envs.get(logical, logical)
