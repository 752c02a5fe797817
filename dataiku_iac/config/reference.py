"""The configuration reference, generated from the schema models: Markdown for people, JSON Schema for editors.

    python -m dataiku_iac.config.reference > docs/config-reference.md
    python -m dataiku_iac.config.reference --schema project > schemas/dss-iac.project.schema.json

Every key, type, default, allowed value and description comes from the models (`models.py` for the workspace
file, each kind's module in `resources/` for the entries of a project file, gathered by `project_model.py`), so the
docs cannot drift from the code (a test compares the committed docs with `render_reference()`). Only what the
models cannot say is written here: descriptions the models still lack (`FIELD_NOTES`), the validators' rules as JSON
Schema, and the cross-file rules of `checks.py` in prose.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic.json_schema import models_json_schema

from ..resources import registry
from ..resources.recipe_model import CODE_RECIPES, ENV_TYPES, JSON_VISUAL, PARAMS_VISUAL
from . import models
from .envref import REF
from .files import MAX_FILE_BYTES
from .instance_model import instance_file_model
from .loader import MAX_WORKSPACE_BYTES, MAX_WORKSPACE_VALUES, WORKSPACE_FILE
from .models import WorkspaceFile
from .project_model import project_file_model
from .yamlio import MAX_DEPTH, MAX_VALUES

SchemaFile = Literal["all", "workspace", "project", "instance"]
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
REGENERATE = "python -m dataiku_iac.config.reference > docs/config-reference.md"

# Descriptions of fields the models leave undescribed, keyed (model, field name): only models that have not yet
# moved into their kind's module. A test fails when one of these gets a description in its model (then delete it
# here) or when a field has neither. A new model describes its fields itself: `Field(description=...)`.
FIELD_NOTES: dict[tuple[str, str], str] = {
}

# What a section says about a model that has no docstring (same rule as FIELD_NOTES).
MODEL_NOTES: dict[str, str] = {
}

ENV_NAME_PATTERN = models.ENV_NAME
HOST_PATTERN = r"^(embedded|https?://[^\s/]+.*)$"
ENV_REF_PATTERN = REF.pattern


def _extra_schema() -> dict[tuple[str, str], dict[str, Any]]:
    """The models' validators, as JSON Schema keywords (tests check they agree with the models)."""
    return {
        ("WorkspaceFile", "environments"): {"minProperties": 1, "propertyNames": {
            "pattern": ENV_NAME_PATTERN, "maxLength": models.MAX_KEY_LENGTH}},
        ("Environment", "host"): {"anyOf": [{"pattern": HOST_PATTERN}, {"pattern": ENV_REF_PATTERN}]},
        ("Project", "key"): {"pattern": models.PROJECT_KEY.pattern, "maxLength": models.MAX_KEY_LENGTH},
        # Reporter credentials: `${env:NAME}` only (scenario_models.secret_ref).
        **{(model, key): {"pattern": ENV_REF_PATTERN} for model, key in (
            ("SlackReporter", "webhook_url"), ("SlackReporter", "token"), ("TeamsReporter", "webhook_url"),
            ("WebhookReporter", "webhook_url"), ("MailReporter", "password"))},
        # Names are keys matched by patternProperties, which cannot say how long they may be.
        **{("ProjectFile", name): {"propertyNames": {"maxLength": models.MAX_NAME_LENGTH}}
           for name in (k.collection for k in registry.kinds() if k.collection is not None)},
    }


# -- walking the models --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    model: type[BaseModel]
    paths: tuple[str, ...]


def _unwrap_annotated(tp: Any) -> tuple[Any, list[Any]]:
    meta: list[Any] = []
    while typing.get_origin(tp) is typing.Annotated:
        tp, *more = typing.get_args(tp)
        for m in more:
            meta.extend(m.metadata if isinstance(m, FieldInfo) else [m])
    return tp, meta


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _non_none(tp: Any) -> list[Any]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return [a for a in typing.get_args(tp) if a is not type(None)]
    return [tp]


