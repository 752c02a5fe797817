"""The configuration reference: the committed docs match the models, and the JSON Schema agrees with them.

`jsonschema` is not a dependency, so the schema is checked by a small validator below that knows every
keyword the schema uses (a test fails if the schema starts using one it does not know).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML

from dataiku_iac.config import reference
from dataiku_iac.config.loader import load_workspace
from dataiku_iac.config.models import WorkspaceFile
from dataiku_iac.config.project_model import project_file_model
from dataiku_iac.config.reference import (
    FIELD_NOTES,
    MINIMAL_PROJECT,
    MINIMAL_WORKSPACE,
    MODEL_NOTES,
    all_models,
    json_schema,
    key_of,
    render_reference,
)

# The project file model with the collections the kinds add (recipes: the recipe kind's own model).
ProjectFile = project_file_model()
ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "config-reference.md"
EXAMPLES = ROOT / "examples"
EXAMPLE_WORKSPACES = ["simple-project", "ml-pipeline"]


def _yaml(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(text)


# -- the Markdown reference ---------------------------------------------------------------------------------


def test_committed_reference_matches_the_models() -> None:
    assert DOCS.read_text(encoding="utf-8") == render_reference(), (
        "docs/config-reference.md is out of date with the models (config/models.py, the kinds' modules); "
        "regenerate it with\n"
        f"    {reference.REGENERATE}")


def test_module_prints_the_reference_and_the_schemas() -> None:
    out = subprocess.run([sys.executable, "-m", "dataiku_iac.config.reference"], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    assert out == render_reference()
    for kind in ("all", "workspace", "project"):
        out = subprocess.run([sys.executable, "-m", "dataiku_iac.config.reference", "--schema", kind],
                             capture_output=True, text=True, check=True, cwd=ROOT).stdout
        assert json.loads(out) == json_schema(kind)


def _sections(text: str) -> dict[str, str]:
    """`### Name` heading -> the text under it, up to the next heading."""
    parts = re.split(r"^### (\S+)\n", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _rows(section: str) -> dict[str, list[str]]:
    """Table rows of a section: key -> [type, required, default, description]."""
    rows = {}
    for line in section.splitlines():
        m = re.match(r"^\| `([^`]+)` \| (.*) \|$", line)
        if m:
            rows[m.group(1)] = re.split(r"(?<!\\) \| ", m.group(2))
    return rows


def test_every_key_of_every_model_is_documented_in_its_section() -> None:
    sections = _sections(render_reference())
    for model in all_models():
        assert model.__name__ in sections, f"no section for {model.__name__}"
        rows = _rows(sections[model.__name__])
        keys = [key_of(name, field) for name, field in model.model_fields.items()]
        assert list(rows) == keys, model.__name__
        for name, field in model.model_fields.items():
            _type, required, default, description = rows[key_of(name, field)]
            assert description.strip(), f"{model.__name__}.{name} has no description"
            assert required == ("yes" if field.is_required() else "no"), f"{model.__name__}.{name}"
            if field.is_required():
                assert default == "-"


def test_every_field_name_appears_in_the_docs() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for model in all_models():
        for name, field in model.model_fields.items():
            assert f"`{key_of(name, field)}`" in text, f"{model.__name__}.{name}"


def test_allowed_values_defaults_and_bounds_are_shown() -> None:
    sections = _sections(render_reference())
    trigger = _rows(sections["TemporalTrigger"])
    assert trigger["frequency"][0] == "one of `Minutely`, `Hourly`, `Daily`, `Weekly`, `Monthly`"
    assert trigger["hour"][0] == "integer (from 0 to 23)" and trigger["hour"][2] == "`0`"
    assert trigger["repeat"][0] == "integer (from 1 to 2147483647)"
    assert "`Sunday`" in trigger["days"][0]
    env = _rows(sections["Environment"])
    assert env["protected"][0] == "boolean" and env["protected"][2] == "`false`"
    assert _rows(sections["Recipe"])["outputs"][0] == "list of string (at least 1 item)"
    assert _rows(sections["Zone"])["color"][0] == "string (matching `^#[0-9a-fA-F]{6}$`)"
    assert _rows(sections["WorkspaceFile"])["projects"][2] == '`["projects/*.yaml"]`'
    assert "[Dataset](#dataset)" in _rows(sections["ProjectFile"])["datasets"][0]
    # Every Literal's values are listed, whatever the model.
    for model in all_models():
        for name, field in model.model_fields.items():
            tp = field.annotation
            while typing.get_origin(tp) is list:
                tp = typing.get_args(tp)[0]
            if typing.get_origin(tp) is Literal:
                row = _rows(sections[model.__name__])[key_of(name, field)]
                for value in typing.get_args(tp):
                    assert f"`{value}`" in row[0], f"{model.__name__}.{name}: {value}"


def test_section_paths_show_where_each_model_is_written() -> None:
    text = render_reference()
    for where in ("`environments.<name>.remap`", "`datasets.<name>.schema[]`", "`scenarios.<name>.triggers[]`",
                  "`project.permissions[]`"):
        assert f"Where: {where}." in text


def test_hand_written_notes_fill_only_the_gaps_of_the_models() -> None:
    models = {m.__name__: m for m in all_models()}
    for (model_name, field_name), note in FIELD_NOTES.items():
        field = models[model_name].model_fields[field_name]
        assert not field.description, (f"{model_name}.{field_name} now has a description in its model: "
                                       "remove it from FIELD_NOTES")
        assert note
    for model_name in MODEL_NOTES:
        assert not models[model_name].__dict__.get("__doc__"), f"{model_name} now has a docstring: remove its note"
    for model in models.values():
        assert reference.intro_of(model), f"{model.__name__} has neither a docstring nor a note"


def test_validation_rules_are_described() -> None:
    rules = render_reference().split("## Validation rules", 1)[1]
    for phrase in ("PROJECT.name", "output of one recipe at most", "must not form a cycle", "one zone at most",
                   "`shell`", "a dataset or a managed folder, not both", "must stay inside it",
                   "the same key in two files is an error"):
        assert phrase in rules


def test_minimal_files_of_the_reference_load(tmp_path: Path) -> None:
    (tmp_path / "projects").mkdir()
    (tmp_path / "dss-iac.yaml").write_text(MINIMAL_WORKSPACE)
    (tmp_path / "projects" / "churn.yaml").write_text(MINIMAL_PROJECT)
    config = load_workspace(tmp_path)
    assert list(config.projects) == ["CHURN"]
    assert list(config.projects["CHURN"].spec.datasets) == ["customers"]


# -- a small JSON Schema validator, enough for the keywords this schema uses ---------------------------------

# `discriminator` (OpenAPI's, on a tagged union such as a scenario's triggers) is a hint: oneOf decides.
ANNOTATIONS = {"title", "description", "default", "$schema", "$defs", "discriminator"}
ASSERTIONS = {"$ref", "type", "enum", "const", "properties", "required", "additionalProperties",
              "patternProperties", "propertyNames", "minProperties", "items", "minItems", "pattern", "minimum",
              "maximum", "maxLength", "minLength", "anyOf", "allOf", "oneOf"}
TYPES: dict[str, Any] = {
    "object": lambda v: isinstance(v, dict), "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str), "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool), "null": lambda v: v is None,
}


def _keywords(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            found.add(key)
            if key in ("properties", "patternProperties", "$defs"):
                for sub in value.values():
                    found |= _keywords(sub)
            elif key not in ("default", "const", "enum", "required", "discriminator"):
                found |= _keywords(value)
    elif isinstance(node, list):
        for value in node:
            found |= _keywords(value)
    return found


def schema_errors(value: Any, schema: dict[str, Any], root: dict[str, Any], at: str = "$") -> list[str]:
    errors: list[str] = []
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        errors += schema_errors(value, root["$defs"][name], root, at)
    if "type" in schema and not TYPES[schema["type"]](value):
        return [*errors, f"{at}: expected {schema['type']}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{at}: {value!r} not in {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        errors.append(f"{at}: {value!r} is not {schema['const']!r}")
    if "pattern" in schema and isinstance(value, str) and not re.search(schema["pattern"], value):
        errors.append(f"{at}: {value!r} does not match {schema['pattern']}")
    if "maxLength" in schema and isinstance(value, str) and len(value) > schema["maxLength"]:
        errors.append(f"{at}: longer than {schema['maxLength']} characters")
    if "minLength" in schema and isinstance(value, str) and len(value) < schema["minLength"]:
        errors.append(f"{at}: shorter than {schema['minLength']} characters")
    if "minimum" in schema and isinstance(value, int | float) and value < schema["minimum"]:
        errors.append(f"{at}: {value} < {schema['minimum']}")
    if "maximum" in schema and isinstance(value, int | float) and value > schema["maximum"]:
        errors.append(f"{at}: {value} > {schema['maximum']}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            errors.append(f"{at}: fewer than {schema['minItems']} items")
        if "items" in schema:
            for i, item in enumerate(value):
                errors += schema_errors(item, schema["items"], root, f"{at}[{i}]")
    if isinstance(value, dict):
        errors += _object_errors(value, schema, root, at)
    for sub in schema.get("allOf", []):
        errors += schema_errors(value, sub, root, at)
    if "anyOf" in schema and all(schema_errors(value, sub, root, at) for sub in schema["anyOf"]):
        errors.append(f"{at}: matches none of anyOf")
    if "oneOf" in schema and sum(not schema_errors(value, sub, root, at) for sub in schema["oneOf"]) != 1:
        errors.append(f"{at}: does not match exactly one of oneOf")
    return errors


def _object_errors(value: dict[str, Any], schema: dict[str, Any], root: dict[str, Any], at: str) -> list[str]:
    errors = [f"{at}: missing {key}" for key in schema.get("required", []) if key not in value]
    if len(value) < schema.get("minProperties", 0):
        errors.append(f"{at}: fewer than {schema['minProperties']} keys")
    props, patterns = schema.get("properties", {}), schema.get("patternProperties", {})
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        where = f"{at}.{key}"
        if "propertyNames" in schema:
            errors += schema_errors(key, schema["propertyNames"], root, f"{where} (name)")
        matched = [sub for pattern, sub in patterns.items() if re.search(pattern, key)]
        if key in props:
            errors += schema_errors(item, props[key], root, where)
        for sub in matched:
            errors += schema_errors(item, sub, root, where)
        if key not in props and not matched:
            if extra is False:
                errors.append(f"{where}: unknown key")
            elif isinstance(extra, dict):
                errors += schema_errors(item, extra, root, where)
    return errors


@pytest.mark.parametrize("kind", ["all", "workspace", "project", "instance"])
def test_the_validator_knows_every_keyword_of_the_schema(
        kind: Literal["all", "workspace", "project", "instance"]) -> None:
    assert _keywords(json_schema(kind)) <= ANNOTATIONS | ASSERTIONS


# -- the JSON Schema ------------------------------------------------------------------------------------------


def _literal_values(tp: Any) -> list[Any] | None:
    while typing.get_origin(tp) is list:
        tp = typing.get_args(tp)[0]
    return list(typing.get_args(tp)) if typing.get_origin(tp) is Literal else None


def _enum_of(prop: dict[str, Any]) -> list[Any] | None:
    if "items" in prop:
        return _enum_of(prop["items"])
    if "const" in prop:
        return [prop["const"]]
    return prop.get("enum")


def test_schema_has_every_model_closed_with_its_keys_required_keys_and_values() -> None:
    schema = json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["anyOf"] == [{"$ref": "#/$defs/WorkspaceFile"}, {"$ref": "#/$defs/ProjectFile"},
                               {"$ref": "#/$defs/InstanceFile"}]
    defs = schema["$defs"]
    for model in all_models():
        d = defs[model.__name__]
        assert d["type"] == "object" and d["additionalProperties"] is False, model.__name__
        assert d["description"]
        keys = {key_of(n, f): (n, f) for n, f in model.model_fields.items()}
        assert set(d["properties"]) == set(keys), model.__name__
        assert set(d.get("required", [])) == {k for k, (_, f) in keys.items() if f.is_required()}, model.__name__
        for key, (name, field) in keys.items():
            prop = d["properties"][key]
            assert prop.get("description"), f"{model.__name__}.{name}"
            values = _literal_values(field.annotation)
            if values is not None:
                assert _enum_of(prop) == values, f"{model.__name__}.{name}"
    for name in ("datasets", "managed_folders", "recipes", "scenarios", "zones"):
        assert defs["ProjectFile"]["properties"][name]["additionalProperties"] is False


@pytest.mark.parametrize("kind", ["workspace", "project", "instance"])
def test_per_file_schemas_point_at_their_model(kind: Literal["workspace", "project", "instance"]) -> None:
    schema = json_schema(kind)
    assert schema["$ref"] == {"workspace": "#/$defs/WorkspaceFile", "project": "#/$defs/ProjectFile",
                              "instance": "#/$defs/InstanceFile"}[kind]
    assert schema["$defs"] == json_schema()["$defs"]


def _example_files() -> list[tuple[str, Path]]:
    out = []
    for name in EXAMPLE_WORKSPACES:
        root = EXAMPLES / name
        out.append(("workspace", root / "dss-iac.yaml"))
        out += [("project", p) for p in sorted((root / "projects").glob("*.yaml"))]
    for root in (EXAMPLES / "multi-env", EXAMPLES / "platform"):
        out += [("instance", p) for p in sorted((root / "instance").glob("*.yaml"))]
    return out


@pytest.mark.parametrize(("kind", "path"), _example_files(), ids=lambda v: str(v).rsplit("examples/", 1)[-1])
def test_schema_accepts_the_example_files(kind: Literal["workspace", "project", "instance"], path: Path) -> None:
    document = _yaml(path.read_text(encoding="utf-8"))
    for schema in (json_schema(kind), json_schema()):
        assert schema_errors(document, schema, schema) == []


WORKSPACE_OK = {"version": 1, "environments": {"dev": {"host": "embedded"}}}
PROJECT_OK = {"project": {"key": "CHURN", "name": "Churn"},
              "datasets": {"raw": {"type": "Filesystem", "connection": "storage", "params": {"path": "/x"}}},
              "recipes": {"copy": {"type": "sync", "inputs": ["raw"], "outputs": ["raw_copy"]}},
              "scenarios": {"nightly": {"triggers": [{"type": "temporal", "frequency": "Daily", "hour": 2}],
                                        "steps": [{"type": "build", "items": ["raw"]}]}},
              "zones": {"ingest": {"color": "#aabbcc", "items": ["raw"]}}}


def _with(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of `base` with the value at a dotted path set (or deleted when value is ...)."""
    doc = json.loads(json.dumps(base))
    *parents, last = path.split(".")
    node = doc
    for step in parents:
        node = node[int(step)] if isinstance(node, list) else node[step]
    if value is ...:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return doc


