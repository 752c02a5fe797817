"""The workspace file's schema, and what every configuration model shares: pydantic v2 models that reject unknown
keys (`Strict`), and the rules of keys and names.

The workspace file (`dss-iac.yaml`) declares environments, project file globs and the state backend. A project
file's entries are each validated by the model of its kind, which lives in the kind's module
(`resources/dataset.py` has `Dataset`); `project_model.py` puts them together as `ProjectFile`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from .._text import shorten
from .envref import has_ref
from .testing_models import TestSettings

PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]*$")
OBJECT_NAME = r"^[A-Za-z0-9_]+$"
ENV_NAME = r"^[a-z][a-z0-9_-]*$"  # environments, and the simulator nodes named after them
INFRA_ID = r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$"
# Dataiku documents no maximum length for keys or names: these are dss-iac's own, inside what DSS takes. A key
# ends up in paths of DSS's data directory and in managed datasets' path and table prefixes (`${projectKey}`),
# and environments add to it (`project_key: "{key}_DEV"`), so it is kept short; names stay far below the 255
# bytes of a file name.
MAX_KEY_LENGTH = 64
MAX_NAME_LENGTH = 128
MAX_INT32 = 2**31 - 1
JsonScalar = str | int | float | bool | None


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# -- workspace --------------------------------------------------------------------------------------


class Remap(Strict):
    """Logical names used in project files, mapped to this environment's physical DSS names."""

    connections: dict[str, str] = Field(default_factory=dict, description="logical connection -> DSS connection")
    code_envs: dict[str, str] = Field(default_factory=dict, description="logical code env -> DSS code env")


class Approval(Strict):
    """A sign-off in Dataiku Govern that changes to this environment wait for: `apply` (one Govern artifact per
    plan, holding the plan in Markdown and a link to its commit) and `promote` (the bundle's artifact) refuse until
    its sign-off is approved (see docs/govern.md)."""

    by: Literal["govern"] = Field(default="govern", description="who approves: `govern`, a sign-off in Dataiku Govern")
    blueprint: str = Field(default="bp.system.govern_bundle",
                           description="the blueprint of the Govern artifacts dss-iac opens for approval")
    blueprint_version: str | None = Field(default=None, description="its version (default: its active version)")
    step: str | None = Field(default=None, description="the workflow step whose sign-off must be approved (default: "
                                                       "the first step with a sign-off: `review` in the standard "
                                                       "blueprints)")
    host: str | None = Field(default=None, description="Govern's URL (default: the Govern node the environment's DSS "
                                                       "is connected to, read with its admin API key)")
    api_key: str | None = Field(default=None, description="Govern API key, with `host`; use ${env:NAME}")

    @field_validator("host")
    @classmethod
    def _govern_host(cls, v: str | None) -> str | None:
        if v is not None and not has_ref(v) and not re.match(r"^https?://[^\s/]+", v):
            raise ValueError("expected an http(s) URL such as https://govern.example.com")
        return None if v is None else v.rstrip("/")