def _children(tp: Any, path: str) -> Iterator[tuple[type[BaseModel], str]]:
    """The models inside a field's type, each with the path where it appears in a file."""
    tp, _ = _unwrap_annotated(tp)
    for arg in _non_none(tp):
        arg, _ = _unwrap_annotated(arg)
        origin = typing.get_origin(arg)
        if _is_model(arg):
            yield arg, path
        elif origin is list:
            yield from _children(typing.get_args(arg)[0], f"{path}[]")
        elif origin is dict:
            yield from _children(typing.get_args(arg)[1], f"{path}.<name>")


def key_of(name: str, field: FieldInfo) -> str:
    """The key a user writes for a field: its alias when it has one (`schema` for `schema_`)."""
    return field.alias or name


def sections(root: type[BaseModel]) -> list[Section]:
    """Every model of a file, depth first in field order, with the paths where it appears."""
    order: list[type[BaseModel]] = []
    paths: dict[type[BaseModel], list[str]] = {}

    def visit(model: type[BaseModel], path: str, prefix: str) -> None:
        if model in paths:
            if path not in paths[model]:
                paths[model].append(path)
            return
        order.append(model)
        paths[model] = [path]
        for name, field in model.model_fields.items():
            for child, child_path in _children(field.annotation, prefix + key_of(name, field)):
                visit(child, child_path, child_path + ".")

    visit(root, "(top level)", "")
    return [Section(m, tuple(paths[m])) for m in order]


def all_models() -> list[type[BaseModel]]:
    return [s.model for root in (WorkspaceFile, project_file_model(), instance_file_model()) for s in sections(root)]


def description_of(model: type[BaseModel], name: str) -> str:
    field = model.model_fields[name]
    return field.description or FIELD_NOTES.get((model.__name__, name), "")


def intro_of(model: type[BaseModel]) -> str:
    doc = model.__dict__.get("__doc__")
    return " ".join(doc.split()) if doc else MODEL_NOTES.get(model.__name__, "")


# -- Markdown ------------------------------------------------------------------------------------------------

SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean", type(None): "null"}


def _constraints(meta: list[Any]) -> list[str]:
    out: list[str] = []
    lo = next((getattr(m, a) for m in meta for a in ("ge", "gt") if getattr(m, a, None) is not None), None)
    hi = next((getattr(m, a) for m in meta for a in ("le", "lt") if getattr(m, a, None) is not None), None)
    if lo is not None and hi is not None:
        out.append(f"from {lo} to {hi}")
    elif lo is not None:
        out.append(f"at least {lo}")
    elif hi is not None:
        out.append(f"at most {hi}")
    for m in meta:
        if getattr(m, "min_length", None) is not None:
            out.append(f"at least {m.min_length} item{'s' if m.min_length > 1 else ''}")
        if getattr(m, "pattern", None) is not None:
            out.append(f"matching `{m.pattern}`")
        if getattr(m, "max_length", None) is not None:
            out.append(f"at most {m.max_length} characters")
    return out


def _anchor(model: type[BaseModel]) -> str:
    return model.__name__.lower()


def render_type(tp: Any, meta: list[Any] | None = None) -> str:
    """A field's type in words: `list of string`, `map of name to [Dataset](#dataset)`, `one of ...`."""
    tp, more = _unwrap_annotated(tp)
    meta = [*(meta or []), *more]
    limits = _constraints(meta)
    suffix = f" ({', '.join(limits)})" if limits else ""
    origin = typing.get_origin(tp)
    if tp is Any:
        text = "any"
    elif tp in SCALARS:
        text = SCALARS[tp]
    elif _is_model(tp):
        text = f"[{tp.__name__}](#{_anchor(tp)})"
    elif origin is Literal:
        values = ", ".join(f"`{v}`" for v in typing.get_args(tp))
        text = f"one of {values}" if len(typing.get_args(tp)) > 1 else f"always {values}"
    elif origin is list:
        text = f"list of {render_type(typing.get_args(tp)[0])}"
    elif origin is dict:
        key, value = typing.get_args(tp)
        key_tp, key_meta = _unwrap_annotated(key)
        key_text = "names" if _constraints(key_meta) else render_type(key_tp)
        key_limits = _constraints(key_meta)
        key_text += f" ({', '.join(key_limits)})" if key_limits else ""
        text = f"map of {key_text} to {render_type(value)}"
    elif origin in (typing.Union, types.UnionType):
        text = " or ".join(render_type(a) for a in typing.get_args(tp))
    else:
        text = str(tp)
    return text + suffix


