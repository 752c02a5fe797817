"""`validate -e ENV`: does the target instance have what the configuration points at?

Every connection a dataset or folder names must exist there, with a type that can hold it; every code
env a recipe names must exist for the recipe's language. Each problem is reported at its place in the
project file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .config.environment_view import view
from .dss.connect import call
from .errors import ConfigError

if TYPE_CHECKING:
    from .workspace import Workspace

# A dataset type and the connection type that holds it, where the names differ (DSS calls S3 "EC2").
CONNECTION_TYPE = {"S3": "EC2", "SCP": "SSH", "SFTP": "SSH", "FilesInFolder": None, "UploadedFiles": None}


def check_instance(ws: Workspace, env_name: str) -> list[ConfigError]:
    env = ws.environment(env_name)
    conn = ws.connection(env_name)
    connections = _connection_types(conn)
    code_envs = {(e.get("envLang", "").upper(), e.get("envName")) for e in call(conn, conn.client.list_code_envs)}
    problems: list[ConfigError] = []
    keys = list(ws.config.projects)
    for source in ws.config.projects.values():
        logical = source.spec
        physical = view(source, env_name, env, ws.config.file, keys).spec
        err = source.file.error
        for name, ds in physical.datasets.items():
            if ds.connection is None:
                continue
            target = env.remap.connections.get(ds.connection, ds.connection)
            shown = _shown(logical.datasets[name].connection, target)
            loc = ("datasets", name, "connection")
            if target not in connections:
                problems.append(err(f"connection {shown} of dataset '{name}' does not exist on {env_name}", loc))
                continue
            wanted = CONNECTION_TYPE.get(ds.type, ds.type)
            have = connections[target]
            if wanted is not None and have is not None and have != wanted:
                problems.append(err(f"dataset '{name}' is {ds.type}, but connection {shown} on {env_name} is "
                                    f"{have}", loc))
        for name, folder in physical.managed_folders.items():
            target = env.remap.connections.get(folder.connection, folder.connection)
            if target not in connections:
                shown = _shown(folder.connection, target)
                problems.append(err(f"connection {shown} of managed folder '{name}' does not exist on {env_name}",
                                    ("managed_folders", name, "connection")))
        for name, recipe in physical.recipes.items():
            if recipe.code_env is None:
                continue
            target = env.remap.code_envs.get(recipe.code_env, recipe.code_env)
            lang = "R" if recipe.type == "r" else "PYTHON"
            if (lang, target) not in code_envs:
                problems.append(err(f"{lang.lower()} code env {_shown(recipe.code_env, target)} of recipe '{name}' "
                                    f"does not exist on {env_name}", ("recipes", name, "code_env")))
    return problems


def _shown(logical: str | None, physical: str) -> str:
    return f"'{physical}'" if logical in (None, physical) else f"'{physical}' ({logical})"


def _connection_types(conn: Any) -> dict[str, str | None]:
    """Connection name -> type; types are for admins only, so a non-admin key checks names alone."""
    from .errors import DSSApiError

    try:
        listed = call(conn, conn.client.list_connections)
        return {name: (item.get("type") if hasattr(item, "get") else None) for name, item in listed.items()}
    except DSSApiError:
        return {name: None for name in call(conn, lambda: conn.client.list_connections_names("all"))}