ProjectFile = project_file_model()  # with the collections the kinds add (scenarios)
CASES: list[tuple[str, type[BaseModel], dict[str, Any], bool]] = [
    ("workspace ok", WorkspaceFile, WORKSPACE_OK, True),
    ("host from the environment", WorkspaceFile, _with(WORKSPACE_OK, "environments.dev.host", "${env:DSS_HOST}"),
     True),
    ("https host", WorkspaceFile, _with(WORKSPACE_OK, "environments.dev.host", "https://dss.example.com:11200"),
     True),
    ("host without scheme", WorkspaceFile, _with(WORKSPACE_OK, "environments.dev.host", "dss.example.com"), False),
    ("no environment", WorkspaceFile, _with(WORKSPACE_OK, "environments", {}), False),
    ("uppercase environment name", WorkspaceFile, _with(WORKSPACE_OK, "environments", {"Dev": {"host": "embedded"}}),
     False),
    ("version 2", WorkspaceFile, _with(WORKSPACE_OK, "version", 2), False),
    ("protected not a boolean", WorkspaceFile, _with(WORKSPACE_OK, "environments.dev.protected", "maybe"), False),
    ("unknown state backend", WorkspaceFile, _with(WORKSPACE_OK, "state", {"backend": "ftp"}), False),
    ("typo in an environment key", WorkspaceFile, _with(WORKSPACE_OK, "environments.dev.hots", "x"), False),
    ("project ok", ProjectFile, PROJECT_OK, True),
    ("lowercase project key", ProjectFile, _with(PROJECT_OK, "project.key", "churn"), False),
    ("project without name", ProjectFile, _with(PROJECT_OK, "project.name", ...), False),
    ("typo in a dataset key", ProjectFile, _with(PROJECT_OK, "datasets.raw.tpye", "S3"), False),
    ("dataset name with a dash", ProjectFile, _with(PROJECT_OK, "datasets", {"raw-data": {"type": "S3"}}), False),
    ("unknown recipe type", ProjectFile, _with(PROJECT_OK, "recipes.copy.type", "spark"), False),
    ("recipe without outputs", ProjectFile, _with(PROJECT_OK, "recipes.copy.outputs", []), False),
    ("lowercase frequency", ProjectFile, _with(PROJECT_OK, "scenarios.nightly.triggers.0.frequency", "daily"), False),
    ("hour 24", ProjectFile, _with(PROJECT_OK, "scenarios.nightly.triggers.0.hour", 24), False),
    ("weekly on a day", ProjectFile, _with(PROJECT_OK, "scenarios.nightly.triggers.0.days", ["Monday"]), True),
    ("misspelled day", ProjectFile, _with(PROJECT_OK, "scenarios.nightly.triggers.0.days", ["monday"]), False),
    ("dataset trigger", ProjectFile,
     _with(PROJECT_OK, "scenarios.nightly.triggers.0", {"type": "dataset", "datasets": ["raw"]}), True),
    ("dataset trigger watching nothing", ProjectFile,
     _with(PROJECT_OK, "scenarios.nightly.triggers.0", {"type": "dataset", "datasets": []}), False),
    ("dataset trigger with a frequency", ProjectFile,
     _with(PROJECT_OK, "scenarios.nightly.triggers.0", {"type": "dataset", "datasets": ["raw"],
                                                        "frequency": "Daily"}), False),
    ("sql trigger without its query", ProjectFile, _with(PROJECT_OK, "scenarios.nightly.triggers.0.type", "sql"),
     False),
    ("unknown build mode", ProjectFile, _with(PROJECT_OK, "scenarios.nightly.steps.0.mode", "FAST"), False),
    ("slack webhook from the environment", ProjectFile,
     _with(PROJECT_OK, "scenarios.nightly.reporters", [{"type": "slack", "webhook_url": "${env:HOOK}"}]), True),
    ("literal slack webhook", ProjectFile,
     _with(PROJECT_OK, "scenarios.nightly.reporters", [{"type": "slack", "webhook_url": "https://h.example/x"}]),
     False),
    ("literal webhook reporter URL", ProjectFile,
     _with(PROJECT_OK, "scenarios.nightly.reporters", [{"type": "webhook", "webhook_url": "https://h.example/"}]),
     False),
    ("sql step", ProjectFile,
     _with(PROJECT_OK, "scenarios.nightly.steps.0", {"type": "sql", "connection": "c", "sql": "SELECT 1"}), True),
    ("an open step type", ProjectFile,
     _with(PROJECT_OK, "scenarios.nightly.steps.0", {"type": "send_report", "params": {"x": 1}}), True),
    ("color name", ProjectFile, _with(PROJECT_OK, "zones.ingest.color", "red"), False),
    ("unknown permission flag", ProjectFile,
     _with(PROJECT_OK, "project.permissions", [{"group": "g", "read_content": True}]), False),
    ("column without type", ProjectFile, _with(PROJECT_OK, "datasets.raw.schema", [{"name": "id"}]), False),
]


@pytest.mark.parametrize(("model", "document", "valid"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_schema_and_models_agree(model: type[BaseModel], document: dict[str, Any], valid: bool) -> None:
    try:
        model.model_validate(document)
        model_ok = True
    except ValidationError:
        model_ok = False
    kind: Literal["workspace", "project"] = "workspace" if model is WorkspaceFile else "project"
    for schema in (json_schema(kind), json_schema()):
        assert (schema_errors(document, schema, schema) == []) is valid
    assert model_ok is valid


def test_combined_schema_refuses_a_mix_of_both_files() -> None:
    schema = json_schema()
    mixed = {**WORKSPACE_OK, "project": PROJECT_OK["project"]}
    assert schema_errors(mixed, schema, schema) == ["$: matches none of anyOf"]
