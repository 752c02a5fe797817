"""A project's default code envs and container configuration (DSS's project settings, "Code env" and
"Containerized execution"): what its recipes, notebooks and webapps use when they name none.

Managed fields, only those the project file sets: python and r (`builtin`, `inherit`, or the physical code env
name after the environment's `remap.code_envs`), container (`inherit`, `none`, or the container configuration's
name). DSS keeps them in the project settings' `settings.codeEnvs.{python,r}` (`mode` USE_BUILTIN_MODE, INHERIT or
EXPLICIT_ENV with `envName`) and `settings.container` (`containerMode` INHERIT, NONE or EXPLICIT_CONTAINER with
`containerConf`), written the way dataikuapi's `set_python_code_env` and `set_container_exec_config` write them.
Removing the section sets DSS's defaults for a new project back: the built-in envs, the instance's container
setting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from ..config.models import Strict
from ._project_settings import edit_settings, read_settings
from .address import Address
from .base import CODE_ENV, Desired, ImportContext, Kind, Remote, nonempty

if TYPE_CHECKING:
    from collections.abc import Mapping

    from dataikuapi import DSSClient

    from ..config.loader import ProjectSource
    from .context import EnvContext

BUILTIN, INHERIT, NONE = "builtin", "inherit", "none"
LANGUAGES = ("python", "r")
ENV_MODES = {BUILTIN: "USE_BUILTIN_MODE", INHERIT: "INHERIT"}
CONTAINER_MODES = {INHERIT: "INHERIT", NONE: "NONE"}
# What DSS gives a new project, and so what removing the section sets back.
DSS_DEFAULTS = {"python": BUILTIN, "r": BUILTIN, "container": INHERIT}

_ENV_HELP = ("the project's default {lang} code env: a logical code env name (renamed per environment by "
             "`remap.code_envs`), `builtin` (DSS's built-in env) or `inherit` (the instance's default); left out: "
             "DSS's setting is left alone")


class CodeDefaults(Strict):
    """The project's default code envs and container configuration, used by its recipes, notebooks and webapps
    when they name none. Each key set is managed; a key left out is left as DSS has it; removing the section sets
    DSS's defaults for a new project back (built-in envs, the instance's container setting)."""

    python: str | None = Field(default=None, min_length=1, description=_ENV_HELP.format(lang="Python"))
    r: str | None = Field(default=None, min_length=1, description=_ENV_HELP.format(lang="R"))
    container: str | None = Field(
        default=None, min_length=1, description="the container configuration the project's code runs in by default: "
                                                "its name, `none` (run on the DSS host) or `inherit` (the "
                                                "instance's setting); left out: DSS's setting is left alone")


def _env_of(selection: Mapping[str, Any] | None) -> str:
    mode = (selection or {}).get("mode", "USE_BUILTIN_MODE")
    if mode == "EXPLICIT_ENV":
        return str((selection or {}).get("envName"))
    return next((k for k, v in ENV_MODES.items() if v == mode), f"<{mode}>")


def _container_of(container: Mapping[str, Any] | None) -> str:
    mode = (container or {}).get("containerMode", "INHERIT")
    if mode == "EXPLICIT_CONTAINER":
        return str((container or {}).get("containerConf"))
    return next((k for k, v in CONTAINER_MODES.items() if v == mode), f"<{mode}>")


def fields_of(raw: Mapping[str, Any]) -> dict[str, Any]:
    settings = raw.get("settings") or {}
    envs = settings.get("codeEnvs") or {}
    return {"python": _env_of(envs.get("python")), "r": _env_of(envs.get("r")),
            "container": _container_of(settings.get("container"))}


def _write(raw: dict[str, Any], fields: Mapping[str, Any]) -> None:
    settings = raw.setdefault("settings", {})
    for lang in LANGUAGES:
        if lang not in fields:
            continue
        env = settings.setdefault("codeEnvs", {}).setdefault(lang, {})
        env.pop("envName", None)
        value = fields[lang]
        env["mode"] = ENV_MODES.get(value, "EXPLICIT_ENV")
        env["useBuiltinEnv"] = value == BUILTIN
        if env["mode"] == "EXPLICIT_ENV":
            env["envName"] = value
    if "container" in fields:
        container = settings.setdefault("container", {})
        container.pop("containerConf", None)
        container["containerMode"] = CONTAINER_MODES.get(fields["container"], "EXPLICIT_CONTAINER")
        if container["containerMode"] == "EXPLICIT_CONTAINER":
            container["containerConf"] = fields["container"]


class CodeDefaultsKind(Kind):
    name = "code_defaults"
    model = CodeDefaults  # the `code_defaults:` section of a project file
    rank = 12  # a setting of the project: made with it, before its flow
    adoptable = frozenset({"python", "r", "container"})
    remapped = {"python": CODE_ENV, "r": CODE_ENV}
    template = {"python": BUILTIN}
    # Promotion compares what bundles carry object by object; these settings are left to the bundle as DSS ships
    # it (its activation remaps code envs), not compared.
    in_bundle = False

    def config_path(self, name: str | None) -> tuple[str, ...]:
        return ("code_defaults",)

    def declared(self, spec: Any) -> list[str | None]:
        return [None] if getattr(spec, "code_defaults", None) is not None else []

    def names_used(self, entry: Any) -> list[tuple[tuple[str, ...], str, str]]:
        return [((lang,), CODE_ENV, value) for lang in LANGUAGES
                if (value := getattr(entry, lang, None)) is not None and value not in ENV_MODES]

    def instance_type_at(self, entry: Any, path: tuple[str, ...]) -> tuple[str | None, str | None]:
        return ("R" if path[:1] == ("r",) else "PYTHON"), None  # the code env's language

    def desired(self, source: ProjectSource, env: EnvContext) -> list[Desired]:
        spec = getattr(source.spec, "code_defaults", None)
        if spec is None:
            return []  # not declared: DSS's settings are left alone
        fields: dict[str, Any] = {}
        notes: dict[str, str] = {}
        for lang in LANGUAGES:
            if (value := getattr(spec, lang)) is not None:
                fields[lang] = value if value in ENV_MODES else env.code_env(value)
                if fields[lang] != value:
                    notes[lang] = f"{value} -> {fields[lang]}"
        if spec.container is not None:
            fields["container"] = spec.container
        return [Desired(Address(self.name, source.key), fields, (Address("project", source.key),), notes)]

    def config_entry(self, name: str | None, fields: dict[str, Any], ctx: ImportContext) -> Any:
        # What DSS gives a new project is left out: a project that never changed them declares nothing.
        return nonempty({k: v for k, v in fields.items() if DSS_DEFAULTS.get(k) != v}) or None

    def read(self, client: DSSClient, address: Address, remote_id: str | None) -> Remote | None:
        raw = read_settings(client, address.project)
        return None if raw is None else Remote(address.project, fields_of(raw), raw)

    def create(self, client: DSSClient, desired: Desired) -> str:
        edit_settings(client, desired.address.project, lambda raw: _write(raw, desired.fields))
        return desired.address.project

    def update(self, client: DSSClient, desired: Desired, remote: Remote) -> None:
        edit_settings(client, desired.address.project, lambda raw: _write(raw, desired.fields))

    def delete(self, client: DSSClient, address: Address, remote_id: str) -> None:
        edit_settings(client, address.project, lambda raw: _write(raw, DSS_DEFAULTS))
