"""What every resource kind provides: read, create, update, delete, and normalisation to managed fields.

A kind never diffs: it turns a DSS document into the managed fields (`fields_of`) and writes desired
fields into a DSS document it has just read (`update`), so fields it does not manage survive.
"""

from __future__ import annotations

import copy
import functools
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from .address import Address

if TYPE_CHECKING:
    from dataikuapi import DSSClient
    from dataikuapi.dss.project import DSSProject

    from ..config.loader import ProjectSource
    from ..errors import ConfigError
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
# Why an object's name cannot be adopted (`Kind.unadoptable`), for kinds whose objects DSS can rename.
RENAMED = "its name is its key in the file, and adopt never renames an object (rename the key, or revert)"


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


def file_key(collection: str, name: str, field_name: str) -> str:
    """Where the loader keeps the text of a file an object names (`wiki_articles.home.file`): never a recipe name,
    which holds no dot."""
    return f"{collection}.{name}.{field_name}"


@dataclass(frozen=True)
class NamedFile:
    """A file an object's entry names, whose text the loader reads with the project file: a recipe's or a Python
    scenario's code, a wiki article's Markdown (`Kind.files`)."""

    where: tuple[str | int, ...]  # where its path is written in the entry (`code`, `steps.2.code`)
    path: str  # as written: relative to the project file
    key: str  # where the loader keeps its text, `ProjectSource.code[key]`, for the kind's `desired`
    field: str  # the managed field its text becomes (a dotted path: `body`, `steps.2.code`)
    what: str = "code file"  # how errors name it
    refused: str | None = None  # why this entry may not name a file: the loader says it at `where`, reads nothing


def nonempty(d: Mapping[str, Any]) -> dict[str, Any]:
    """`d` without its empty values: what a project file leaves out."""
    return {k: v for k, v in d.items() if v not in (None, "", [], {})}