def _default(field: FieldInfo) -> Any:
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
        return value.model_dump(by_alias=True) if isinstance(value, BaseModel) else value
    return field.default


def render_default(field: FieldInfo) -> str:
    if field.is_required():
        return "-"
    if field.default_factory is not None and _is_model(field.annotation):
        return "its own defaults"
    return f"`{json.dumps(_default(field))}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_section(section: Section, level: str = "###") -> list[str]:
    model = section.model
    where = ", ".join(f"`{p}`" if not p.startswith("(") else p for p in section.paths)
    lines = [f"{level} {model.__name__}", "", intro_of(model), "", f"Where: {where}.", "",
             "| key | type | required | default | description |", "| --- | --- | --- | --- | --- |"]
    for name, field in model.model_fields.items():
        key = key_of(name, field)
        required = "yes" if field.is_required() else "no"
        row = [f"`{key}`", render_type(field.annotation, list(field.metadata)), required, render_default(field),
               description_of(model, name)]
        lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    lines.append("")
    return lines


MINIMAL_WORKSPACE = """\
version: 1
environments:
  dev:
    host: embedded
    remap:
      connections: {storage: filesystem_managed}
"""

MINIMAL_INSTANCE = """\
connections:
  pg_prod:
    type: PostgreSQL
    params: {host: db.internal, db: sales, user: etl, password: "${env:PG_PROD_PASSWORD}"}
groups:
  analysts: {permissions: [may_create_projects, may_write_safe_code]}
"""

MINIMAL_PROJECT = """\
project:
  key: CHURN
  name: Churn prediction
datasets:
  customers:
    type: Filesystem
    connection: storage
    params: {path: /churn/customers}
    format: csv
"""


# The Python twin of MINIMAL_PROJECT plus a loop; a test checks it builds the same project.
PYTHON_PROJECT = """\
from dataiku_iac.dsl import Dataset, Project, ProjectFile, columns

REGIONS = ["emea", "amer", "apac"]

datasets = {
    "customers": Dataset(type="Filesystem", connection="storage", params={"path": "/churn/customers"},
                         format="csv"),
}
for region in REGIONS:
    datasets[f"events_{region}"] = Dataset(
        type="Filesystem", connection="storage", params={"path": f"/churn/events/{region}"}, format="csv",
        schema=columns(customer_id="bigint", event="string", at="date"))

project = ProjectFile(project=Project(key="CHURN", name="Churn prediction"), datasets=datasets)
"""


