"""Code envs: create, settings, package updates, build logs, usages, delete.

Stored as `store.coll("codeEnvs")["<LANG>/<name>"] = {"definition", "buildFailed", "logs"}`, LANG being
PYTHON or R (the path's language is case-insensitive; replies say PYTHON/R as DSS does).

Builds (creation, package updates) asked with `wait=false` are futures that run in steps, one poll each, as
DSS's report their progress while the build runs: creating the env, installing each requirement line, checking
it; the packages are installed when the last step ends, and an abort leaves a created env unreadable (its build
never finished) or an updated one with its previous packages.

Failure knob (DSS_API.md §4): a package spec line starting with `fail-build` makes the build fail. At
creation the env is registered and the call succeeds, but every later read answers
500 `Not a file: /python/<name>/desc.json`; the cause is in the env's build logs. A later
`update_packages` on a readable env with such a line reports the failure in its messages instead.
"""

from __future__ import annotations

import re
from typing import Any

from ..context import Ctx
from ..errors import SimError, bad_request
from ..routing import route
from ._common import already_exists, copy_doc
from .instance import FINISHERS, future_reply, stepped_future_reply

LANG_DIRS = {"PYTHON": "python", "R": "R"}
DESIGN_MODES = ("DESIGN_MANAGED", "DESIGN_NON_MANAGED", "EXTERNAL_CONDA_NAMED")
AUTOMATION_MODES = ("AUTOMATION_SINGLE", "AUTOMATION_VERSIONED", "AUTOMATION_NON_MANAGED_PATH", "EXTERNAL_CONDA_NAMED")
BUILT_MODES = ("DESIGN_MANAGED", "AUTOMATION_SINGLE", "AUTOMATION_VERSIONED")  # DSS installs packages
INTERPRETERS = ("PYTHON36", "PYTHON37", "PYTHON38", "PYTHON39", "PYTHON310", "PYTHON311", "PYTHON312",
                "PYTHON313", "CUSTOM")
DEFAULT_INTERPRETER = "PYTHON311"  # unverified: what DSS picks when none is given
CODE_ENV_NAME_RE = re.compile(r"^[A-Za-z0-9_-]+$")
FAIL_BUILD = "fail-build"

# Kept both top-level and in `desc`; on save the top-level value wins (DSS_API.md §4).
MIRRORED = ("owner", "usableByAll", "permissions", "allContainerConfs", "containerConfs",
            "allSparkKubernetesConfs", "sparkKubernetesConfs")
# What a save may change; anything else (envName, deploymentMode, desc.pythonInterpreter...) is ignored.
SPEC_KEYS = ("specPackageList", "specCondaEnvironment", "externalCondaEnvName")
SPEC_DESC_KEYS = ("installCorePackages", "corePackagesSet", "installJupyterSupport", "yarnPythonBin", "yarnRBin")
ENV_DESC_KEYS = ("envSettings",)
IMAGE_KEYS = ("containerCacheBustingLocation", "dockerfileAtStart", "dockerfileBeforePackages",
              "dockerfileAfterCondaPackages", "dockerfileAfterPackages", "dockerfileAtEnd",
              "predefinedContainerHooks")


# -- lookups and errors ----------------------------------------------------------------------------

def _lang(lang: str) -> str:
    upper = lang.upper()
    if upper not in LANG_DIRS:
        raise bad_request(f"Unknown code env language '{lang}': expected PYTHON or R")
    return upper


def _record(ctx: Ctx, lang: str, name: str) -> dict[str, Any]:
    """An env's record, even one whose build failed (its logs and deletion still work)."""
    rec = ctx.store.coll("codeEnvs").get(f"{lang}/{name}")
    if rec is None:
        message = f"{lang} env {name} doesn't exist"
        if ctx.options.realistic_errors:
            raise SimError(500, "exceptions.CodedIOException", message)
        raise ctx.not_found(message)
    return rec


def _readable(ctx: Ctx, lang: str, name: str) -> dict[str, Any]:
    rec = _record(ctx, lang, name)
    if rec["buildFailed"]:
        # The env's folder exists without its desc.json: a server error, whatever the errors mode.
        raise SimError(500, "java.io.IOException", f"Not a file: /{LANG_DIRS[lang]}/{name}/desc.json")
    return rec


def _holders(defn: dict[str, Any]) -> list[dict[str, Any]]:
    """The dicts holding package specs: the env itself on design nodes, its version(s) on automation."""
    if "versions" not in defn:
        return [defn]
    if "currentVersion" in defn:
        return [defn["currentVersion"]]
    if "noVersion" in defn:
        return [defn["noVersion"]]
    return list(defn["versions"])


