"""Instance administration: general settings and instance variables here; connections, code envs, users
and groups in the admin_* modules, imported below so their routes register with this one.
"""

from __future__ import annotations

import time
from typing import Any

from ..context import Ctx, Node
from ..errors import bad_request
from ..routing import route
from . import admin_codeenvs, admin_connections, admin_security
from ._common import copy_doc, fill_defaults

__all__ = ["admin_codeenvs", "admin_connections", "admin_security", "seed"]

# What an untouched install returns; a save keeps any other key it is sent (the document is free-form).
GENERAL_SETTINGS_DEFAULTS: dict[str, Any] = {
    "studioExternalUrl": "",
    "noreplyEmail": "",
    "ldapSettings": {"enabled": False},
    "ssoSettings": {"enabled": False},
    "azureADSettings": {"enabled": False},
    "impersonation": {"userRules": [], "groupRules": []},
    "containerSettings": {"executionConfigs": [], "defaultExecutionConfig": None},
    "sparkSettings": {"executionConfigs": []},
    "maxRunningActivities": 5,
    "maxRunningActivitiesPerJob": 2,
}


@route("GET", "/admin/general-settings")
def get_general_settings(ctx: Ctx) -> dict[str, Any]:
    ctx.require_admin()
    return fill_defaults(copy_doc(ctx.store.coll("generalSettings")), GENERAL_SETTINGS_DEFAULTS)


@route("PUT", "/admin/general-settings")
def save_general_settings(ctx: Ctx) -> dict[str, Any]:
    ctx.require_admin()
    doc = fill_defaults(ctx.req.json_object(), GENERAL_SETTINGS_DEFAULTS)
    impersonation = doc["impersonation"]
    if not isinstance(impersonation, dict) or not all(
            isinstance(impersonation.get(k, []), list) for k in ("userRules", "groupRules")):
        raise bad_request("impersonation.userRules and impersonation.groupRules must be lists")
    fill_defaults(impersonation, GENERAL_SETTINGS_DEFAULTS["impersonation"])
    ctx.store.instance["generalSettings"] = doc
    ctx.store.mark()
    return {}


@route("GET", "/admin/variables/")
def get_instance_variables(ctx: Ctx) -> dict[str, Any]:
    ctx.require_admin()
    return copy_doc(ctx.store.coll("instanceVariables"))


@route("PUT", "/admin/variables/")
def save_instance_variables(ctx: Ctx) -> dict[str, Any]:
    """The whole set at once: a variable left out of the body is deleted."""
    ctx.require_admin()
    ctx.store.instance["instanceVariables"] = ctx.req.json_object()
    ctx.store.mark()
    return {}


def seed(node: Node) -> None:
    now_ms = int(time.time() * 1000)
    admin_security.seed(node, now_ms)  # every node has users (auth info reads them)
    if node.kind in ("DESIGN", "AUTOMATION"):
        admin_connections.seed(node, now_ms)
