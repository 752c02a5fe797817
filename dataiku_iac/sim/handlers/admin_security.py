"""Instance security: users, groups, and the secret redaction shared with connections.

Secrets (connection passwords, user secrets and credentials) are stored in clear and never handed
back. `SimOptions.secrets_on_read` picks how they come back:
- "blank" (default; DSS 15 is reported to redact them): `""`. Sending `""` back in a save keeps the
  stored secret, so a read-merge-write never wipes a password; a new value replaces it.
- "encrypted" (what the dataikuapi docs say of `DSSConnection.get_definition`): an opaque
  `e:AES:<token>` string. Sending the token back keeps the stored secret; `""` clears it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from typing import Any

from ..context import Ctx, Node
from ..errors import bad_request
from ..routing import route
from ..store import Store
from ._common import already_exists, copy_doc

# -- secrets ---------------------------------------------------------------------------------------

ENCRYPTED_PREFIX = "e:AES:"

# A param is secret when its name carries one of these words...
_SECRET_MARKERS = ("password", "passwd", "passphrase", "secret", "token", "apikey", "privatekey", "accountkey")
# ...unless it only describes the secret (`tokenEndpoint`, `passwordMode`, `privateKeyPath`).
_DESCRIPTIVE_SUFFIXES = ("url", "endpoint", "mode", "type", "name", "id", "expiry", "enabled", "path", "file")
# Names that are secret for one connection type only: an S3 `accessKey` is a key id, an Azure one a key.
_TYPE_SECRET_KEYS: dict[str, tuple[str, ...]] = {"Azure": ("accesskey",)}


def is_secret_param(key: str, conn_type: str = "") -> bool:
    """The one place that decides which keys hold secrets that DSS never returns in clear."""
    k = key.lower()
    if k in _TYPE_SECRET_KEYS.get(conn_type, ()):
        return True
    if k.endswith(_DESCRIPTIVE_SUFFIXES):
        return False
    return any(marker in k for marker in _SECRET_MARKERS)


def _map_secrets(doc: Any, fn: Callable[[str], str], conn_type: str) -> Any:
    """A copy of `doc` where every non-empty secret string went through `fn`."""
    if isinstance(doc, dict):
        # `{"name", "value", "secret": true}` entries (JDBC properties, user secrets) flag their value.
        flagged = doc.get("secret") is True
        out: dict[str, Any] = {}
        for k, v in doc.items():
            if isinstance(v, str) and v and (is_secret_param(k, conn_type) or (flagged and k == "value")):
                out[k] = fn(v)
            else:
                out[k] = _map_secrets(v, fn, conn_type)
        return out
    if isinstance(doc, list):
        return [_map_secrets(v, fn, conn_type) for v in doc]
    return doc


def _salt(store: Store) -> bytes:
    admin = store.coll("_admin")
    if "secretSalt" not in admin:
        admin["secretSalt"] = secrets.token_hex(16)
        store.mark()
    return bytes.fromhex(admin["secretSalt"])


def _encrypt(store: Store, scope: str, value: str) -> str:
    # Stable across reads, different per object: a token copied to another object can't be "decrypted".
    digest = hmac.new(_salt(store), f"{scope}\0{value}".encode(), hashlib.sha256).hexdigest()
    return ENCRYPTED_PREFIX + digest[:40]


def redact(ctx: Ctx, doc: Any, scope: str, conn_type: str = "") -> Any:
    """A copy of `doc` with its secrets blanked or in encrypted form."""
    if ctx.options.secrets_on_read == "blank":
        return _map_secrets(doc, lambda v: "", conn_type)
    return _map_secrets(doc, lambda v: _encrypt(ctx.store, scope, v), conn_type)


def restore(ctx: Ctx, new: Any, old: Any, scope: str, conn_type: str = "") -> Any:
    """A copy of `new` where secrets sent back as read are replaced by the secrets stored in `old`."""
    if ctx.options.secrets_on_read == "blank":
        return _keep_blanked(new, old, conn_type)
    known: dict[str, str] = {}

    def remember(v: str) -> str:
        known[_encrypt(ctx.store, scope, v)] = v
        return v

    def decrypt(v: str) -> str:
        if not v.startswith(ENCRYPTED_PREFIX):
            return v  # a new secret, in clear
        if v not in known:
            raise bad_request(f"Cannot decrypt secret value of {scope}: it was not encrypted for this object")
        return known[v]

    _map_secrets(old, remember, conn_type)
    return _map_secrets(new, decrypt, conn_type)


def _keep_blanked(new: Any, old: Any, conn_type: str) -> Any:
    """A blank secret in a save means "unchanged": take the stored value at the same place."""
    if isinstance(new, dict) and isinstance(old, dict):
        flagged = new.get("secret") is True
        out = {}
        for k, v in new.items():
            secret = is_secret_param(k, conn_type) or (flagged and k == "value")
            if secret and v == "" and isinstance(old.get(k), str):
                out[k] = old[k]
            else:
                out[k] = _keep_blanked(v, old.get(k), conn_type)
        return out
    if isinstance(new, list) and isinstance(old, list):
        return [_keep_blanked(v, old[i] if i < len(old) else None, conn_type) for i, v in enumerate(new)]
    return new


# -- groups ----------------------------------------------------------------------------------------

GROUP_FLAGS = (
    "admin", "mayCreateProject", "mayWriteSafeCode", "mayWriteUnsafeCode", "mayCreateCodeEnvs",
    "mayManageCodeEnvs", "mayCreateClusters", "mayManageClusters", "mayDevelopPlugins", "mayEditLibFolders",
    "mayManageUDM", "mayCreateAuthenticatedConnections", "mayCreateActiveWebContent", "mayShareToWorkspaces",
    "mayCreatePublishedAPIServices", "mayCreatePublishedProjects", "mayWriteInRootProjectFolder",
    "mayCreateWorkspaces", "mayViewIndexedHiveConnections",
)
GROUP_FIELDS = ("description", "sourceType", "ldapGroupNames", *GROUP_FLAGS)
SOURCE_TYPES = ("LOCAL", "LDAP", "AZURE_AD", "CUSTOM", "LOCAL_NO_AUTH", "SAAS")

# Logins may be e-mail addresses; group names may hold spaces. Neither may break a URL path.
LOGIN_RE = re.compile(r"^[A-Za-z0-9._@+-]+$")
GROUP_RE = re.compile(r"^[A-Za-z0-9 ._@+-]+$")


def _check(value: Any, pattern: re.Pattern[str], what: str) -> str:
    if not isinstance(value, str) or not pattern.match(value) or value != value.strip():
        raise bad_request(f"Invalid {what} '{value}'")
    return value


def _source_type(value: Any) -> str:
    value = value or "LOCAL"
    if value not in SOURCE_TYPES:
        raise bad_request(f"Invalid sourceType '{value}': expected one of {', '.join(SOURCE_TYPES)}")
    return str(value)


def new_group(name: str, description: str = "", source_type: str = "LOCAL", **flags: bool) -> dict[str, Any]:
    group: dict[str, Any] = {"name": name, "description": description, "sourceType": source_type,
                             "ldapGroupNames": ""}
    group.update({flag: bool(flags.get(flag, False)) for flag in GROUP_FLAGS})
    return group


def _group(ctx: Ctx, name: str) -> dict[str, Any]:
    group = ctx.store.coll("groups").get(name)
    if group is None:
        raise ctx.not_found(f"Group {name} does not exist")
    return group


@route("GET", "/admin/groups/")
def list_groups(ctx: Ctx) -> list[dict[str, Any]]:
    ctx.require_admin()
    return [copy_doc(g) for _, g in sorted(ctx.store.coll("groups").items())]


@route("POST", "/admin/groups/")
def create_group(ctx: Ctx) -> dict[str, Any]:
    ctx.require_admin()
    body = ctx.req.json_object()
    name = _check(body.get("name"), GROUP_RE, "group name")
    groups = ctx.store.coll("groups")
    if name in groups:
        raise already_exists("Group", name)
    groups[name] = new_group(name, body.get("description") or "", _source_type(body.get("sourceType")))
    ctx.store.mark()
    return copy_doc(groups[name])


@route("GET", "/admin/groups/{name}")
def get_group(ctx: Ctx, name: str) -> dict[str, Any]:
    ctx.require_admin()
    return copy_doc(_group(ctx, name))


@route("PUT", "/admin/groups/{name}")
def save_group(ctx: Ctx, name: str) -> dict[str, Any]:
    ctx.require_admin()
    group = _group(ctx, name)
    body = ctx.req.json_object()
    # The name is the group's identity: a different one in the body is ignored, as are unknown keys.
    updated = copy_doc(group)
    for key in GROUP_FIELDS:
        if key in body:
            updated[key] = bool(body[key]) if key in GROUP_FLAGS else body[key]
    updated["sourceType"] = _source_type(updated.get("sourceType"))
    updated["description"] = updated.get("description") or ""
    ctx.store.coll("groups")[name] = updated
    ctx.store.mark()
    return copy_doc(updated)


@route("DELETE", "/admin/groups/{name}")
def delete_group(ctx: Ctx, name: str) -> dict[str, Any]:
    ctx.require_admin()
    _group(ctx, name)
    del ctx.store.coll("groups")[name]
    # Members simply lose the membership (unverified: DSS may refuse to delete a non-empty group).
    for user in ctx.store.coll("users").values():
        if name in user.get("groups", []):
            user["groups"] = [g for g in user["groups"] if g != name]
    ctx.store.mark()
    return {}


# -- users -----------------------------------------------------------------------------------------

USER_SUMMARY_FIELDS = ("login", "displayName", "email", "groups", "userProfile", "sourceType", "enabled")
USER_EDITABLE_FIELDS = ("displayName", "email", "groups", "userProfile", "sourceType", "enabled",
                        "userProperties", "adminProperties", "secrets", "credentials", "preferences")

USER_PREFERENCES: dict[str, Any] = {
    "uiLanguage": "en", "mentionEmails": True, "discussionEmails": True, "accessRequestEmails": True,
    "grantedAccessEmails": True, "dailyDigestsEmails": True, "offlineActivityEmails": True,
    "rememberPositionFlow": True,
}


def new_user(created_ms: int, login: str, display_name: str = "", groups: list[str] | None = None,
             profile: str = "DATA_SCIENTIST", email: str | None = None, source_type: str = "LOCAL") -> dict[str, Any]:
    return {
        "login": login,
        "displayName": display_name or login,
        "email": email,
        "groups": list(groups or []),
        "userProfile": profile,
        "sourceType": source_type,
        "enabled": True,
        "creationDate": created_ms,
        "userProperties": {},
        "adminProperties": {},
        "secrets": [],
        "credentials": {},
        "preferences": dict(USER_PREFERENCES),
        "trialStatus": {"exists": False, "expired": False, "valid": False},
    }


def user_groups(store: Store, login: str) -> list[str]:
    """The groups of a user, [] for a login with no user record."""
    return list(store.coll("users").get(login, {}).get("groups", []))


def _user(ctx: Ctx, login: str) -> dict[str, Any]:
    user = ctx.store.coll("users").get(login)
    if user is None:
        raise ctx.not_found(f"User {login} does not exist")
    return user


def _user_view(ctx: Ctx, user: dict[str, Any]) -> dict[str, Any]:
    # The password lives elsewhere and is never returned; user secrets come back encrypted.
    return redact(ctx, user, f"user {user['login']}")


def _check_groups(ctx: Ctx, groups: Any) -> list[str]:
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise bad_request("'groups' must be a list of group names")
    known = ctx.store.coll("groups")
    missing = [g for g in groups if g not in known]
    if missing:
        raise bad_request(f"Group {missing[0]} does not exist")
    return list(dict.fromkeys(groups))


def _set_password(ctx: Ctx, login: str, password: Any) -> None:
    if password is None or password == "":
        return
    if not isinstance(password, str):
        raise bad_request("'password' must be a string")
    salt = secrets.token_hex(8)
    digest = hashlib.sha256(f"{salt}:{password}".encode()).hexdigest()
    ctx.store.coll("userPasswords")[login] = f"{salt}:{digest}"


@route("GET", "/admin/users/")
def list_users(ctx: Ctx) -> list[dict[str, Any]]:
    ctx.require_admin()
    full = ctx.req.bool_param("includeSettings")
    users = [u for _, u in sorted(ctx.store.coll("users").items())]
    if full:
        return [_user_view(ctx, u) for u in users]
    return [{k: copy_doc(u.get(k)) for k in USER_SUMMARY_FIELDS} for u in users]


@route("POST", "/admin/users/")
def create_user(ctx: Ctx) -> dict[str, Any]:
    ctx.require_admin()
    body = ctx.req.json_object()
    login = _check(body.get("login"), LOGIN_RE, "login")
    users = ctx.store.coll("users")
    if login in users:
        raise already_exists("User", login)
    groups = _check_groups(ctx, body.get("groups") or [])
    profile = body.get("userProfile") or "DATA_SCIENTIST"
    if not isinstance(profile, str):
        raise bad_request("'userProfile' must be a string")
    user = new_user(ctx.now_ms(), login, body.get("displayName") or "", groups, profile, body.get("email"),
                    _source_type(body.get("sourceType")))
    _set_password(ctx, login, body.get("password"))
    users[login] = user
    ctx.store.mark()
    return _user_view(ctx, user)


@route("GET", "/admin/users/{login}")
def get_user(ctx: Ctx, login: str) -> dict[str, Any]:
    ctx.require_admin()
    return _user_view(ctx, _user(ctx, login))


@route("PUT", "/admin/users/{login}")
def save_user(ctx: Ctx, login: str) -> dict[str, Any]:
    ctx.require_admin()
    user = _user(ctx, login)
    body = ctx.req.json_object()
    # The login can't be changed; keys DSS doesn't let you edit (creationDate, trialStatus...) are ignored.
    updated = copy_doc(user)
    for key in USER_EDITABLE_FIELDS:
        if key in body:
            updated[key] = body[key]
    updated["groups"] = _check_groups(ctx, updated["groups"])
    updated["sourceType"] = _source_type(updated["sourceType"])
    if not isinstance(updated["enabled"], bool):
        raise bad_request("'enabled' must be a boolean")
    updated = restore(ctx, updated, user, f"user {login}")
    _set_password(ctx, login, body.get("password"))
    ctx.store.coll("users")[login] = updated
    ctx.store.mark()
    return _user_view(ctx, updated)


@route("DELETE", "/admin/users/{login}")
def delete_user(ctx: Ctx, login: str) -> dict[str, Any]:
    ctx.require_admin()
    _user(ctx, login)
    if login == ctx.key.login and not ctx.req.bool_param("allowSelfDeletion"):
        raise bad_request(f"Refusing to delete your own user {login}: pass allowSelfDeletion to do so")
    del ctx.store.coll("users")[login]
    ctx.store.coll("userPasswords").pop(login, None)
    ctx.store.mark()
    return {}


@route("GET", "/users/{login}")
def get_user_info(ctx: Ctx, login: str) -> dict[str, Any]:
    """`DSSUser.get_info`: public facts about a user, open to any caller."""
    user = _user(ctx, login)
    return {k: copy_doc(user.get(k)) for k in ("login", "displayName", "email", "groups", "enabled")}


# -- fresh install -----------------------------------------------------------------------------------

SEEDED_GROUPS: dict[str, dict[str, Any]] = {
    "administrators": {"description": "DSS administrators", "admin": True,
                       **{flag: True for flag in GROUP_FLAGS}},
    "data_team": {"description": "Designers: create projects and write code", "mayCreateProject": True,
                  "mayWriteSafeCode": True, "mayWriteUnsafeCode": True, "mayCreateCodeEnvs": True},
    "readers": {"description": "Read-only consumers"},
}


def seed(node: Node, now_ms: int) -> None:
    """Groups `administrators`, `data_team`, `readers`, and one user per API key's login.

    Admin keys' users are in `administrators`, other keys' users in `data_team` (a real DSS only has
    the admin user and group; the other two groups exist so permission tests have groups to name).
    """
    store = node.store
    groups = store.coll("groups")
    for name, spec in SEEDED_GROUPS.items():
        groups.setdefault(name, new_group(name, **spec))
    logins: dict[str, bool] = {"admin": True}
    if node.server is not None:
        for key in node.server.keys.values():
            logins[key.login] = logins.get(key.login, False) or key.admin
    users = store.coll("users")
    for login, admin in logins.items():
        group, profile = ("administrators", "DESIGNER") if admin else ("data_team", "DATA_SCIENTIST")
        users.setdefault(login, new_user(now_ms, login, "Administrator" if login == "admin" else login,
                                         [group], profile))
    _salt(store)
    store.mark()
