"""Checks DSS makes on a project settings save: exposed objects, default code envs, container execution.

The modes are those dataikuapi's DSSProjectSettings helpers write (set_python_code_env, set_r_code_env,
set_container_exec_config) plus INHERIT, which DSS shows as "inherit instance settings".
"""

from __future__ import annotations

from typing import Any

from ..errors import bad_request

CODE_ENV_MODES = ("USE_BUILTIN_MODE", "INHERIT", "EXPLICIT_ENV")
CONTAINER_MODES = ("INHERIT", "NONE", "EXPLICIT_CONTAINER")
# Objects a project can expose to others (the exposed objects screen of DSS's project settings).
EXPOSABLE_TYPES = ("DATASET", "MANAGED_FOLDER", "SAVED_MODEL", "MODEL_EVALUATION_STORE", "RETRIEVABLE_KNOWLEDGE",
                   "JUPYTER_NOTEBOOK", "WEB_APP", "REPORT", "SCENARIO", "DASHBOARD", "LABELING_TASK")


def _check_exposed(exposed: Any) -> None:
    objects = exposed.get("objects") if isinstance(exposed, dict) else None
    if not isinstance(objects, list):
        raise bad_request("'exposedObjects' must be {objects: [{type, localName, rules}]}")
    for obj in objects:
        if not isinstance(obj, dict) or obj.get("type") not in EXPOSABLE_TYPES:
            raise bad_request(f"An exposed object's type must be one of {', '.join(EXPOSABLE_TYPES)}")
        if not isinstance(obj.get("localName"), str) or not obj["localName"]:
            raise bad_request("An exposed object needs its 'localName' (a name, or a folder's id)")
        rules = obj.setdefault("rules", [])
        if not isinstance(rules, list) or not all(
                isinstance(r, dict) and isinstance(r.get("targetProject"), str) and r["targetProject"]
                for r in rules):
            raise bad_request(f"Exposed object {obj['localName']}: each rule needs a 'targetProject'")


def check_project_settings(doc: dict[str, Any]) -> None:
    """Refuse a settings document DSS could not use; the caller fills defaults first."""
    settings = doc["settings"]
    if not isinstance(settings, dict):
        raise bad_request("Project 'settings' must be an object")
    for lang, env in (settings.get("codeEnvs") or {}).items():
        if not isinstance(env, dict) or env.get("mode") not in CODE_ENV_MODES:
            raise bad_request(f"Default {lang} code env mode must be one of {', '.join(CODE_ENV_MODES)}")
        if env["mode"] == "EXPLICIT_ENV" and not env.get("envName"):
            raise bad_request(f"Default {lang} code env: EXPLICIT_ENV needs an 'envName'")
    container = settings.get("container")
    if not isinstance(container, dict) or container.get("containerMode") not in CONTAINER_MODES:
        raise bad_request(f"Container execution mode must be one of {', '.join(CONTAINER_MODES)}")
    if container["containerMode"] == "EXPLICIT_CONTAINER" and not container.get("containerConf"):
        raise bad_request("Container execution: EXPLICIT_CONTAINER needs a 'containerConf'")
    _check_exposed(doc["exposedObjects"])
