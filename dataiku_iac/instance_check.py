"""Does the target instance have what the configuration points at? `validate -e` asks it of every object; `plan`,
`apply` and `promote` ask it of what they are about to write, before writing anything.

Every connection a dataset or folder names must exist there, with a type that can hold it; every code env a
recipe names must exist for the recipe's language. Names are the physical ones of the environment checked (after
its overrides and remapping): a connection that only another environment uses is never asked for. Each problem
is reported at its place in the project file. One listing call per kind, whatever the number of objects.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .config.environment_view import view
from .dss.connect import Connection, read_with_retry
from .errors import ConfigError, ConfigErrors, DSSApiError
from .resources import KINDS, Address, base

if TYPE_CHECKING:
    from .config.loader import ProjectSource, SourceFile
    from .config.models import Environment
    from .workspace import Workspace

CONNECTION, CODE_ENV = "connection", "code env"


@dataclass(frozen=True)
class Need:
    """One connection or code env that one object names, as the instance must have it."""

    what: str  # CONNECTION | CODE_ENV
    physical: str  # the name on the instance
    logical: str | None  # the name in the project file, when remapped
    owner: str  # "dataset 'orders'", for messages
    address: Address
    wanted: str | None  # the connection type that can hold the object (None: any), or the code env's language
    owner_type: str | None  # the dataset's type, for messages
    file: SourceFile = field(compare=False)
    loc: tuple[str | int, ...] = field(compare=False)

    def error(self, message: str) -> ConfigError:
        return self.file.error(message, self.loc)

    @property
    def shown(self) -> str:
        return f"'{self.physical}'" if self.logical in (None, self.physical) else f"'{self.physical}' ({self.logical})"


@dataclass
class InstanceCheck:
    problems: list[ConfigError]
    unchecked: list[str]  # what the API key may not list, so could not be checked

    def refuse(self) -> None:
        """Raise the problems, located in their project files (exit 3), if there are any."""
        if self.problems:
            raise self.problems[0] if len(self.problems) == 1 else ConfigErrors(self.problems)


def needs_of(source: ProjectSource, physical: ProjectSource, env: Environment) -> list[Need]:
    """What project `source` names, as `physical` (its view in environment `env`) deploys it."""
    logical, spec, key = source.spec, physical.spec, physical.key
    out: list[Need] = []
    for kind in KINDS.values():
        before = dict(kind.entries(logical))  # before the environment's overrides
        for name, entry in kind.entries(spec):
            written = {path: named for path, _, named in kind.names_used(before.get(name, entry))}
            owner = kind.name.replace("_", " ") + ("" if name is None else f" '{name}'")
            for path, what, named in kind.names_used(entry):
                wanted, owner_type = kind.instance_type_at(entry, path)
                remap = env.remap.connections if what == base.CONNECTION else env.remap.code_envs
                # A kind names connections or code envs of one language; a scenario names both, its code envs
                # (of Python steps and triggers) being Python's.
                language = wanted or "PYTHON"
                out.append(Need(CONNECTION if what == base.CONNECTION else CODE_ENV, remap.get(named, named),
                                written.get(path), owner, Address(kind.name, key, name),
                                wanted if what == base.CONNECTION else language, owner_type, source.file,
                                (*kind.config_path(name), *(int(p) if p.isdigit() else p for p in path))))
    return out


def workspace_needs(ws: Workspace, env_name: str, projects: Iterable[str] | None = None) -> list[Need]:
    """What the projects (all by default) name in environment `env_name`."""
    env = ws.environment(env_name)
    keys = list(ws.config.projects)
    chosen = keys if projects is None else [k for k in projects if k in ws.config.projects]
    out: list[Need] = []
    for key in chosen:
        source = ws.config.projects[key]
        out += needs_of(source, view(source, env_name, env, ws.config.file, keys), env)
    return out


def planned(ws: Workspace, env_name: str) -> dict[tuple[str, str], str | None]:
    """What the environment's instance file declares, that a plan of it creates: (CONNECTION, name) -> its DSS
    type, (CODE_ENV, name) -> its language. Read from the file as written (no `${env:...}` needed)."""
    from .resources import registry
    from .resources.context import EnvContext

    path = ws.config.spec.environments[env_name].instance if env_name in ws.config.spec.environments else None
    source = ws.config.instances.get(path) if path else None
    if source is None:
        return {}
    out: dict[tuple[str, str], str | None] = {}
    for kind in registry.instance_kinds():
        for name, entry in kind.declared_in(source.spec).items():
            given = kind.provides(kind.fields_of_entry(name, entry, EnvContext(env_name)))
            if given is not None:
                out[(CONNECTION if given[0] == base.CONNECTION else CODE_ENV, name)] = given[1]
    return out


def check_needs(conn: Connection, env_name: str, needs: Iterable[Need],
                declared: dict[tuple[str, str], str | None] | None = None) -> InstanceCheck:
    """Look the needs up on the instance of `conn`: one listing of connections, one of code envs (when needed).
    What the environment's instance file `declared` counts as there: the same plan creates it first."""
    needs = list(needs)
    declared = declared or {}
    problems: list[ConfigError] = []
    unchecked: list[str] = []
    connections = _connection_types(conn) if any(n.what == CONNECTION for n in needs) else {}
    code_envs = _code_envs(conn) if any(n.what == CODE_ENV for n in needs) else set()
    if connections is not None:
        connections.update({name: kind for (what, name), kind in declared.items() if what == CONNECTION})
    if code_envs is not None:
        code_envs |= {(str(lang), name) for (what, name), lang in declared.items() if what == CODE_ENV}
    if connections is None:
        unchecked.append("connections (the API key may not list them)")
    if code_envs is None:
        unchecked.append("code envs (listing them needs an administrator's API key)")
    for n in needs:
        if n.what == CONNECTION and connections is not None:
            if n.physical not in connections:
                problems.append(n.error(f"connection {n.shown} of {n.owner} does not exist on {env_name}"))
            elif n.wanted is not None and connections[n.physical] not in (None, n.wanted):
                problems.append(n.error(f"{n.owner} is {n.owner_type}, but connection {n.shown} on {env_name} is "
                                        f"{connections[n.physical]}"))
        elif n.what == CODE_ENV and code_envs is not None and (str(n.wanted), n.physical) not in code_envs:
            problems.append(n.error(f"{str(n.wanted).lower()} code env {n.shown} of {n.owner} does not exist on "
                                    f"{env_name}"))
    return InstanceCheck(problems, unchecked)