def info_messages(errors: list[str]) -> dict[str, Any]:
    msgs = [{"severity": "ERROR", "isFatal": False, "code": "ERR_CODEENV_INSTALL_PACKAGES_FAILED",
             "title": "Failed to install packages", "message": e, "details": ""} for e in errors]
    return {"anyMessage": bool(msgs), "success": False, "warning": False, "error": bool(msgs), "fatal": False,
            "maxSeverity": "ERROR" if msgs else None, "messages": msgs}


def _result(lang: str, name: str, errors: list[str]) -> dict[str, Any]:
    return {"envName": name, "envLang": lang, "messages": info_messages(errors)}


def _reply(ctx: Ctx, lang: str, name: str, errors: list[str]) -> dict[str, Any]:
    result = _result(lang, name, errors)
    return result if ctx.req.bool_param("wait", True) else future_reply(ctx, result)


def _build_reply(ctx: Ctx, rec: dict[str, Any], holders: list[dict[str, Any]], creating: bool) -> dict[str, Any]:
    """Build now (wait=true), or as a future in steps whose last step builds (wait=false)."""
    lang, name = rec["definition"]["envLang"], rec["definition"]["envName"]
    args = {"lang": lang, "name": name, "creating": creating,
            "versions": [h.get("versionId") for h in holders] if "versions" in rec["definition"] else None}
    wait = ctx.req.bool_param("wait", True)
    if wait or rec["definition"]["deploymentMode"] not in BUILT_MODES:
        result = _finish_build(ctx, args, False)
        return result if wait else future_reply(ctx, result)
    lines = [line.strip() for h in holders for line in h.get("specPackageList", "").splitlines() if line.strip()]
    steps = [*(["Creating the environment"] if creating else []), *(f"Installing {line}" for line in lines),
             "Checking the environment"]
    verb = "Creating" if creating else "Updating"
    return stepped_future_reply(ctx, f"{verb} code env {name}", steps, "codeEnvBuild", args)


def _finish_build(ctx: Ctx, args: dict[str, Any], aborted: bool) -> dict[str, Any]:
    """The last step of a build future: install, or (aborted) leave the env as an interrupted build does."""
    lang, name = args["lang"], args["name"]
    rec = ctx.store.coll("codeEnvs").get(f"{lang}/{name}")
    if rec is None:  # deleted while it was building
        return _result(lang, name, [f"{lang} env {name} was deleted during its build"])
    holders = _holders(rec["definition"])
    if args["versions"] is not None:
        holders = [h for h in holders if h.get("versionId") in args["versions"]]
    if aborted:
        now = ctx.now_ms()
        rec["logs"].append({"name": f"build-{now}-{len(rec['logs'])}.log", "lastModified": now,
                            "text": "Build aborted\n"})
        rec["buildFailed"] = rec["buildFailed"] or args["creating"]
        ctx.store.mark()
        return _result(lang, name, ["aborted"])
    errors = _build(ctx, rec, holders)
    if args["creating"]:  # creation answers once the env is registered: a failed build only shows on later reads
        rec["buildFailed"] = bool(errors)
    ctx.store.mark()
    return _result(lang, name, [] if args["creating"] else errors)


FINISHERS["codeEnvBuild"] = _finish_build


# -- building --------------------------------------------------------------------------------------

def _build(ctx: Ctx, rec: dict[str, Any], holders: list[dict[str, Any]]) -> list[str]:
    """Install each holder's spec: its actual package list becomes the spec. Returns the errors."""
    if rec["definition"]["deploymentMode"] not in BUILT_MODES:
        return []
    failing = [line.strip() for h in holders for line in h.get("specPackageList", "").splitlines()
               if line.strip().startswith(FAIL_BUILD)]
    lines = [f"Installing packages: {h.get('specPackageList', '')!r}" for h in holders]
    if failing:
        errors = [f"Could not find a version that satisfies the requirement {req}" for req in failing]
        lines += [f"ERROR: {e}" for e in errors]
    else:
        errors = []
        for h in holders:
            h["actualPackageList"] = h.get("specPackageList", "")
            h["actualCondaEnvironment"] = h.get("specCondaEnvironment", "")
        lines.append("Packages installed")
    now = ctx.now_ms()
    rec["logs"].append({"name": f"build-{now}-{len(rec['logs'])}.log", "lastModified": now,
                        "text": "\n".join(lines) + "\n"})
    return errors


