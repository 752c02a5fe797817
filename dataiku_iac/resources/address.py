"""Resource addresses: `dataset.CHURN.customers_raw`, `project.CHURN`, `variables.CHURN`..."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from . import registry

_ADDRESS = re.compile(r"^(?P<kind>[a-z_]+)\.(?P<project>[A-Za-z0-9_]+)(?:\.(?P<name>[A-Za-z0-9_]+))?$")


# The `project` of an instance object's address (a connection, a group...): it belongs to no project.
INSTANCE = ""


@dataclass(frozen=True, order=True)
class Address:
    kind: str
    project: str
    name: str | None = None

    def __str__(self) -> str:
        if self.project == INSTANCE:
            return f"{self.kind}.{self.name}"
        return f"{self.kind}.{self.project}" if self.name is None else f"{self.kind}.{self.project}.{self.name}"

    @classmethod
    def instance(cls, kind: str, name: str) -> Address:
        """The address of an object of the DSS instance: `connection.pg_prod`, `group.analysts`."""
        return cls(kind, INSTANCE, name)

    @property
    def in_instance(self) -> bool:
        return self.project == INSTANCE

    @classmethod
    def parse(cls, text: str) -> Address:
        # Plans parse every address of the state several times: parsed once per registry version.
        return _parse(text, registry.version())

    @classmethod
    def _parse(cls, text: str) -> Address:
        m = _ADDRESS.match(text.strip())
        if not m or m["kind"] not in registry.KINDS:
            raise ValueError(f"invalid address '{text}': expected KIND.PROJECT[.NAME] with KIND one of "
                             f"{', '.join(registry.names())} (e.g. dataset.CHURN.customers_raw)")
        kind, project, name = m["kind"], m["project"], m["name"]
        if registry.get(kind).instance_level:
            if name is not None:
                raise ValueError(f"invalid address '{text}': a {kind} address is {kind}.NAME")
            return cls.instance(kind, project)
        project_level = registry.get(kind).project_level
        if project_level != (name is None):
            shape = f"{kind}.PROJECT" if project_level else f"{kind}.PROJECT.NAME"
            raise ValueError(f"invalid address '{text}': a {kind} address is {shape}")
        return cls(kind, project, name)

    @classmethod
    def of(cls, value: str | Address) -> Address:
        """An address given as text or as an Address; bad text is a ConfigError (a user's mistake)."""
        if isinstance(value, Address):
            return value
        from ..errors import ConfigError

        try:
            return cls.parse(value)
        except ValueError as e:
            raise ConfigError(str(e)) from None

    def matches(self, target: Address) -> bool:
        """Whether a `--target` selects this address: itself, or everything of a targeted project."""
        if target == self:
            return True
        return target.kind == "project" and target.project == self.project and not self.in_instance


def split_ref(ref: str, project_key: str) -> tuple[str, str]:
    """A flow reference in a project file, `name` or `PROJECT.name` -> (project key, name)."""
    if "." in ref:
        key, _, name = ref.partition(".")
        return key, name
    return project_key, ref


@functools.lru_cache(maxsize=1 << 16)
def _parse(text: str, kinds_version: int) -> Address:
    return Address._parse(text)
