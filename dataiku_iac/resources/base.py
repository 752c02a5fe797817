"""What every resource kind provides: read, create, update, delete, and normalisation to managed fields.

A kind never diffs: it turns a DSS document into the managed fields (`fields_of`) and writes desired
fields into a DSS document it has just read (`update`), so fields it does not manage survive.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from .address import Address

if TYPE_CHECKING:
    from dataikuapi import DSSClient
    from dataikuapi.dss.project import DSSProject

    from ..config.loader import ProjectSource
    from .context import EnvContext


@dataclass(frozen=True)
class Desired:
    """A resource as the config wants it in one environment."""

    address: Address
    fields: dict[str, Any]
    depends_on: tuple[Address, ...] = ()
    # Shown in plans instead of the value, never stored: e.g. the logical name of a remapped connection.
    notes: dict[str, str] = field(default_factory=dict)
    # Keys of open maps that the config no longer sets: an update removes them (field -> keys).
    removed: dict[str, tuple[str, ...]] = field(default_factory=dict)


# What an environment remaps: logical connection names and logical code env names.
CONNECTION, CODE_ENV = "connection", "code_env"


@dataclass(frozen=True)
class Activation:
    """What activating a bundle on an automation node does to the objects it carries: connections and code envs
    renamed (source name -> target name), scenarios switched on or off (by their bundle name)."""

    connections: Mapping[str, str] = field(default_factory=dict)
    code_envs: Mapping[str, str] = field(default_factory=dict)
    scenarios_to_activate: Mapping[str, bool] = field(default_factory=dict)

    def renamed(self, what: str, name: Any) -> Any:
        names = self.connections if what == CONNECTION else self.code_envs
        return names.get(name, name) if isinstance(name, str) else name


# (value found in DSS, value the plan compared it with, the YAML's current value) -> the YAML's new value
Reshape = Callable[[Any, Any, Any], Any]


@dataclass(frozen=True)
class ImportContext:
    """What `import` knows when it writes objects read from DSS into a project file."""

    project_key: str
    logical: Mapping[str, str]  # physical connection -> the logical name the file uses
    code_dir: Path  # where code files go
    project_dir: Path  # the project file's folder (code paths are relative to it)
    code: dict[Path, str] = field(default_factory=dict)  # code files to write, filled by `config_entry`

    def connection(self, physical: str | None) -> str | None:
        return self.logical.get(physical, physical) if physical else physical


def nonempty(d: Mapping[str, Any]) -> dict[str, Any]:
    """`d` without its empty values: what a project file leaves out."""
    return {k: v for k, v in d.items() if v not in (None, "", [], {})}


@dataclass(frozen=True)
class Remote:
    """A resource as read from DSS: its id, its managed fields, and the raw document for updates (None when the
    fields come from the state, the object's version not having moved since it was recorded)."""

    remote_id: str
    fields: dict[str, Any]
    raw: Any = None


@dataclass(frozen=True)
class Listed:
    """One object of a project's list reply: the name `import` gives it, its id, its version (versionTag.versionNumber,
    None when the reply does not carry it) and the list item itself."""

    name: str
    remote_id: str
    version: int | None = None
    item: Any = None


def version_number(doc: Any) -> int | None:
    """versionTag.versionNumber of a DSS document, or None."""
    tag = doc.get("versionTag") if isinstance(doc, Mapping) else None
    number = tag.get("versionNumber") if isinstance(tag, Mapping) else None
    return number if isinstance(number, int) and not isinstance(number, bool) else None


class Kind(ABC):
    """One DSS object type. Subclasses are stateless; one instance serves every resource of its kind, registered
    once in `registry`; planner, importer, deploy, editing and the front ends all ask the kind, never its name."""

    name: ClassVar[str]
    # The configuration of one object, as a project file writes it: a pydantic model whose field descriptions are
    # the config reference and the JSON Schema (a project-level kind's model is its key in the `project:` section).
    model: ClassVar[Any]
    # Where its objects sit in a project file: the collection key (`datasets`, keyed by name), or None for a kind
    # with one object per project (`project.KEY`, `variables.KEY`), which lives in the `project:` section.
    collection: ClassVar[str | None] = None
    # Place in the dependency graph: lower ranks are created first and deleted last.
    rank: ClassVar[int] = 500
    # Whether a bundle carries it from the design node to an automation node.
    in_bundle: ClassVar[bool] = True
    # Whether an environment's `overrides` may change it (`scenario.*.*: {active: false}`).
    overridable: ClassVar[bool] = True
    # Whether DSS deletes the objects that use this one when it is deleted (so a replace drags them along).
    replace_drops_dependents: ClassVar[bool] = False
    # What a dependency replaced that way does to this object: "replace" (DSS deleted it too), "update" (DSS moved
    # the new object out of it), or None.
    on_dependency_replaced: ClassVar[str | None] = None
    # Managed fields holding a name the environment remaps: field -> CONNECTION or CODE_ENV.
    remapped: ClassVar[Mapping[str, str]] = {}
    # Fields DSS cannot change in place: a change to one plans a replace.
    replace_on: ClassVar[frozenset[str]] = frozenset()
    # Dict fields compared only on the keys the config manages, since DSS fills in its own defaults.
    open_maps: ClassVar[frozenset[str]] = frozenset()
    # Whether deleting the project deletes this resource too (no separate delete call needed).
    dies_with_project: ClassVar[bool] = True
    # Whether a project holds any number of these (datasets, recipes...), listed by `listing`.
    listed: ClassVar[bool] = False
    # Whether DSS bumps the object's versionTag on every edit of what this kind manages, and its list reply carries
    # it: then a refresh lists the kind once per project and reads only the objects whose version moved since the
    # state recorded it (docs/performance.md). Kinds without it are read one by one, unless `from_listing` can
    # make them from the list reply alone.
    versioned: ClassVar[bool] = False
    # Kinds whose objects DSS refers to by id while this kind's fields show their names (a recipe's folders): renaming
    # one changes these fields without moving their versions, so a refresh watches those kinds' list replies too.
    names_of: ClassVar[frozenset[str]] = frozenset()
    # Managed fields that are the YAML key of the same name, value for value: `adopt` writes DSS's value as it is.
    adoptable: ClassVar[frozenset[str]] = frozenset()
    # Managed fields whose YAML form differs (defaults left out, names instead of records): how `adopt` writes them.
    reshaped: ClassVar[Mapping[str, Reshape]] = {}
    # Set for a kind whose configuration is a list of entries, one per value of this key (permissions: one per
    # `group`), rather than a mapping of keys: edits and adoption then address the entries by that key.
    keyed_by: ClassVar[str | None] = None
    # What the workbench's "New" starts an object from (the keys a user fills in first).
    template: ClassVar[Any] = {}

    @abstractmethod
    def desired(self, source: ProjectSource, env: EnvContext) -> list[Desired]:
        """What the project file asks for, in one environment."""

    @abstractmethod
    def read(self, client: DSSClient, address: Address, remote_id: str | None) -> Remote | None:
        """The resource as it is in DSS, or None when it does not exist."""

    def find(self, client: DSSClient, address: Address, name: str | None) -> Remote | None:
        """The object a create of `address` made when its outcome is unknown (a lost reply, a crash), found by
        what the create gave it (`name`, the `name` field it wrote): so a retry adopts it instead of making a
        twin. By default the address names it, as it does for objects whose names are their ids."""
        return self.read(client, address, None)

    @abstractmethod
    def create(self, client: DSSClient, desired: Desired) -> str:
        """Create the object and return its remote id."""

    @abstractmethod
    def update(self, client: DSSClient, desired: Desired, remote: Remote) -> None:
        """Write the desired fields into the remote document (read-merge-write)."""

    @abstractmethod
    def delete(self, client: DSSClient, address: Address, remote_id: str) -> None:
        """Delete the object (keeping its data: dss-iac never drops data by default)."""

    @property
    def project_level(self) -> bool:
        """One object per project, addressed `kind.PROJECT` (no name)."""
        return self.collection is None

    def config_path(self, name: str | None) -> tuple[str, ...]:
        """Where an object's configuration sits in its project file: `(collection, name)` by default."""
        assert self.collection is not None and name is not None, f"{self.name} objects have no name"
        return (self.collection, name)

    # -- bundles ------------------------------------------------------------------------------------------------
    def bundle_name(self, name: str) -> str:
        """How an object of a bundle is matched with the automation node's: by its name, by default."""
        return name

    def bundle_fields(self, fields: dict[str, Any]) -> dict[str, Any]:
        """The managed fields a bundle carries (all of them, by default)."""
        return fields

    def activated(self, fields: dict[str, Any], activation: Activation, current: Mapping[str, Any] | None,
                  name: str) -> dict[str, Any]:
        """The fields of a design object as activation leaves them on the automation node (`current`: the object
        there now, if any): the `remapped` fields renamed, by default."""
        out = copy.deepcopy(fields)
        for f, what in self.remapped.items():
            if f in out:
                out[f] = activation.renamed(what, out[f])
        return out

    def declared(self, spec: Any) -> list[str | None]:
        """The objects of this kind a project file (`spec`) declares: their names (None for a project-level kind)."""
        return [None] if self.collection is None else list(getattr(spec, self.collection))

    def names_used(self, entry: Any) -> list[tuple[tuple[str, ...], str, str]]:
        """The logical names an object's configuration (`entry`, its `model`) uses that environments remap:
        (where in the entry, CONNECTION or CODE_ENV, logical name). By default the `remapped` fields set."""
        out: list[tuple[tuple[str, ...], str, str]] = []
        for f, what in self.remapped.items():
            value = getattr(entry, f, None)
            if value is not None:
                out.append(((f,), what, str(value)))
        return out

    def instance_type(self, entry: Any) -> tuple[str | None, str | None]:
        """What the instance must have for the names `names_used` gives: the connection type that can hold the
        object (or the code env's language), None for any; and the object's own type, for messages."""
        return None, None

    def config_entry(self, name: str | None, fields: dict[str, Any], ctx: ImportContext) -> Any:
        """How `import` writes an object read from DSS (its managed `fields`) in a project file: the value under
        its `config_path`, idiomatic YAML (defaults left out), valid for `model`. By default the fields as they
        are, empty values left out."""
        return nonempty(fields)

    def list_in(self, project: DSSProject) -> list[tuple[str, str]]:
        """(name, remote id) of every object of this kind the project holds in DSS, with one list call; the name
        is the key `import` gives it in a project file. Only for kinds with `listed` set: implement this, or
        `listing` when the list reply carries more (versions)."""
        if type(self).listing is Kind.listing:
            raise NotImplementedError(f"{self.name} objects are not listed per project")
        return [(o.name, o.remote_id) for o in self.listing(project)]

    def listing(self, project: DSSProject) -> list[Listed]:
        """Every object of this kind the project holds in DSS, with one list call (see `Listed`); by default what
        `list_in` gives, without versions."""
        return [Listed(name, remote_id) for name, remote_id in self.list_in(project)]

    def from_listing(self, project: DSSProject, listed: Listed,
                     listings: Mapping[str, list[Listed]]) -> Remote | None:
        """The object made from its list reply alone, when that reply carries every managed field (`listings`: the
        project's other list replies, by kind name); None when the object must be read."""
        return None

    def version_of(self, remote: Remote) -> int | None:
        """The version of an object as `read` returned it (None when DSS gives it none)."""
        raw = remote.raw
        return version_number(raw if isinstance(raw, Mapping) else getattr(raw, "get_raw", dict)())