def _spec_string(value: Any, key: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise bad_request(f"'{key}' must be a string (one requirement per line)")
    return value


def _apply_spec(target: dict[str, Any], src: dict[str, Any]) -> None:
    for key in SPEC_KEYS:
        if key in src:
            target[key] = _spec_string(src[key], key)
    desc = src.get("desc")
    src_desc = desc if isinstance(desc, dict) else {}
    for key in SPEC_DESC_KEYS:
        if key in src_desc:
            target.setdefault("desc", {})[key] = src_desc[key]


def _check_mirrored(key: str, value: Any) -> Any:
    expected = {"usableByAll": bool, "allContainerConfs": bool, "allSparkKubernetesConfs": bool,
                "permissions": list, "containerConfs": list, "sparkKubernetesConfs": list, "owner": str}[key]
    if not isinstance(value, expected):
        raise bad_request(f"Code env '{key}' must be a {expected.__name__}")
    return copy_doc(value)


# -- endpoints -------------------------------------------------------------------------------------

@route("GET", "/admin/code-envs/")
def list_code_envs(ctx: Ctx) -> list[dict[str, Any]]:
    ctx.require_admin()
    out = []
    for _, rec in sorted(ctx.store.coll("codeEnvs").items()):
        d = rec["definition"]
        out.append({"envName": d["envName"], "envLang": d["envLang"], "deploymentMode": d["deploymentMode"],
                    "owner": d["owner"], "usableByAll": d["usableByAll"]})
    return out


@route("POST", "/admin/code-envs/{lang}/{name}")
def create_code_env(ctx: Ctx, lang: str, name: str) -> dict[str, Any]:
    ctx.require_admin()
    lang = _lang(lang)
    if not CODE_ENV_NAME_RE.match(name):
        raise bad_request(f"Invalid code env name '{name}': use letters, digits, underscores and dashes")
    body = ctx.req.json_object()
    modes = AUTOMATION_MODES if ctx.node.kind == "AUTOMATION" else DESIGN_MODES
    mode = body.get("deploymentMode")
    if mode not in modes:
        raise bad_request(f"Invalid deploymentMode '{mode}' on a {ctx.node.kind} node: use one of {', '.join(modes)}")
    envs = ctx.store.coll("codeEnvs")
    if f"{lang}/{name}" in envs:
        raise already_exists(f"{lang} env", name)
    desc: dict[str, Any] = {
        "deploymentMode": mode, "owner": ctx.key.login, "usableByAll": True, "permissions": [],
        "allContainerConfs": False, "containerConfs": [], "allSparkKubernetesConfs": False,
        "sparkKubernetesConfs": [], "envSettings": {"inheritGlobalSettings": True}, "conda": bool(body.get("conda")),
    }
    if lang == "PYTHON":
        interpreter = body.get("pythonInterpreter") or DEFAULT_INTERPRETER
        if interpreter not in INTERPRETERS:
            raise bad_request(f"Unknown pythonInterpreter '{interpreter}': use one of {', '.join(INTERPRETERS)}")
        desc["pythonInterpreter"] = interpreter
    holder: dict[str, Any] = {"desc": {"installCorePackages": body.get("installCorePackages", True),
                                       "corePackagesSet": body.get("corePackagesSet") or "PANDAS23",
                                       "installJupyterSupport": body.get("installJupyterSupport", True)}}
    for key in SPEC_KEYS:
        if key in body or key != "externalCondaEnvName":  # the conda env name only for EXTERNAL_CONDA_NAMED
            holder[key] = _spec_string(body.get(key), key)
    defn: dict[str, Any] = {"envName": name, "envLang": lang, "deploymentMode": mode, "desc": desc}
    defn.update({key: copy_doc(desc[key]) for key in MIRRORED})
    if ctx.node.kind == "AUTOMATION":
        # `versions` non-null is how dataikuapi tells an automation env (admin.py DSSCodeEnv.get_settings).
        holder["versionId"] = str(ctx.now_ms())
        holder.update(actualPackageList="", actualCondaEnvironment="")
        defn["versions"] = [holder] if mode == "AUTOMATION_VERSIONED" else []
        if mode == "AUTOMATION_SINGLE":
            defn["currentVersion"] = holder
        elif mode != "AUTOMATION_VERSIONED":
            defn["noVersion"] = holder
    else:
        desc.update(holder.pop("desc"))
        defn.update(holder, actualPackageList="", actualCondaEnvironment="")
    rec: dict[str, Any] = {"definition": defn, "buildFailed": False, "logs": []}
    envs[f"{lang}/{name}"] = rec
    ctx.store.mark()
    return _build_reply(ctx, rec, _holders(defn), creating=True)


@route("GET", "/admin/code-envs/{lang}/{name}")
def get_code_env(ctx: Ctx, lang: str, name: str) -> dict[str, Any]:
    ctx.require_admin()
    lang = _lang(lang)
    return copy_doc(_readable(ctx, lang, name)["definition"])


@route("PUT", "/admin/code-envs/{lang}/{name}")
def save_code_env(ctx: Ctx, lang: str, name: str) -> dict[str, Any]:
    ctx.require_admin()
    lang = _lang(lang)
    rec = _readable(ctx, lang, name)
    body = ctx.req.json_object()
    old = rec["definition"]
    new = copy_doc(old)
    desc = body.get("desc")
    body_desc = desc if isinstance(desc, dict) else {}
    for key in MIRRORED:
        value = body[key] if key in body else body_desc.get(key, old[key])
        new[key] = _check_mirrored(key, value)
        new["desc"][key] = copy_doc(new[key])
    for key in IMAGE_KEYS:
        if key in body:
            new[key] = copy_doc(body[key])
    for key in ENV_DESC_KEYS:
        if key in body_desc:
            new["desc"][key] = copy_doc(body_desc[key])
    if "versions" not in new:
        _apply_spec(new, body)
    else:
        for slot in ("currentVersion", "noVersion"):
            if slot in new and isinstance(body.get(slot), dict):
                _apply_spec(new[slot], body[slot])
        sent = {v.get("versionId"): v for v in body.get("versions") or [] if isinstance(v, dict)}
        for version in new["versions"]:
            if version["versionId"] in sent:
                _apply_spec(version, sent[version["versionId"]])
    rec["definition"] = new
    ctx.store.mark()
    return copy_doc(new)


@route("DELETE", "/admin/code-envs/{lang}/{name}")
def delete_code_env(ctx: Ctx, lang: str, name: str) -> dict[str, Any]:
    ctx.require_admin()
    lang = _lang(lang)
    _record(ctx, lang, name)  # a half-built env can be deleted, to recreate it
    del ctx.store.coll("codeEnvs")[f"{lang}/{name}"]
    ctx.store.mark()
    return _reply(ctx, lang, name, [])


@route("POST", "/admin/code-envs/{lang}/{name}/packages")
def update_packages(ctx: Ctx, lang: str, name: str) -> dict[str, Any]:
    """Install the saved spec (settings saves don't install anything by themselves)."""
    ctx.require_admin()
    lang = _lang(lang)
    rec = _readable(ctx, lang, name)
    holders = _holders(rec["definition"])
    version = ctx.req.param("versionToUpdate")
    if version:
        holders = [h for h in holders if h.get("versionId") == version]
        if not holders:
            raise bad_request(f"Version {version} not found in {lang} env {name}")
    ctx.store.mark()
    return _build_reply(ctx, rec, holders, creating=False)


@route("GET", "/admin/code-envs/{lang}/{name}/logs")
def list_logs(ctx: Ctx, lang: str, name: str) -> list[dict[str, Any]]:
    ctx.require_admin()
    rec = _record(ctx, _lang(lang), name)
    return [{"name": log["name"], "lastModified": log["lastModified"], "size": len(log["text"])}
            for log in rec["logs"]]


@route("GET", "/admin/code-envs/{lang}/{name}/logs/{log_name}")
def get_log(ctx: Ctx, lang: str, name: str, log_name: str) -> Any:
    from ..server import Raw  # late: the server module imports the handlers

    ctx.require_admin()
    rec = _record(ctx, _lang(lang), name)
    for log in rec["logs"]:
        if log["name"] == log_name:
            return Raw(log["text"].encode("utf-8"), "text/plain; charset=utf-8")
    raise ctx.not_found(f"Log {log_name} does not exist for code env {name}")


@route("GET", "/admin/code-envs/{lang}/{name}/usages")
def list_usages(ctx: Ctx, lang: str, name: str) -> list[dict[str, Any]]:
    """Projects whose settings select this env explicitly (recipes and notebooks aren't scanned)."""
    ctx.require_admin()
    lang = _lang(lang)
    _record(ctx, lang, name)
    out = []
    for key, project in sorted(ctx.store.projects.items()):
        selection = project.get("settings", {}).get("settings", {}).get("codeEnvs", {}).get(lang.lower(), {})
        if selection.get("mode") == "EXPLICIT_ENV" and selection.get("envName") == name:
            out.append({"envUsage": "PROJECT", "projectKey": key, "objectId": key, "envLang": lang,
                        "envName": name, "accessible": True})
    return out

