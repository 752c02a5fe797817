"""Resource addresses: `dataset.CHURN.customers_raw`, `project.CHURN`, `variables.CHURN`, `group.analysts`...

An instance object whose name is not one plain segment (letters, digits, `_`, `-`), such as the login
`jane.doe@corp.com` of an LDAP or SSO user, is addressed with its name quoted, as Terraform quotes index keys:
`user["jane.doe@corp.com"]`. Dots then split nothing: `user.jane.doe@corp.com` is refused, with the quoted form
to use instead. Plain names keep their plain address (`user.jane` and `user["jane"]` are the same address, shown
`user.jane`).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from . import registry

_ADDRESS = re.compile(r"^(?P<kind>[a-z_]+)\.(?P<project>[A-Za-z0-9_-]+)(?:\.(?P<name>[A-Za-z0-9_]+))?$")
# An instance object's name, quoted: any printable text but quotes, backslashes, spaces and path separators, so
# the address needs no escapes and still reads as one token in a shell (quoted) or a file.
_QUOTED = re.compile(r'^(?P<kind>[a-z_]+)\["(?P<name>[^"\\\s/]+)"\]$')
# A name shown without quotes: one plain segment.
_PLAIN = re.compile(r"^[A-Za-z0-9_-]+$")
_PROJECT = re.compile(r"^[A-Za-z0-9_]+$")


# The `project` of an instance object's address (a connection, a group...): it belongs to no project.
INSTANCE = ""


@dataclass(frozen=True, order=True)
class Address:
    kind: str
    project: str
    name: str | None = None

    def __str__(self) -> str:
        if self.project == INSTANCE:
            plain = self.name is not None and _PLAIN.match(self.name)
            return f"{self.kind}.{self.name}" if plain else f'{self.kind}["{self.name}"]'
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
        quoted = _QUOTED.match(text.strip())
        if quoted and quoted["kind"] in registry.KINDS and registry.get(quoted["kind"]).instance_level:
            return cls.instance(quoted["kind"], quoted["name"])
        m = _ADDRESS.match(text.strip())
        if not m or m["kind"] not in registry.KINDS:
            kind = text.strip().partition(".")[0].partition("[")[0]
            if kind in registry.KINDS and registry.get(kind).instance_level:
                raise ValueError(_instance_shape(text, kind))
            raise ValueError(f"invalid address '{text}': expected KIND.PROJECT[.NAME] with KIND one of "
                             f"{', '.join(registry.names())} (e.g. dataset.CHURN.customers_raw)")
        kind, project, name = m["kind"], m["project"], m["name"]
        if registry.get(kind).instance_level:
            if name is not None:
                raise ValueError(_instance_shape(text, kind))
            return cls.instance(kind, project)
        if not _PROJECT.match(project):
            raise ValueError(f"invalid address '{text}': a project key is letters, digits and `_`")
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


def _instance_shape(text: str, kind: str) -> str:
    """The error for an instance address of the wrong shape, with the quoted form when dots were meant as a name."""
    name = text.strip().partition(".")[2]
    hint = f': {kind}["{name}"]' if name and not re.search(r'["\\\s/\[\]]', name) else ""
    return (f"invalid address '{text}': a {kind} address is {kind}.NAME, or {kind}[\"NAME\"] for a name with "
            f"other characters than letters, digits, `_` and `-` (no spaces, quotes or `/`){hint}")


def kind_of(text: str) -> str:
    """The kind an address's text names, without checking the rest (plans and states of older versions too):
    `dataset.P.x` and `user["jane.doe@corp.com"]` -> dataset, user."""
    return re.split(r"[.\[]", text, maxsplit=1)[0]


def label(text: str) -> str:
    """An address as plans title a resource: `dataset "P.x"`, `user "jane.doe@corp.com"`."""
    quoted = _QUOTED.match(text)
    if quoted:
        return f'{quoted["kind"]} "{quoted["name"]}"'
    kind, _, rest = text.partition(".")
    return f'{kind} "{rest}"'


def split_ref(ref: str, project_key: str) -> tuple[str, str]:
    """A flow reference in a project file, `name` or `PROJECT.name` -> (project key, name)."""
    if "." in ref:
        key, _, name = ref.partition(".")
        return key, name
    return project_key, ref


@functools.lru_cache(maxsize=1 << 16)
def _parse(text: str, kinds_version: int) -> Address:
    return Address._parse(text)