def _python_files() -> list[str]:
    return [
        "## Python project files",
        "",
        "A project file can also be a Python file, for flows that are easier to compute than to type "
        "(twenty datasets from a list of regions or tables). It builds the very models a YAML file is "
        "validated into, so `validate`, `plan` and `apply` cannot tell the two apart, and YAML and Python "
        "files mix freely in one workspace. Only globs that end in `.py` read Python files, so running "
        "code is opt-in and a broad glob (`projects/*`) never runs a helper or a recipe's code:",
        "",
        "```yaml",
        "projects: [projects/*.yaml, projects/*.py]",
        "```",
        "",
        "`dataiku_iac.dsl` re-exports the models of this reference under their section names "
        "(`ProjectFile`, `Project`, `Dataset`, `ManagedFolder`, `Recipe`, `Scenario` with its triggers, steps and "
        "reporters (`TemporalTrigger`, `SqlStep`, `SlackReporter`...), `Zone`, `Column`, `Permission`, "
        "`Variables`); their keyword arguments "
        "are the keys above (`schema=` for a dataset's columns). `columns(id=\"bigint\", ...)` builds a schema "
        "in order. The minimal project above, with three more datasets from a loop:",
        "",
        "```python",
        *PYTHON_PROJECT.splitlines(),
        "```",
        "",
        "- The file runs in a fresh namespace each time the workspace is loaded, and must set the "
        "module-level variable `project` to a `ProjectFile`, or to a dict of the same shape as a YAML "
        "project file (checked the same way). `__file__` is the file's path; `__name__` is not "
        "`\"__main__\"`, so `python projects/churn.py` can print what an `if __name__ == \"__main__\":` "
        "block shows without the workspace running it. `print()` output goes to stderr.",
        "- Models are frozen: derive a variant with `base.model_copy(update={\"tags\": [...]})`. What "
        "it sets is checked with the rest of `project`.",
        "- `code` paths of recipes are relative to the Python file, as they are to a YAML file.",
        "- Values must be plain data, as YAML gives: strings, numbers, booleans, `None`, lists (tuples "
        "become lists) and dicts with string keys. A date or a `Path` in `params` or `variables` is an "
        "error naming its key path, and so are what a YAML file may not hold either (see [Limits on what is "
        "read](#limits-on-what-is-read)): NaN and infinities, integers outside 64 bits, nesting deeper than "
        f"{MAX_DEPTH} levels or a value that contains itself.",
        "- **A Python project file is code, and is trusted as code.** It runs with your permissions each time "
        "the workspace is loaded (`validate` included), like a Terraform provider or a dbt macro, and dss-iac "
        "does not sandbox it: it may read files, the environment and the network. Only its own path is held "
        "to the limits (a regular file inside the workspace); what it does while it runs is not. Review a "
        "change to a `.py` project file as you review code, and where CI runs on pull requests from people "
        "you do not trust, keep `.py` globs out of `projects` or run `validate` there without secrets.",
        "- A saved plan is stale when the file changes, and also when what it builds changes without the "
        "file changing (a data file it reads, an environment variable, a module it imports).",
        "- For a secret, write the string `\"${env:NAME}\"`, not `os.environ[\"NAME\"]`: the reference is "
        "resolved when an environment is used and its value is treated as sensitive everywhere, while a value "
        "the file reads itself is plain data to dss-iac (shown in plans, kept in state).",
        "- Errors never show a traceback. An exception raised while the file runs is reported at the "
        "innermost line of the file it went through, with its type: "
        "`projects/churn.py:12:5: KeyError: 'emea'`; a model built with a wrong value says which: "
        "`projects/churn.py:7:20: ValidationError: Dataset.type: invalid value 1 for 'type': input should "
        "be a valid string`. A problem found in the finished `project` (a bad key, a reference to no "
        "dataset, a key declared twice...) is reported at the line of the `project = ...` assignment, "
        "with the key path: `projects/churn.py:16:1: recipes.clean.inputs[0]: recipe input 'raw' names "
        "no dataset or managed folder of project CHURN`.",
        "",
    ]


