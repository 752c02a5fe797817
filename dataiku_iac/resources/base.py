"""What every resource kind provides: read, create, update, delete, and normalisation to managed fields.

A kind never diffs: it turns a DSS document into the managed fields (`fields_of`) and writes desired
fields into a DSS document it has just read (`update`), so fields it does not manage survive.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class Remote:
    """A resource as read from DSS: its id, its managed fields, and the raw document for updates."""

    remote_id: str
    fields: dict[str, Any]
    raw: Any = None


class Kind(ABC):
    """One DSS object type. Subclasses are stateless; one instance serves every resource of its kind."""

    name: ClassVar[str]
    # Fields DSS cannot change in place: a change to one plans a replace.
    replace_on: ClassVar[frozenset[str]] = frozenset()
    # Dict fields compared only on the keys the config manages, since DSS fills in its own defaults.
    open_maps: ClassVar[frozenset[str]] = frozenset()
    # Whether deleting the project deletes this resource too (no separate delete call needed).
    dies_with_project: ClassVar[bool] = True
    # Whether a project holds any number of these (datasets, recipes...), listed by `list_in`.
    listed: ClassVar[bool] = False

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

    def list_in(self, project: DSSProject) -> list[tuple[str, str]]:
        """(name, remote id) of every object of this kind the project holds in DSS, with one list call; the name
        is the key `import` gives it in a project file. Only for kinds with `listed` set."""
        raise NotImplementedError(f"{self.name} objects are not listed per project")
