"""DSS code environments, per environment: language, Python version, required packages.

Managed fields: language (python or r), python (the interpreter: "3.11"; None for R), packages (the requirement
lines, compared as a set: order and repeats mean nothing to pip), usable_by_all.

A change of packages saves the new spec and rebuilds the env (DSS's "update packages"); creating one waits for
DSS's build (a long task) and a failed build is an apply error naming the env. Both builds are DSS futures,
polled here so that their progress (the step DSS reports, and its count) reaches the apply's progress events; an
aborted build is an apply error too. language and python cannot change
in place: a change plans a replace. On an automation node the env is created AUTOMATION_SINGLE (one version, its
spec in `currentVersion`), as DSS requires there.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import DSSApiError
from ..step_progress import report
from .base import CODE_ENV, Desired, ImportContext, Remote
from .context import EnvContext
from .instance_base import InstanceKind

if TYPE_CHECKING:
    from dataikuapi import DSSClient

    from .address import Address

PYTHONS = ("3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13")


class CodeEnv(BaseModel):
    """A DSS code env of the environment's instance."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    language: Literal["python", "r"] = Field(default="python", description="python or r; cannot change in place")
    python: Literal[PYTHONS] | None = Field(  # type: ignore[valid-type]
        default=None, description="python only: the interpreter version, e.g. \"3.11\" (default 3.11); cannot "
                                   "change in place")
    packages: list[str] = Field(default_factory=list, description="requirement lines (pip or R), e.g. "
                                                                  "`pandas>=2.0`; a set: order does not matter")
    usable_by_all: bool = Field(default=True, description="every user may use it (else: its owner and admins)")

    @field_validator("python", mode="before")
    @classmethod
    def _version_text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, float | int) and not isinstance(v, bool) else v

    @field_validator("packages")
    @classmethod
    def _one_per_line(cls, v: list[str]) -> list[str]:
        for line in v:
            if "\n" in line or not line.strip():
                raise ValueError("each package is one non-empty requirement line")
        return v


def _interpreter(version: str) -> str:
    return "PYTHON" + version.replace(".", "")


def _version(interpreter: str | None) -> str | None:
    if not interpreter or not interpreter.startswith("PYTHON") or interpreter == "PYTHON":
        return None
    digits = interpreter.removeprefix("PYTHON")
    return f"{digits[0]}.{digits[1:]}" if digits.isdigit() else None


def _packages(spec: str) -> list[str]:
    return sorted({line.strip() for line in (spec or "").splitlines() if line.strip()})


def _holder(raw: dict[str, Any]) -> dict[str, Any]:
    """Where the package spec sits: the env itself on a design node, its current version on an automation one."""
    if raw.get("versions") is None:
        return raw
    return raw.get("currentVersion") or raw.get("noVersion") or (raw["versions"] or [raw])[-1]


def fields_of(raw: dict[str, Any]) -> dict[str, Any]:
    language = str(raw.get("envLang", "PYTHON")).lower()
    desc = raw.get("desc") or {}
    return {"language": language,
            "python": _version(desc.get("pythonInterpreter")) if language == "python" else None,
            "packages": _packages(_holder(raw).get("specPackageList", "")),
            "usable_by_all": bool(raw.get("usableByAll", desc.get("usableByAll", True)))}