def _rules() -> list[str]:
    code_types = ", ".join(f"`{t}`" for t in sorted(CODE_RECIPES))
    env_types = ", ".join(f"`{t}`" for t in sorted(ENV_TYPES))
    visual_types = ", ".join(f"`{t}`" for t in sorted(JSON_VISUAL | PARAMS_VISUAL))
    return [
        "## Validation rules",
        "",
        "The tables above say what each key accepts on its own. These rules span several keys or files; "
        "`dss-iac validate` checks them all and reports every problem at once, each as "
        "`file:line:col: message`.",
        "",
        "### Reading the files",
        "",
        "- Files are YAML. A key given twice in one mapping is an error, as is any key not listed in this "
        "reference (`unknown key 'tpye' (expected one of: type, connection, ...)`).",
        f"- `{WORKSPACE_FILE}` is looked for in the given folder and then in its parents; that folder is the "
        "workspace root.",
        "- Globs in `projects` are relative to the workspace root and must stay inside it (no absolute paths, "
        "no `..`). A glob ending in `.py` reads [Python project files](#python-project-files); the others read "
        "`.yaml` and `.yml` files only. A file matched by two globs is read once.",
        "- `${env:NAME}` in an environment's values, and in any string of a project file (dataset and recipe "
        "params, variables, descriptions...), is replaced by the environment variable `NAME` when an environment "
        "is used (to plan, apply or validate against it); a variable that is not set is then an error naming it "
        "at its `file:line:col`. Loading the files, `validate` without `-e`, or using another environment, does "
        "not need it. DSS's own `${...}` variables (`${projectKey}`) are left for DSS.",
        "- Every value read through `${env:NAME}` is sensitive wherever it lands, whatever its key: plans show "
        "`(sensitive)`, the state keeps a keyed fingerprint, and no message shows it (see "
        "[State](state.md#secrets)). An environment's `host` is the exception: it is shown, with the credentials "
        "of its URL (`https://***@host`) hidden.",
        "",
        "### Limits on what is read",
        "",
        "A configuration is untrusted input when `dss-iac` runs in CI on pull requests, so these hold for "
        "every file, and each breach is an error at the line that caused it, found before anything is built "
        "or sent:",
        "",
        f"- Every file read ({WORKSPACE_FILE}, project files, recipe `code`) is a regular file of at most "
        f"{MAX_FILE_BYTES >> 20} MiB inside the workspace folder, once `..` and symbolic links are followed "
        "(a link to another file of the workspace is fine). A path that leads elsewhere (`code: "
        "../../../etc/passwd`, an absolute path, a link to a file of the machine), a named pipe, a device "
        "(`/dev/zero`) or a folder is refused, so a plan can never print a file from outside the workspace. "
        "With `--at REV` the same holds, and symbolic links are not followed at all.",
        f"- A YAML file is nested at most {MAX_DEPTH} levels deep and holds at most {MAX_VALUES:,} values, "
        "each alias counted as a copy of what it names: an \"alias bomb\" is refused before it is expanded. "
        "An alias inside what it names (a value that contains itself) is refused.",
        f"- A whole workspace adds up to at most {MAX_WORKSPACE_BYTES >> 20} MiB of files and "
        f"{MAX_WORKSPACE_VALUES:,} values: reading stops at the file that crosses the line.",
        "- Values are what DSS stores as JSON. A date or time written plainly (`2024-01-01`: quote it to keep "
        "it as text), `.nan`, `.inf` or a number too large for a float, an integer outside 64 bits "
        "(-2^63 to 2^63-1), `!!binary`, `!!set`, `!!omap`, `!!pairs`, and keys that are not text (`1:`, "
        "`null:`, `true:`: quote them) are refused where they are written.",
        "- Error messages show control characters as escapes (`\\n`, `\\x1b`), so each error stays one line.",
        "",
        "### Names",
        "",
        f"- Environment names: lowercase letters, digits, `-` and `_`, starting with a letter, at most "
        f"{models.MAX_KEY_LENGTH} characters; at least one environment.",
        "- `host`: `embedded`, an `http://` or `https://` URL, or a value holding a `${env:NAME}` reference.",
        f"- Project keys: uppercase letters, digits and `_`, starting with a letter (`CHURN_V2`), at most "
        f"{models.MAX_KEY_LENGTH} characters in every environment (after its `project_key`). A key is declared by "
        "one project file only: the same key in two files is an error naming the first file. An environment "
        "changes keys with `project_key`, never with an override of `project.key`.",
        f"- Names of datasets, managed folders, recipes, scenarios and zones: letters, digits and `_`, at most "
        f"{models.MAX_NAME_LENGTH} characters. A name is a dataset or a managed folder, not both: they share the "
        "flow's namespace.",
        f"- Dataiku's documentation gives no maximum length for project keys or names, so the {models.MAX_KEY_LENGTH} "
        f"and {models.MAX_NAME_LENGTH} above are dss-iac's own, set inside what DSS takes: a key ends up in paths of "
        "DSS's data directory and, through `${projectKey}`, in the path and table prefixes of managed datasets, so it "
        "is kept short, with room for an environment's suffix; names are held far below "
        "the 255 bytes of a file name.",
        "",
        "### Recipes",
        "",
        "- Each input names a dataset or a managed folder of the same project, or `PROJECT.name`: a dataset "
        "of another project of the workspace (managed folders of other projects cannot be inputs) that this "
        "project exposes to the reader (`exposed_objects: {name: {to: [READER]}}` in its file).",
        "- Each output names a dataset or a managed folder of the same project (never `PROJECT.name`), and "
        "a dataset or folder is the output of one recipe at most.",
        "- Recipes must not form a cycle: no recipe may read, through other recipes, what it writes. The "
        "error lists the cycle (`dependency cycle between recipes: a <- b <- a`).",
        f"- `code` is for code recipes only ({code_types}). Its path is relative to the project file; the "
        "file must exist and be UTF-8 text. Its content becomes the recipe's code in DSS.",
        "- `sync` and `sql_query` recipes have exactly one output; `code_env` is for the recipes that run in a "
        f"code env ({env_types}), and the code env is set with `code_env`, never with `params.envSelection` "
        "(checked when planning).",
        f"- `type` is one of DSS's recipe types: visual ({visual_types}; `prepare` is DSS's `shaker`), code "
        "(above) or `CustomCode_<recipe>` for a plugin's recipe. DSS keeps a recipe's type for life: changing "
        "it replaces the recipe.",
        "- Visual recipes have typed settings: `steps` (prepare: processors with their `params`, or groups), "
        "`joins` (join: `left` and `right` name inputs, `type`, conditions `on`), `keys`, `aggregations` and "
        "`global_count` (grouping), `windows` (window: partitions, orders, frame) and `aggregations`, `keys` "
        "(distinct, topn), `orders` (sort, topn). A typed setting left out is empty; a plan shows list items "
        "added, removed, moved or changed (`~ [0] moved from [2]`). Everything else of a visual recipe goes in "
        "`settings`, in DSS's payload keys, and a plugin recipe's settings in `config`: both are open maps, "
        "like `params` (only the keys a file sets are managed; a key dropped from the file is removed from "
        "DSS). `import`, drift and adopt write DSS's recipes in this same form.",
        "- `roles` gives the inputs and outputs that are not in role `main` their role (plugin recipes name "
        "theirs); each must be an input or an output of the recipe.",
        "",
        "```yaml",
        "recipes:",
        "  clean_orders:",
        "    type: prepare",
        "    inputs: [orders_raw]",
        "    outputs: [orders]",
        "    steps:",
        "      - {type: ColumnRenamer, params: {renamings: [{from: amt, to: amount}]}}",
        "      - {type: FillEmptyWithValue, params: {columns: [amount], value: '0'}, disabled: true}",
        "  by_country:",
        "    type: grouping",
        "    inputs: [orders]",
        "    outputs: [orders_by_country]",
        "    keys: [country]",
        "    aggregations: [{column: amount, functions: [sum, avg]}]",
        "  with_customers:",
        "    type: join",
        "    inputs: [orders, customers]",
        "    outputs: [orders_customers]",
        "    joins: [{left: orders, right: customers, type: INNER, on: [{left: customer_id, right: id}]}]",
        "    settings: {selectedColumns: []}   # any other payload key, as DSS writes it",
        "```",
        "",
        "### Scenarios and zones",
        "",
        "- Each item of a build or clear step names a dataset or a managed folder of the same project; each "
        "dataset of a compute_metrics, run_checks or refresh_statistics step, a dataset of its project.",
        "- A `run_scenario` step or a `follow_scenario` trigger names a scenario of the same project by its key, "
        "or another project's as `PROJECT.ID`.",
        "- A reporter's credentials (`webhook_url`, `token`, `password`, and keys DSS keeps secret in its "
        "`config`) are `${env:NAME}` references: a literal is refused where it stands. They are write-only: "
        "see [docs/scenarios.md](scenarios.md).",
        "- Each zone item names a dataset, a managed folder or a recipe of the same project, and an object "
        "is in one zone at most. DSS keeps a recipe in the zone of its outputs, so a recipe and what it "
        "writes must not be put in two different zones (checked when planning).",
        "",
        "### Sharing, wiki, metrics",
        "",
        "- Each key of `exposed_objects` names a dataset or a managed folder of the same project; `to` lists "
        "project keys, never the project's own. Keys of projects of the workspace are renamed per environment as "
        "the projects are (`project_key`); others are used as they are.",
        "- Each key of `dataset_metrics` names a dataset of the same project; a check has bounds or `values`, "
        "not both.",
        "- A wiki article's `file` is read like recipe code (relative to the project file, inside the workspace, "
        "UTF-8); its `parent` names another article of the same file, never itself through others; two articles "
        "may not have the same title (`name`, or the key).",
        "- A Git library's `under` is a relative folder of the project library (no `..`).",
        "",
        "### Datasets",
        "",
        "- A managed dataset (`managed: true`) needs a `connection` (checked when planning).",
        "- `connection` (of datasets and managed folders) is a logical name: the environment's "
        "`remap.connections` gives the DSS connection, and a name it does not list is used as it is.",
        "",
    ]