class Environment(Strict):
    """One DSS instance that projects are applied to."""

    host: str = Field(description="DSS URL, or `embedded` for the workspace's embedded DSS simulator (kept under "
                                  ".dss-iac/sim/embedded/, shared by every embedded environment and every process "
                                  "using the workspace)")
    api_key: str | None = Field(default=None, description="API key; use ${env:NAME}, never a literal in Git")
    remap: Remap = Field(default_factory=Remap, description="logical connection and code env names -> this "
                                                            "instance's names")
    variables: dict[str, Any] = Field(
        default_factory=dict, description="values of project standard variables in this environment, for the "
                                          "projects that declare them")
    protected: bool = Field(default=False, description="apply and destroy refuse to delete or replace anything "
                                                        "unless given --allow-delete")
    instance: str | None = Field(
        default=None, description="the instance file of this environment (a path in the workspace, e.g. "
                                  "`instance/prod.yaml`): the connections, code envs, groups, users and global "
                                  "variables its DSS holds, planned with its projects (docs/instance.md)")
    node: str = Field(default="design", pattern=ENV_NAME, max_length=MAX_KEY_LENGTH,
                      description="embedded only: the simulator node to target (`design`, or an automation node "
                                  "named after it, such as `prod`)")
    verify_tls: bool = Field(default=True, description="check the DSS server's TLS certificate")
    project_key: str = Field(
        default="{key}", description="the DSS project key in this environment, from the key in the project file: "
                                     "`{key}_DEV` lets several environments share one instance")
    overrides: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="per-resource changes in this environment: address pattern (globs allowed, "
                                          "with the project file's key) -> keys to merge into that resource's config, "
                                          "e.g. `scenario.*.*: {active: false}`")
    deploy: Literal["direct", "bundle"] = Field(
        default="direct", description="`direct`: `apply` writes to this instance; `bundle`: projects arrive by "
                                      "`dss-iac promote` through bundles and the Project Deployer")
    infra: str | None = Field(default=None, pattern=INFRA_ID, max_length=MAX_NAME_LENGTH,
                              description="bundle only: the Project Deployer infrastructure of this environment "
                                          "(default: the environment's node name)")
    approval: Approval | None = Field(
        default=None, description="`govern`: apply and promote wait for a sign-off in Dataiku Govern (or a mapping "
                                  "to choose the blueprint, the step and the Govern node)")
    govern_check: Literal["NO_CHECK", "WARN", "PREVENT"] | None = Field(
        default=None, description="bundle only: the Govern check policy of the environment's deployer infrastructure "
                                  "(governCheckPolicy), set by promote; PREVENT deploys approved bundles only "
                                  "(default: left as the deployer has it)")

    @field_validator("approval", mode="before")
    @classmethod
    def _approval_shorthand(cls, v: Any) -> Any:
        if v == "govern":
            return {"by": "govern"}
        if v is not None and not isinstance(v, dict):
            raise ValueError("expected `govern` or a mapping such as {by: govern, step: review}")
        return v

    @field_validator("govern_check")
    @classmethod
    def _bundle_only(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is not None and info.data.get("deploy") != "bundle":
            raise ValueError("govern_check is the policy of a deployer infrastructure: it needs deploy: bundle")
        return v

    @field_validator("project_key")
    @classmethod
    def _key_pattern(cls, v: str) -> str:
        if "{key}" not in v or not PROJECT_KEY.fullmatch(v.replace("{key}", "K")):
            raise ValueError(f"invalid project_key pattern '{shorten(v)}': it must contain {{key}} and give an "
                             "uppercase key, e.g. {key}_DEV")
        if len(v.replace("{key}", "K")) > MAX_KEY_LENGTH:
            raise ValueError(f"project_key pattern '{shorten(v)}' gives keys longer than {MAX_KEY_LENGTH} characters")
        return v

    @field_validator("overrides")
    @classmethod
    def _override_addresses(cls, v: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        from ..resources import registry  # the kinds import these models: asked when a file is validated

        overridable = [k.name for k in registry.kinds() if k.overridable]
        for pattern, change in v.items():
            kind = pattern.split(".", 1)[0]
            if kind not in overridable:
                raise ValueError(f"override '{shorten(pattern)}': it must start with one of {', '.join(overridable)}")
            if kind == "project" and "key" in change:
                raise ValueError(f"override '{shorten(pattern)}' sets the project key, which an environment cannot "
                                 "change this way: use `project_key:` (e.g. '{key}_DEV')")
        return v

    @field_validator("instance")
    @classmethod
    def _instance_path(cls, v: str | None) -> str | None:
        if v is not None and (not v or "\0" in v or v.startswith("/") or ".." in v.split("/")
                              or not v.endswith((".yaml", ".yml"))):
            raise ValueError(f"instance file '{shorten(v)}' must be a relative .yaml path inside the workspace")
        return v

    @field_validator("host")
    @classmethod
    def _host(cls, v: str) -> str:
        if v != "embedded" and not has_ref(v) and not re.match(r"^https?://[^\s/]+", v):
            raise ValueError("expected `embedded` or an http(s) URL such as https://dss.example.com:11200")
        return v.rstrip("/")


class StateSettings(Strict):
    """Where the state is kept, how it is locked, and whether it is encrypted."""

    backend: Literal["local", "s3", "git"] = Field(default="local", description="where state is kept")
    path: str = Field(default=".dss-iac/state", description="local backend: folder of the state files")
    bucket: str | None = Field(default=None, description="s3 backend: the bucket (required)")
    prefix: str = Field(default="dss-iac", description="s3 backend: key prefix inside the bucket")
    region: str | None = Field(default=None, description="s3 backend: AWS region")
    endpoint_url: str | None = Field(default=None, description="s3 backend: endpoint of an S3-compatible service")
    repo: str = Field(default=".", description="git backend: the repository (a path; default: the workspace's)")
    branch: str = Field(default="dss-iac-state", description="git backend: the branch that holds the state")
    lock_ttl_seconds: Annotated[float, Field(ge=1)] = Field(
        default=60.0, description="a lock not renewed for this long (its holder died) is free to take")
    keep_backups: Annotated[int, Field(ge=1)] = Field(
        default=50, description="state-changing commands (apply, destroy, import, state rm...) kept in `state "
                                "history`, each with a backup of the state it left, for `state restore`")
    encryption_key_env: str | None = Field(
        default=None, description="name of the environment variable holding the AES-256 key; when set, state is "
                                  "encrypted at rest and plaintext state is refused")

    @model_validator(mode="after")
    def _backend_settings(self) -> StateSettings:
        if self.backend == "s3" and not self.bucket:
            raise ValueError("the s3 state backend needs a `bucket`")
        return self


class WorkspaceFile(Strict):
    """`dss-iac.yaml` at the workspace root."""

    version: Literal[1] = Field(description="format version of this file; 1")
    projects: list[str] = Field(default_factory=lambda: ["projects/*.yaml"], description="globs of project files")
    environments: dict[str, Environment] = Field(description="environment name -> DSS instance")
    state: StateSettings = Field(default_factory=StateSettings, description="where dss-iac keeps the state: what "
                                                                            "it manages and the DSS ids")
    tests: TestSettings = Field(default_factory=TestSettings, description="static rules of the team and scenarios "
                                                                          "run as tests (docs/testing.md)")

    @field_validator("environments")
    @classmethod
    def _env_names(cls, v: dict[str, Environment]) -> dict[str, Environment]:
        if not v:
            raise ValueError("declare at least one environment")
        for name in v:
            if not re.fullmatch(ENV_NAME, name):
                raise ValueError(f"environment name '{shorten(name)}' must be lowercase letters, digits, '-' or '_', "
                                 "starting with a letter")
            if len(name) > MAX_KEY_LENGTH:
                raise ValueError(f"environment name '{shorten(name)}' is longer than {MAX_KEY_LENGTH} characters")
        return v


# -- project files -------------------------------------------------------------------------------------