class CodeEnvKind(InstanceKind):
    name = "code_env"
    model = CodeEnv
    section = "code_envs"
    rank = -20
    replace_on = frozenset({"language", "python"})
    adoptable = frozenset({"packages", "usable_by_all"})
    template = {"language": "python", "python": "3.11", "packages": []}

    def fields_of_entry(self, name: str, entry: Any, env: EnvContext) -> dict[str, Any]:
        python = (entry.python or "3.11") if entry.language == "python" else None
        return {"language": entry.language, "python": python, "packages": sorted(set(entry.packages)),
                "usable_by_all": entry.usable_by_all}

    def provides(self, fields: Any) -> tuple[str, str | None] | None:
        return CODE_ENV, str(fields["language"]).upper()

    def _lang(self, client: DSSClient, name: str, remote_id: str | None) -> str | None:
        if remote_id:
            return remote_id.split("/", 1)[0]
        return next((str(e.get("envLang")) for e in client.list_code_envs() if e.get("envName") == name), None)

    def read(self, client: DSSClient, address: Address, remote_id: str | None) -> Remote | None:
        from dataikuapi.utils import DataikuException

        name = str(address.name)
        lang = self._lang(client, name, remote_id)
        if lang is None:
            return None
        try:
            raw = client.get_code_env(lang, name).get_definition()
        except DataikuException as e:
            if "doesn't exist" in str(e) or "does not exist" in str(e):
                return None
            raise
        return Remote(f"{lang.upper()}/{name}", fields_of(raw), raw)

    def create(self, client: DSSClient, desired: Desired) -> str:
        name, f = str(desired.address.name), desired.fields
        lang = str(f["language"]).upper()
        automation = client.get_instance_info().node_type == "AUTOMATION"
        params: dict[str, Any] = {"specPackageList": "\n".join(f["packages"])}
        if f["python"]:
            params["pythonInterpreter"] = _interpreter(f["python"])
        future = client.create_code_env(lang, name, "AUTOMATION_SINGLE" if automation else "DESIGN_MANAGED", params,
                                        wait=False)
        _check_build(name, _wait_build(future, name))
        env = client.get_code_env(lang, name)
        raw = env.get_definition()  # a failed build shows here too: DSS cannot read the env's description
        if bool(raw.get("usableByAll", True)) != f["usable_by_all"]:
            settings = env.get_settings()
            settings.get_raw()["usableByAll"] = f["usable_by_all"]
            settings.save()
        return f"{lang}/{name}"

    def update(self, client: DSSClient, desired: Desired, remote: Remote) -> None:
        from dataikuapi.utils import DataikuException

        lang, name = remote.remote_id.split("/", 1)
        env = client.get_code_env(lang, name)
        settings = env.get_settings()
        raw = settings.get_raw()
        raw["usableByAll"] = desired.fields["usable_by_all"]
        packages = desired.fields["packages"]
        changed = _packages(_holder(raw).get("specPackageList", "")) != list(packages)
        _holder(raw)["specPackageList"] = "\n".join(packages)
        settings.save()
        if changed:
            try:
                future = env.update_packages(wait=False)
            except DataikuException:
                raise
            except Exception as e:  # dataikuapi raises a bare Exception when the build reports errors
                raise DSSApiError(f"building code env {name} failed: {e}") from None
            _check_build(name, _wait_build(future, name))

    def delete(self, client: DSSClient, address: Address, remote_id: str) -> None:
        lang, name = remote_id.split("/", 1)
        client.get_code_env(lang, name).delete()

    def list_all(self, client: DSSClient) -> list[str]:
        return sorted({str(e["envName"]) for e in client.list_code_envs()})

    def config_entry(self, name: str | None, fields: dict[str, Any], ctx: ImportContext | None) -> Any:
        out: dict[str, Any] = {"language": fields["language"]}
        if fields["python"]:
            out["python"] = fields["python"]
        out["packages"] = list(fields["packages"])
        if not fields["usable_by_all"]:
            out["usable_by_all"] = False
        return out


# How often a running build is polled: soon at first (a small env builds in seconds), then every few seconds.
FIRST_POLL, POLL_FACTOR, LONGEST_POLL = 0.05, 1.5, 3.0


def _wait_build(future: Any, name: str) -> Any:
    """A build's result, once DSS's future has one; each step DSS reports meanwhile is reported to the apply's
    progress (`installing pandas>=2.0`, 2 of 4). An aborted build (alive, no result) is an error naming the env."""
    state = future.state or {}
    delay, last = FIRST_POLL, None
    while not state.get("hasResult"):
        if state.get("aborted") or state.get("alive") is False:
            raise DSSApiError(f"building code env {name} was aborted in DSS before it finished")
        shown = _step(state)
        if shown is not None and shown != last:
            report(*shown)
            last = shown
        time.sleep(delay)
        delay = min(delay * POLL_FACTOR, LONGEST_POLL)
        state = future.get_state()
    return state.get("result")


def _step(state: dict[str, Any]) -> tuple[str, int | None, int | None] | None:
    """What a running future says it does: its innermost state's name, with the outermost's count when it has
    one (DSS's `progress.states` is a stack: the task, then what it does now)."""
    states = [s for s in (state.get("progress") or {}).get("states") or [] if isinstance(s, dict) and s.get("name")]
    if not states:
        return None
    counted = next((s for s in states if isinstance(s.get("target"), int) and s["target"] > 0), None)
    if counted is None:
        return str(states[-1]["name"]), None, None
    return str(states[-1]["name"]), int(counted.get("cur") or 0), int(counted["target"])


def _check_build(name: str, result: Any) -> None:
    messages = (result or {}).get("messages") if isinstance(result, dict) else None
    if isinstance(messages, dict) and messages.get("error"):
        detail = "; ".join(str(m.get("message", "")) for m in messages.get("messages", []))
        raise DSSApiError(f"building code env {name} failed: {detail}")