def check_instance(ws: Workspace, env_name: str, addresses: Collection[str] | None = None) -> InstanceCheck:
    """`validate -e`: every object of every project; with `addresses`, only those objects (what a plan writes)."""
    if addresses is not None and not addresses:
        return InstanceCheck([], [])  # nothing written: nothing to check (a no-op plan)
    needs = workspace_needs(ws, env_name)
    if addresses is not None:
        needs = [n for n in needs if str(n.address) in addresses]
    if not needs:
        return InstanceCheck([], [])
    return check_needs(ws.connection(env_name), env_name, needs, planned(ws, env_name))


def _connection_types(conn: Connection) -> dict[str, str | None] | None:
    """Connection name -> type; types are for admins only, so a non-admin key checks names alone (None: neither)."""
    try:
        listed = read_with_retry(conn, conn.client.list_connections)
        return {name: (item.get("type") if hasattr(item, "get") else None) for name, item in listed.items()}
    except DSSApiError:
        pass
    try:
        return {name: None for name in read_with_retry(conn, lambda: conn.client.list_connections_names("all"))}
    except DSSApiError:
        return None


def _code_envs(conn: Connection) -> set[tuple[str, Any]] | None:
    """(LANGUAGE, name) of every code env; None when the API key may not list them (admins only)."""
    try:
        listed = read_with_retry(conn, conn.client.list_code_envs)
    except DSSApiError:
        return None
    return {(str(e.get("envLang", "")).upper(), e.get("envName")) for e in listed}
