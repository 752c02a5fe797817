"""What the instance kinds share: objects of a DSS instance (connections, code envs, groups, users, global
variables), declared per environment in its instance file and addressed `kind.NAME`.

An environment names its instance file (`instance: instance/prod.yaml` in dss-iac.yaml); each instance kind owns
one section of it (`connections:`, `groups:`...), keyed by name. They are planned in the same graph as the
environment's projects: their low ranks create them before the datasets and recipes that use them and delete them
after (a dataset also depends on the managed connection it names, see `link_instance`).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from .address import Address
from .base import CONNECTION, Desired, Kind, Remote

if TYPE_CHECKING:
    from ..config.loader import ProjectSource
    from .context import EnvContext

# Names of instance objects: one plain segment of an address (`group.data_team`), so no dots, no spaces, no
# path separators. A kind whose names DSS lets hold more (user logins) says so in `name_pattern`; such names are
# addressed quoted (`user["jane.doe@corp.com"]`, see address.py).
INSTANCE_NAME = r"^[A-Za-z0-9_][A-Za-z0-9_-]*$"


class InstanceKind(Kind):
    """A kind whose objects belong to the DSS instance of an environment, not to a project."""

    scope = "instance"
    in_bundle = False
    overridable = False
    dies_with_project = False
    # The key of its objects in an instance file (`connections`), keyed by name.
    section: ClassVar[str]
    # Whether the section is one mapping (instance variables) rather than objects by name: then the one object's
    # name, and what the section holds (for the config reference).
    single: ClassVar[str | None] = None
    section_help: ClassVar[str] = ""
    # What a name of this kind may be (a regular expression), and that said in words.
    name_pattern: ClassVar[str] = INSTANCE_NAME
    name_help: ClassVar[str] = "letters, digits, `_` and `-`"
    # Whether deleting one needs --allow-delete in every environment, protected or not (users: a person's access).
    delete_needs_allow: ClassVar[bool] = False

    def desired(self, source: ProjectSource, env: EnvContext) -> list[Desired]:
        return []  # nothing of a project file: see `instance_desired`

    def declared(self, spec: Any) -> list[str | None]:
        return []

    def config_path(self, name: str | None) -> tuple[str, ...]:
        return (self.section,) if self.single else (self.section, str(name))

    def declared_in(self, spec: Any) -> dict[str, Any]:
        """The objects an instance file (`spec`) declares, by name."""
        value = getattr(spec, self.section)
        if self.single:
            return {self.single: value} if self.section in spec.model_fields_set else {}
        return dict(value)

    def instance_desired(self, spec: Any, env: EnvContext) -> list[Desired]:
        """What the instance file asks for; an object waits for the groups of the same file that it names."""
        declared = set(getattr(spec, "groups", {}))
        out = []
        for name, entry in self.declared_in(spec).items():
            fields = self.fields_of_entry(name, entry, env)
            deps = tuple(Address.instance("group", g) for g in self.groups_named(fields) if g in declared)
            out.append(Desired(Address.instance(self.name, name), fields, deps))
        return out

    def used_by(self, client: Any, name: str, managed: set[str]) -> list[str]:
        """What in DSS, outside the projects `managed` (their keys), still uses the object: deleting it is refused
        while this is not empty (a connection under datasets of projects dss-iac does not manage)."""
        return []

    def groups_named(self, fields: Mapping[str, Any]) -> list[str]:
        """The groups an object's fields name (a user's groups, a connection's allowed groups)."""
        return []

    @abstractmethod
    def fields_of_entry(self, name: str, entry: Any, env: EnvContext) -> dict[str, Any]:
        """The managed fields one declared object wants."""

    def fetch(self, client: Any, name: str) -> dict[str, Any]:
        """The object's DSS document, for the default `read` (kinds whose objects are found by name: connections,
        groups, users); a kind read otherwise (code envs, variables) overrides `read` instead."""
        raise NotImplementedError(f"{self.name} overrides read(): it has no fetch()")

    def normalise(self, raw: dict[str, Any]) -> dict[str, Any]:
        """The managed fields of a DSS document, for the default `read` (see `fetch`)."""
        raise NotImplementedError(f"{self.name} overrides read(): it has no normalise()")

    def read(self, client: Any, address: Address, remote_id: str | None) -> Remote | None:
        from dataikuapi.utils import DataikuException

        try:
            raw = self.fetch(client, str(address.name))
        except DataikuException as e:
            if "does not exist" in str(e) or "not found" in str(e).lower():
                return None
            raise
        return Remote(str(address.name), self.normalise(raw), raw)

    def instance_entry(self, name: str, fields: dict[str, Any]) -> Any:
        """How `import --instance` writes an object read from DSS: its value in the instance file."""
        return self.config_entry(name, fields, None)  # type: ignore[arg-type]

    @abstractmethod
    def list_all(self, client: Any) -> list[str]:
        """The names of every object of this kind on the instance (for `import --instance`)."""

    def provides(self, fields: Mapping[str, Any]) -> tuple[str, str | None] | None:
        """What an object (its managed `fields`) gives the projects that name it: (CONNECTION or CODE_ENV, its DSS
        connection type or code env language). None for kinds that no project names."""
        return None


def link_instance(desired: dict[Address, Desired]) -> dict[Address, Desired]:
    """Each project object that names a managed connection or code env depends on it: created after it, and
    deleted before it (the planner orders by these edges, apply waits on them)."""
    from dataclasses import replace

    from . import registry

    managed = {}
    for a, d in desired.items():
        kind = registry.get(a.kind)
        given = kind.provides(d.fields) if isinstance(kind, InstanceKind) else None
        if given is not None:
            managed[(given[0], a.name)] = a
    if not managed:
        return desired
    out = dict(desired)
    for a, d in desired.items():
        if a.in_instance:
            continue
        kind = registry.get(a.kind)
        extra = [managed[(what, d.fields[f])] for f, what in kind.remapped.items()
                 if isinstance(d.fields.get(f), str) and (what, d.fields[f]) in managed]
        extra += [managed[(CONNECTION, c)] for c in _params_connections(d.fields) if (CONNECTION, c) in managed]
        extra = [x for x in dict.fromkeys(extra) if x not in d.depends_on]
        if extra:
            out[a] = replace(d, depends_on=(*d.depends_on, *extra))
    return out


def _params_connections(fields: Mapping[str, Any]) -> list[str]:
    params = fields.get("params")
    if isinstance(params, Mapping) and isinstance(params.get("connection"), str):
        return [params["connection"]]
    return []


def check_instance_deletes(client: Any, actions: Iterable[Any], managed: set[str]) -> None:
    """Refuse (PlanError) a plan that deletes or replaces an instance object still used outside the projects dss-iac
    manages here (`managed`), naming what uses it."""
    from ..errors import PlanError
    from . import registry

    refused = []
    for a in actions:
        if a.action.value not in ("delete", "replace") or a.kind not in registry.KINDS:
            continue
        kind = registry.get(a.kind)
        if isinstance(kind, InstanceKind):
            users = kind.used_by(client, str(a.remote_id or a.address.name), managed)
            if users:
                refused.append(f"{a.address} is still used by {', '.join(users)}")
    if refused:
        raise PlanError("refusing to delete or replace what projects dss-iac does not manage still use: "
                        + "; ".join(refused) + " (move them to another connection first, or keep it in the "
                        "instance file)")