def _schema_howto() -> list[str]:
    return [
        "## Editor support (JSON Schema)",
        "",
        "The same models give a JSON Schema that editors use to complete keys, show these descriptions on "
        "hover and underline mistakes as you type. Write one schema per kind of file:",
        "",
        "```sh",
        "mkdir -p schemas",
        "python -m dataiku_iac.config.reference --schema workspace > schemas/dss-iac.workspace.schema.json",
        "python -m dataiku_iac.config.reference --schema project > schemas/dss-iac.project.schema.json",
        "```",
        "",
        "With the YAML extension of VS Code (Red Hat's `yaml-language-server`, also used by Neovim, Helix, "
        "Zed and others), map them to the files in `.vscode/settings.json`:",
        "",
        "```json",
        "{",
        '  "yaml.schemas": {',
        '    "schemas/dss-iac.workspace.schema.json": "dss-iac.yaml",',
        '    "schemas/dss-iac.project.schema.json": "projects/*.yaml"',
        "  }",
        "}",
        "```",
        "",
        "or name the schema on the first line of a file:",
        "",
        "```yaml",
        "# yaml-language-server: $schema=../schemas/dss-iac.project.schema.json",
        "```",
        "",
        "`dss-iac schema` (like `--schema all`, and `json_schema()` in Python) prints one schema for both "
        "kinds of file: `anyOf` a workspace file or a project file, with every model under `$defs` "
        "(`#/$defs/ProjectFile`...). One mapping then covers the whole workspace:",
        "",
        "```sh",
        "dss-iac schema > dss-iac.schema.json",
        "```",
        "",
        "```json",
        '{"yaml.schemas": {"dss-iac.schema.json": ["dss-iac.yaml", "projects/*.yaml"]}}',
        "```",
        "",
        "The per-file schemas give more precise completion and messages. Either way the schema checks each "
        "file on its own; the [rules](#validation-rules) that span keys and files are checked by "
        "`dss-iac validate`.",
        "",
    ]


