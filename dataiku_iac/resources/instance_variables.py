"""The instance's global variables (DSS's "global variables"), per environment: the keys the file sets.

One object per instance, `instance_variables.global`, managed field `values`: an open map, so the keys the file
sets are compared and written, a key dropped from the file is removed from DSS, and keys set by hand (never in the
file) are left alone. Removing the whole section stops managing them and leaves DSS's values as they are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from .base import Desired, ImportContext, Remote
from .context import EnvContext
from .instance_base import InstanceKind

if TYPE_CHECKING:
    from dataikuapi import DSSClient

    from .address import Address

NAME = "global"


class InstanceVariablesKind(InstanceKind):
    name = "instance_variables"
    model = dict[str, Any]
    section = "variables"
    single = NAME
    section_help = ("the instance's global variables (name -> value) that dss-iac manages; others set in DSS are "
                    "left alone; a name dropped from the file is removed from DSS")
    rank = -60
    open_maps = frozenset({"values"})
    template: ClassVar[Any] = {}

    def fields_of_entry(self, name: str, entry: Any, env: EnvContext) -> dict[str, Any]:
        return {"values": dict(entry)}

    def read(self, client: DSSClient, address: Address, remote_id: str | None) -> Remote | None:
        values = client.get_global_variables()
        return Remote(NAME, {"values": dict(values)}, values)

    def create(self, client: DSSClient, desired: Desired) -> str:
        self.update(client, desired, Remote(NAME, {}))
        return NAME

    def update(self, client: DSSClient, desired: Desired, remote: Remote) -> None:
        variables = client.get_global_variables()
        for key in desired.removed.get("values", ()):
            variables.pop(key, None)
        variables.update(desired.fields["values"])
        variables.save()

    def delete(self, client: DSSClient, address: Address, remote_id: str) -> None:
        return None  # the keys it managed stay in DSS (see the module's docstring)

    def list_all(self, client: DSSClient) -> list[str]:
        return [NAME] if dict(client.get_global_variables()) else []

    def instance_entry(self, name: str, fields: dict[str, Any]) -> Any:
        return dict(fields["values"])

    def config_entry(self, name: str | None, fields: dict[str, Any], ctx: ImportContext | None) -> Any:
        return dict(fields["values"])
