"""`WorkspaceSettings`: dss-iac.yaml alone (the environments, where their states are kept), no project file read.

What a front end shows first of a big workspace while its projects load (the last apply, what each state
manages, the locks): 400 project files take seconds to load, dss-iac.yaml milliseconds. It can neither plan nor
apply, since it does not know what the files declare: `Workspace.load` does that.

    settings = WorkspaceSettings.load("path/to/repo")
    state = settings.state_store("prod").read()
"""

from __future__ import annotations

from pathlib import Path

from .config.loader import WorkspaceConfig, load_settings
from .config.models import Environment
from .state.backends import open_store
from .state.store import StateStore


class WorkspaceSettings:
    def __init__(self, config: WorkspaceConfig) -> None:
        self._config = config  # its projects are not read: never handed to anything that plans

    @classmethod
    def load(cls, path: str | Path = ".") -> WorkspaceSettings:
        """The settings of the workspace at `path` (or its nearest parent holding dss-iac.yaml)."""
        return cls(load_settings(Path(path)))

    @property
    def root(self) -> Path:
        return self._config.root

    @property
    def environments(self) -> list[str]:
        return list(self._config.spec.environments)

    def read_from(self, config: WorkspaceConfig) -> bool:
        """Whether `config` (a full load's) was read from this very dss-iac.yaml: the same environments and states."""
        return config.root == self.root and config.file.text == self._config.file.text

    def environment(self, name: str) -> Environment:
        """The environment, its `${env:...}` references resolved, as `Workspace.environment` gives it."""
        return self._config.environment(name)

    def state_store(self, env: str) -> StateStore:
        """The environment's state, read and locked as `Workspace.state_store(env)` does."""
        self.environment(env)
        return open_store(self._config.spec.state, self.root, env)