def project_missing(e: Exception) -> bool:
    """Whether a DSS error says the object is absent (DSS says so with a 404 or, often, a 500)."""
    text = str(e)
    return "does not exist" in text or "not found" in text.lower() or "UnknownObject" in text


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
    # List fields of records (a scenario's steps) that plans compare item by item and key by key (`steps.1.sql`).
    itemwise: ClassVar[frozenset[str]] = frozenset()
    # Whether deleting the project deletes this resource too (no separate delete call needed).
    dies_with_project: ClassVar[bool] = True
    # Whether a project holds any number of these (datasets, recipes...), listed by `listing`.
    listed: ClassVar[bool] = False
    # The kind whose list reply holds this kind's objects too (dataset metrics: the list of datasets, whole): a plan
    # makes that one call for both, and `from_listed` picks this kind's objects out of it.
    listed_with: ClassVar[str | None] = None
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
    # Open-map fields whose entries have another form in YAML (a dataset's checks): `adopt` writes one whole entry
    # at a time, through `adopt_entry`.
    entrywise: ClassVar[frozenset[str]] = frozenset()
    # Managed fields `adopt` cannot write back, each with why, in one line (the refusal says it; docs/tui.md lists
    # them).
    unadoptable: ClassVar[Mapping[str, str]] = {}
    # Set for a kind whose configuration is a list of entries, one per value of this key (permissions: one per
    # `group`), rather than a mapping of keys: edits and adoption then address the entries by that key.
    keyed_by: ClassVar[str | None] = None
    # What the workbench's "New" starts an object from (the keys a user fills in first).
    template: ClassVar[Any] = {}
    # Top-level keys of its DSS document that the server makes (left out of a passthrough document): version
    # tags, and what identifies the object (its project, its name or id: the address says them).
    server_made: ClassVar[frozenset[str]] = frozenset({"versionTag", "creationTag", "projectKey"})
    # The model of a passthrough document of this kind (resources/passthrough.py): a mapping by default.
    document_model: ClassVar[Any] = dict[str, Any]
    # What such a document holds, for the config reference.
    document_help: ClassVar[str] = "the settings document DSS holds"
    # "project": its objects belong to a project (`kind.PROJECT[.NAME]`); "instance": to the DSS instance of an
    # environment, declared in the environment's instance file (`kind.NAME`, see resources/instance_base.py).
    scope: ClassVar[str] = "project"

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
        return self.collection is None and self.scope == "project"

    @property
    def instance_level(self) -> bool:
        """An object of the DSS instance (a connection, a group...), addressed `kind.NAME`."""
        return self.scope == "instance"

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
        """The objects of this kind a project file (`spec`) declares in its typed form: their names (None for a
        project-level kind). Passthrough ones: `passthrough.entries`."""
        return [None] if self.collection is None else list(getattr(spec, self.collection))

    def entries(self, spec: Any) -> list[tuple[str | None, Any]]:
        """The objects a project file (`spec`) declares, each with its configuration (its `model`): by name, or
        `(None, configuration)` for a project-level kind."""
        out: list[tuple[str | None, Any]] = []
        for name in self.declared(spec):
            entry = spec
            for step in self.config_path(name):
                entry = entry.get(step) if isinstance(entry, dict) else getattr(entry, step, None)
            out.append((name, entry))
        return out

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

    def instance_type_at(self, entry: Any, path: tuple[str, ...]) -> tuple[str | None, str | None]:
        """`instance_type` for the name found at `path` in the entry, for a kind whose names need different types
        (a project's default Python and R code envs). The entry's own by default."""
        return self.instance_type(entry)

    def config_entry(self, name: str | None, fields: dict[str, Any], ctx: ImportContext) -> Any:
        """How `import` writes an object read from DSS (its managed `fields`) in a project file: the value under
        its `config_path`, idiomatic YAML (defaults left out), valid for `model`. By default the fields as they
        are, empty values left out."""
        return nonempty(fields)

    def renamed_projects(self, entry: dict[str, Any], rename: Callable[[str], str]) -> None:
        """Rename in place the project keys an entry (one object's data in a project file) names, as an environment
        whose `project_key` renames the workspace's projects does (`rename` leaves keys outside the workspace as
        they are). Nothing to rename by default."""
        return None

    def checked(self, source: ProjectSource, projects: Mapping[str, ProjectSource]) -> list[ConfigError]:
        """What the schema cannot check about this kind's objects in `source`, with the whole workspace at hand
        (references to other projects): the errors, each at its place in the file. None by default."""
        return []

    def files(self, name: str, entry: Any) -> list[NamedFile]:
        """The files an object's entry names (its code, a Markdown body), read with the project file; their text
        is in `source.code[file.key]` when `desired` runs. None by default."""
        return []

    def adopt_item(self, root: str, sub: list[str], found: Any, compared: Any,
                   logical: Callable[[str, Any], Any]) -> Any:
        """For an `itemwise` field: the YAML value at `root.sub` as DSS has it (`found`), for adopt; `logical`
        gives the file's name of a connection or code env (CONNECTION or CODE_ENV) DSS names physically."""
        raise NotImplementedError(f"{self.name} has no item-by-item fields")

    def reshape(self, root: str, found: Any, compared: Any, declared: Any, spec: Any) -> Any:
        """How `adopt` writes the `reshaped` field `root` (`declared`: its value in the file); `spec`: the project
        file, for a value naming other objects of it. The field's function, by default."""
        return self.reshaped[root](found, compared, declared)

    def adopt_entry(self, root: str, key: str, declared: Any, found: Sequence[tuple[Sequence[str], Any]]) -> Any:
        """For an `entrywise` field: the YAML value of its entry `key` as DSS has it, from the entry the file
        declares (None if none) and DSS's values at the paths that drifted inside it (`found`: (path, value), an
        empty path for the whole entry, None for gone); None when DSS has no such entry."""
        raise NotImplementedError(f"{self.name} has no entry-by-entry fields")

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

    def from_listed(self, listed: list[Listed]) -> list[Listed]:
        """For a kind `listed_with` another: its objects, from that kind's list reply."""
        raise NotImplementedError(f"{self.name} is not listed with another kind")

    def from_listing(self, project: DSSProject, listed: Listed,
                     listings: Mapping[str, list[Listed]]) -> Remote | None:
        """The object made from its list reply alone, when that reply carries every managed field (`listings`: the
        project's other list replies, by kind name); None when the object must be read."""
        return None

    def version_of(self, remote: Remote) -> int | None:
        """The version of an object as `read` returned it (None when DSS gives it none)."""
        raw = remote.raw
        return version_number(raw if isinstance(raw, Mapping) else getattr(raw, "get_raw", dict)())


    # -- passthrough: objects kept as their DSS document (resources/passthrough.py) ---------------------------------
    @property
    def writes_documents(self) -> bool:
        """Whether objects of this kind can be kept as passthrough documents (the kind overrides `document`)."""
        return type(self).document is not Kind.document and self.collection is not None

    def document(self, remote: Remote) -> dict[str, Any] | None:
        """The DSS document of an object just read (`remote.raw`), as a passthrough keeps it: without the keys
        the server makes. None (the default) when this kind cannot write an object back from its document."""
        return None

    def write_document(self, client: DSSClient, address: Address, document: dict[str, Any],
                       remote: Remote | None) -> str:
        """Create (`remote` None) or update the object from a passthrough document (its keys written over what DSS
        holds: `passthrough.merged`); return its remote id."""
        raise NotImplementedError(f"{self.name} objects cannot be written from a DSS document")

    def shown_secrets(self, name: str | None, remote: Remote) -> dict[tuple[str | int, ...], str]:
        """The secrets this kind reads as write-only (`secrets.WRITE_ONLY`: a plan compares them through the
        fingerprint of what was last written) whose value DSS's document shows all the same, by their place in the
        entry `config_entry` writes: `import` records their fingerprint, so that the next plan is empty when the
        `${env:}` variable it writes holds that value. None by default."""
        return {}

    def document_refs(self, document: dict[str, Any]) -> list[str]:
        """The flow items (`name`, `PROJECT.name`) a passthrough document uses: created before it."""
        return []

    def covers(self, entry: Any) -> bool:
        """Whether the typed configuration `config_entry` wrote is valid for the model (else import keeps the
        object as a passthrough document)."""
        from pydantic import ValidationError

        try:
            _adapter(self.model).validate_python(entry)
        except ValidationError:
            return False
        return True

    def observed(self, remote: Remote | None, like: Mapping[str, Any] | None) -> Remote | None:
        """`remote` in the form of `like` (the fields desired or recorded for it): its passthrough document when
        those are a passthrough's, else as the kind read it."""
        from .passthrough import SECTION, is_passthrough, pruned

        if remote is None or like is None or not is_passthrough(like):
            return remote
        return Remote(remote.remote_id, {SECTION: pruned(self.document(remote), like[SECTION])}, remote.raw)

    def apply_create(self, client: DSSClient, desired: Desired) -> str:
        """Create the object: from its passthrough document, or as the kind creates it."""
        from .passthrough import SECTION, is_passthrough

        if is_passthrough(desired.fields):
            return self.write_document(client, desired.address, desired.fields[SECTION], None)
        return self.create(client, desired)

    def apply_update(self, client: DSSClient, desired: Desired, remote: Remote) -> None:
        """Update the object: its passthrough document written back, or the kind's read-merge-write."""
        from .passthrough import SECTION, is_passthrough

        if is_passthrough(desired.fields):
            self.write_document(client, desired.address, desired.fields[SECTION], remote)
        else:
            self.update(client, desired, remote)


@functools.cache
def _adapter(model: Any) -> Any:
    """A validator for a kind's model, built once (an import asks it of every object)."""
    from pydantic import TypeAdapter

    return TypeAdapter(model)