def _file_part(title: str, intro: str, minimal: str, model: type[BaseModel]) -> list[str]:
    """A part of the reference for one kind of file: its intro, a minimal example, then each of its models."""
    lines = [f"## {title}", "", f"{intro} A minimal one:", "", "```yaml", *minimal.splitlines(), "```", ""]
    for section in sections(model):
        lines += render_section(section)
    return lines


def render_reference() -> str:
    """The whole Markdown reference of the workspace file and project files."""
    lines = [
        "# Configuration reference",
        "",
        "<!-- Generated from the models of dataiku_iac/config/models.py and of the kinds (dataiku_iac/resources/): "
        "do not edit by hand. Regenerate with",
        f"     {REGENERATE} -->",
        "",
        "A dss-iac workspace is a folder (usually a Git repository) with two kinds of files:",
        "",
        f"- [`{WORKSPACE_FILE}`](#workspace-file-dss-iacyaml) at its root: the environments (DSS instances) "
        "to apply to, where the project files are, and where the state is kept;",
        "- [project files](#project-files) (`projects/*.yaml` by default): one DSS project each, with its "
        "flow: datasets, managed folders, recipes, scenarios and flow zones. They can also be "
        "[written in Python](#python-project-files).",
        "",
        "Unknown keys are errors, so a typo never goes unnoticed. A key that is not required can be left "
        "out; it then takes its default. `examples/simple-project` and `examples/ml-pipeline` are complete, "
        "commented workspaces.",
        "",
        *_schema_howto(),
        f"## Workspace file (`{WORKSPACE_FILE}`)",
        "",
        "A minimal one:",
        "",
        "```yaml",
        *MINIMAL_WORKSPACE.splitlines(),
        "```",
        "",
    ]
    for section in sections(WorkspaceFile):
        lines += render_section(section)
    lines += _file_part("Project files", "Objects are keyed by name, so a name is unique in its file and a diff "
                        "shows which object changed.", MINIMAL_PROJECT, project_file_model())
    lines += _file_part("Instance files", "An environment's `instance:` names its instance file: the connections, "
                        "code envs, groups, users and global variables of that environment's DSS, planned with its "
                        "projects (connections and code envs before the datasets and recipes that use them, deleted "
                        "after them). Secrets (passwords, keys, tokens) are only `${env:NAME}` references: a literal "
                        "one is an error. See docs/instance.md.", MINIMAL_INSTANCE, instance_file_model())
    lines += _python_files()
    lines += _rules()
    return "\n".join(lines).rstrip("\n") + "\n"


