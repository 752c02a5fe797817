"""DSS users, per environment: display name, email, groups, profile, enabled; a password only by reference.

Managed fields: display_name, email, groups (a set), profile (DSS's userProfile), enabled, and password when the
file sets one. The password is write-only: the file may only give it as `${env:NAME}` (a literal is a validation
error), DSS never hands it back, and the state keeps a keyed fingerprint of what was written, so a new value in
the environment plans an update (plan/diff.py). A user is never deleted without `--allow-delete`: removing one from
the instance file plans a delete that apply refuses without it (see Workspace.check_protected).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .address import Address
from .base import Desired, ImportContext, Remote
from .context import EnvContext
from .instance_base import InstanceKind

if TYPE_CHECKING:
    from dataikuapi import DSSClient

# A DSS login: LDAP and SSO logins are often `jane.doe` or `jane.doe@corp.com`. Such a user is addressed quoted:
# `user["jane.doe@corp.com"]` (address.py).
LOGIN = r"^[A-Za-z0-9_][A-Za-z0-9_.@+-]*$"
PROFILES = ("DATA_SCIENTIST", "DATA_ANALYST", "DESIGNER", "ADVANCED_ANALYST", "PLATFORM_ADMIN", "EXPLORER", "READER",
            "AI_CONSUMER", "AI_ACCESS_USER", "GOVERNANCE_MANAGER", "TECHNICAL_ACCOUNT", "NONE")


class User(BaseModel):
    """A DSS user of the environment's instance (a local user: LDAP and SSO users come from their directory)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    display_name: str = Field(default="", description="shown in DSS (default: the login)")
    email: str | None = Field(default=None, description="for DSS's notifications")
    groups: list[str] = Field(default_factory=list, description="the groups the user belongs to (a set)")
    profile: Literal[PROFILES] = Field(default="DATA_SCIENTIST",  # type: ignore[valid-type]
                                       description="DSS's user profile (licence seat)")
    enabled: bool = Field(default=True, description="false: the user cannot log in (kept, with their work)")
    password: str | None = Field(default=None, description="only as ${env:NAME}; write-only: set at creation and "
                                                           "whenever the variable's value changes")


class UserKind(InstanceKind):
    name = "user"
    model = User
    section = "users"
    rank = -40  # after the groups it names
    adoptable = frozenset({"display_name", "email", "groups", "profile", "enabled"})
    template = {"display_name": "", "groups": []}
    name_pattern = LOGIN
    delete_needs_allow = True
    name_help = "letters, digits, `_`, `-`, `.`, `@` and `+`: a login such as `jane.doe@corp.com`"

    def fields_of_entry(self, name: str, entry: Any, env: EnvContext) -> dict[str, Any]:
        fields = {"display_name": entry.display_name or name, "email": entry.email,
                  "groups": sorted(set(entry.groups)), "profile": entry.profile, "enabled": entry.enabled}
        if entry.password is not None:
            fields["password"] = entry.password
        return fields

    def groups_named(self, fields: Any) -> list[str]:
        return list(fields["groups"])

    def fetch(self, client: DSSClient, name: str) -> dict[str, Any]:
        return dict(client.get_user(name).get_settings().get_raw())

    def normalise(self, raw: dict[str, Any]) -> dict[str, Any]:
        return {"display_name": raw.get("displayName") or "", "email": raw.get("email"),
                "groups": sorted(set(raw.get("groups") or [])), "profile": raw.get("userProfile", ""),
                "enabled": bool(raw.get("enabled", True)),
                "password": ""}  # never handed back: compared through the fingerprint of what was written

    def create(self, client: DSSClient, desired: Desired) -> str:
        login, f = str(desired.address.name), desired.fields
        client.create_user(login, f.get("password") or "", f["display_name"], groups=list(f["groups"]),
                           profile=f["profile"], email=f["email"])
        if not f["enabled"]:
            self.update(client, desired, Remote(login, {}))
        return login

    def update(self, client: DSSClient, desired: Desired, remote: Remote) -> None:
        f = desired.fields
        settings = client.get_user(str(desired.address.name)).get_settings()
        raw = settings.get_raw()
        raw.update(displayName=f["display_name"], email=f["email"], groups=list(f["groups"]),
                   userProfile=f["profile"], enabled=f["enabled"])
        if f.get("password"):
            raw["password"] = f["password"]
        settings.save()

    def delete(self, client: DSSClient, address: Address, remote_id: str) -> None:
        client.get_user(remote_id).delete()

    def list_all(self, client: DSSClient) -> list[str]:
        return sorted(str(u["login"]) for u in client.list_users())  # import skips, saying why, what is no key

    def config_entry(self, name: str | None, fields: dict[str, Any], ctx: ImportContext | None) -> Any:
        out: dict[str, Any] = {}
        if fields["display_name"] and fields["display_name"] != name:
            out["display_name"] = fields["display_name"]
        if fields.get("email"):
            out["email"] = fields["email"]
        out["groups"] = list(fields["groups"])
        if fields["profile"] != "DATA_SCIENTIST":
            out["profile"] = fields["profile"]
        if not fields["enabled"]:
            out["enabled"] = False
        return out