# -- JSON Schema -------------------------------------------------------------------------------------------


def _tidy(node: Any) -> None:
    """Drop the per-property titles pydantic derives from key names ("Host"): noise in editors."""
    if isinstance(node, dict):
        props = node.get("properties")
        if isinstance(props, dict):
            for prop in props.values():
                if isinstance(prop, dict):
                    prop.pop("title", None)
        for value in node.values():
            _tidy(value)
    elif isinstance(node, list):
        for value in node:
            _tidy(value)


def _complete(defs: dict[str, Any]) -> None:
    """Add what pydantic leaves out: notes, factory defaults, closed name maps, the validators' rules."""
    extra = _extra_schema()
    for model in all_models():
        schema = defs[model.__name__]
        if intro_of(model):
            schema["description"] = intro_of(model)  # the docstring as one paragraph, as the Markdown has it
        for name, field in model.model_fields.items():
            prop = schema["properties"][key_of(name, field)]
            if "$ref" in prop:
                # A $ref with siblings: keep it valid for older dialects too.
                prop["allOf"] = [{"$ref": prop.pop("$ref")}]
            if "description" not in prop and description_of(model, name):
                prop["description"] = description_of(model, name)
            if field.default_factory is not None:
                prop["default"] = _default(field)
            if "patternProperties" in prop:
                prop["additionalProperties"] = False  # map keys are names: anything else is refused
            prop.update(copy.deepcopy(extra.get((model.__name__, name), {})))


def json_schema(file: SchemaFile = "all") -> dict[str, Any]:
    """A JSON Schema (2020-12) of the workspace file, of a project file, or (`all`) of either."""
    _, top = models_json_schema([(WorkspaceFile, "validation"), (project_file_model(), "validation"),
                                 (instance_file_model(), "validation")], ref_template="#/$defs/{model}")
    defs: dict[str, Any] = top["$defs"]
    _complete(defs)
    _tidy(defs)
    schema: dict[str, Any] = {"$schema": JSON_SCHEMA_DIALECT}
    if file == "workspace":
        schema |= {"title": f"dss-iac workspace file ({WORKSPACE_FILE})", "$ref": "#/$defs/WorkspaceFile"}
    elif file == "project":
        schema |= {"title": "dss-iac project file", "$ref": "#/$defs/ProjectFile"}
    elif file == "instance":
        schema |= {"title": "dss-iac instance file", "$ref": "#/$defs/InstanceFile"}
    else:
        schema |= {"title": "dss-iac configuration file",
                   "description": f"{WORKSPACE_FILE} (a workspace file), a project file or an instance file",
                   "anyOf": [{"$ref": "#/$defs/WorkspaceFile"}, {"$ref": "#/$defs/ProjectFile"},
                             {"$ref": "#/$defs/InstanceFile"}]}
    schema["$defs"] = defs
    return schema


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dataiku_iac.config.reference",
                                     description="Print the configuration reference (Markdown) or a JSON Schema.")
    parser.add_argument("--schema", choices=["all", "workspace", "project", "instance"],
                        help="print the JSON Schema of the given file kind instead of the Markdown reference")
    args = parser.parse_args(argv)
    if args.schema:
        sys.stdout.write(json.dumps(json_schema(args.schema), indent=2) + "\n")
    else:
        sys.stdout.write(render_reference())
    return 0


if __name__ == "__main__":
    sys.exit(main())
