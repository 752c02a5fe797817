"""Python project files: the same models as YAML, one-line positioned errors, digest, mixing, the example."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from dataiku_iac import Workspace
from dataiku_iac.cli.main import main
from dataiku_iac.config.loader import WorkspaceConfig, load_workspace
from dataiku_iac.config.reference import MINIMAL_PROJECT, MINIMAL_WORKSPACE, PYTHON_PROJECT
from dataiku_iac.dsl import Column, columns
from dataiku_iac.errors import ConfigError, ConfigErrors, StalePlanError
from dataiku_iac.resources import EnvContext, build_desired
from tests.engine import conftest as engine
from tests.engine.conftest import apply_ok, write_workspace

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "python-dsl"

# The engine tests' fixture: workspaces on disk, loaded against the embedded DSS.
make_workspace = engine.make_workspace

WS_PY = """\
version: 1
projects: [projects/*.yaml, projects/*.py]
environments:
  dev:
    host: embedded
"""

CODE = {"recipes/clean_it.py": "import dataiku\nprint('clean')\n"}

CHURN_YAML = """\
project:
  key: CHURN
  name: Churn
  tags: [ml]
  custom: {owner: team}
  variables: {standard: {threshold: "0.5", days: 90}, local: {}}
  permissions:
    - {group: data_team, read_project_content: true, write_project_content: true}
datasets:
  raw:
    type: Filesystem
    connection: filesystem_managed
    params: {path: /churn/raw}
    format: csv
    format_params: {separator: ",", parseHeaderRow: true}
    schema: [{name: id, type: bigint, comment: key}, {name: email, type: string}]
    tags: [raw]
  clean: {type: Filesystem, managed: true, connection: filesystem_managed, format: parquet}
  export: {type: Filesystem, managed: true, connection: filesystem_managed, format: csv}
managed_folders:
  reports: {connection: filesystem_folders, description: HTML reports}
recipes:
  clean_it:
    type: python
    inputs: [raw]
    outputs: [clean, reports]
    code: ../recipes/clean_it.py
  export_it: {type: sync, inputs: [clean], outputs: [export]}
scenarios:
  nightly:
    name: Nightly
    triggers: [{type: temporal, frequency: Daily, hour: 2, minute: 30}]
    steps: [{type: build, items: [export]}]
zones:
  ingest: {color: "#aabbcc", items: [raw]}
"""

# CHURN_YAML with the models of the DSL.
CHURN_MODELS = """\
from dataiku_iac.dsl import (BuildStep, Column, Dataset, ManagedFolder, Permission, Project, ProjectFile, Recipe,
                             Scenario, TemporalTrigger, Variables, Zone)

FS = "filesystem_managed"

project = ProjectFile(
    project=Project(key="CHURN", name="Churn", tags=["ml"], custom={"owner": "team"},
                    variables=Variables(standard={"threshold": "0.5", "days": 90}, local={}),
                    permissions=[Permission(group="data_team", read_project_content=True,
                                            write_project_content=True)]),
    datasets={
        "raw": Dataset(type="Filesystem", connection=FS, params={"path": "/churn/raw"}, format="csv",
                       format_params={"separator": ",", "parseHeaderRow": True},
                       schema=[Column(name="id", type="bigint", comment="key"), Column(name="email", type="string")],
                       tags=("raw",)),
        "clean": Dataset(type="Filesystem", managed=True, connection=FS, format="parquet"),
        "export": Dataset(type="Filesystem", managed=True, connection=FS, format="csv"),
    },
    managed_folders={"reports": ManagedFolder(connection="filesystem_folders", description="HTML reports")},
    recipes={
        "clean_it": Recipe(type="python", inputs=["raw"], outputs=["clean", "reports"], code="../recipes/clean_it.py"),
        "export_it": Recipe(type="sync", inputs=["clean"], outputs=["export"]),
    },
    scenarios={"nightly": Scenario(name="Nightly",
                                   triggers=[TemporalTrigger(type="temporal", frequency="Daily", hour=2, minute=30)],
                                   steps=[BuildStep(type="build", items=["export"])])},
    zones={"ingest": Zone(color="#aabbcc", items=["raw"])},
)
"""

# CHURN_YAML as a plain dict, the other accepted shape of `project`.
CHURN_DICT = """\
FS = "filesystem_managed"
project = {
    "project": {"key": "CHURN", "name": "Churn", "tags": ["ml"], "custom": {"owner": "team"},
                "variables": {"standard": {"threshold": "0.5", "days": 90}, "local": {}},
                "permissions": [{"group": "data_team", "read_project_content": True, "write_project_content": True}]},
    "datasets": {
        "raw": {"type": "Filesystem", "connection": FS, "params": {"path": "/churn/raw"}, "format": "csv",
                "format_params": {"separator": ",", "parseHeaderRow": True},
                "schema": [{"name": "id", "type": "bigint", "comment": "key"}, {"name": "email", "type": "string"}],
                "tags": ["raw"]},
        "clean": {"type": "Filesystem", "managed": True, "connection": FS, "format": "parquet"},
        "export": {"type": "Filesystem", "managed": True, "connection": FS, "format": "csv"},
    },
    "managed_folders": {"reports": {"connection": "filesystem_folders", "description": "HTML reports"}},
    "recipes": {
        "clean_it": {"type": "python", "inputs": ["raw"], "outputs": ["clean", "reports"],
                     "code": "../recipes/clean_it.py"},
        "export_it": {"type": "sync", "inputs": ["clean"], "outputs": ["export"]},
    },
    "scenarios": {"nightly": {"name": "Nightly",
                              "triggers": [{"type": "temporal", "frequency": "Daily", "hour": 2, "minute": 30}],
                              "steps": [{"type": "build", "items": ["export"]}]}},
    "zones": {"ingest": {"color": "#aabbcc", "items": ["raw"]}},
}
"""


def _write(root: Path, files: dict[str, str], workspace_yaml: str = WS_PY) -> Path:
    return write_workspace(root, {}, workspace_yaml, files)


def _load_error(root: Path, files: dict[str, str]) -> ConfigError:
    _write(root, files)
    with pytest.raises(ConfigError) as caught:
        load_workspace(root)
    assert "Traceback" not in str(caught.value)
    return caught.value


def _lines(error: ConfigError) -> list[str]:
    return str(error).splitlines()


def _desired(config: WorkspaceConfig) -> dict[str, tuple[object, ...]]:
    return {str(a): (d.fields, d.depends_on, d.notes, d.removed)
            for a, d in build_desired(config, EnvContext("dev")).items()}


# -- the same models as YAML ------------------------------------------------------------------------------------


@pytest.mark.parametrize("python", [CHURN_MODELS, CHURN_DICT], ids=["models", "dict"])
def test_python_project_gives_the_same_desired_state_as_yaml(tmp_path: Path, python: str) -> None:
    yaml_config = load_workspace(_write(tmp_path / "yaml", {"projects/churn.yaml": CHURN_YAML, **CODE}))
    py_config = load_workspace(_write(tmp_path / "py", {"projects/churn.py": python, **CODE}))
    y, p = yaml_config.projects["CHURN"], py_config.projects["CHURN"]
    assert p.file.shown == "projects/churn.py"
    assert p.spec == y.spec
    # Keys left out stay left out (variables and permissions are only managed when declared).
    assert p.spec.model_dump(exclude_unset=True) == y.spec.model_dump(exclude_unset=True)
    assert p.spec.datasets["raw"].tags == ["raw"]  # a tuple in Python, a list like YAML's once loaded
    assert p.code == y.code == {"clean_it": CODE["recipes/clean_it.py"]}
    yd, pd = _desired(yaml_config), _desired(py_config)
    assert list(pd) == list(yd) and len(yd) > 10
    for address, fields in yd.items():
        assert pd[address] == fields, address


def test_python_file_replacing_the_yaml_one_plans_nothing_after_apply(
        make_workspace: Callable[..., Workspace], tmp_path: Path) -> None:
    ws = make_workspace({"churn": CHURN_YAML}, WS_PY, CODE)
    apply_ok(ws)
    (tmp_path / "projects" / "churn.yaml").unlink()
    ws = make_workspace(files={"projects/churn.py": CHURN_MODELS}, workspace_yaml=WS_PY)
    assert ws.config.projects["CHURN"].file.shown == "projects/churn.py"
    assert [str(a.address) for a in ws.plan("dev").changes if a.symbol != " "] == []


def test_python_project_applies_and_then_plans_nothing(make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace(files={"projects/churn.py": CHURN_MODELS, **CODE}, workspace_yaml=WS_PY)
    apply_ok(ws)
    ws = make_workspace()
    assert [str(a.address) for a in ws.plan("dev").changes if a.symbol != " "] == []


def test_a_loop_generates_datasets_and_recipes(tmp_path: Path) -> None:
    loop = """\
    from dataiku_iac.dsl import Dataset, Project, ProjectFile, Recipe, columns

    TABLES = [f"t{i:02d}" for i in range(20)]
    project = ProjectFile(
        project=Project(key="WIDE", name="Twenty tables"),
        datasets={
            **{f"{t}_raw": Dataset(type="Filesystem", connection="filesystem_managed", params={"path": f"/{t}"},
                                   schema=columns(id="bigint", value="double")) for t in TABLES},
            **{t: Dataset(type="Filesystem", managed=True, connection="filesystem_managed") for t in TABLES},
        },
        recipes={f"copy_{t}": Recipe(type="sync", inputs=[f"{t}_raw"], outputs=[t]) for t in TABLES},
    )
    """
    config = load_workspace(_write(tmp_path, {"projects/wide.py": loop}))
    spec = config.projects["WIDE"].spec
    assert len(spec.datasets) == 40 and len(spec.recipes) == 20
    assert spec.datasets["t07_raw"].params == {"path": "/t07"}
    assert [c.name for c in spec.datasets["t19_raw"].schema_] == ["id", "value"]
    desired = build_desired(config, EnvContext("dev"))
    assert sum(1 for a in desired if str(a).startswith("recipe.WIDE.")) == 20


def test_yaml_and_python_projects_mix_in_one_workspace(make_workspace: Callable[..., Workspace]) -> None:
    # The Python project reads a dataset of the YAML one: references cross the two kinds of files.
    scoring = """\
    from dataiku_iac.dsl import Dataset, Project, ProjectFile, Recipe

    project = ProjectFile(
        project=Project(key="SCORING", name="Scoring"),
        datasets={"scores": Dataset(type="Filesystem", managed=True, connection="filesystem_managed")},
        recipes={"score": Recipe(type="python", inputs=["CHURN.export"], outputs=["scores"],
                                 code="../recipes/score.py")},
    )
    """
    churn = CHURN_YAML + "exposed_objects:\n  export: {to: [SCORING]}\n"  # SCORING may read it
    ws = make_workspace({"churn": churn}, WS_PY,
                        {**CODE, "projects/scoring.py": scoring, "recipes/score.py": "print('score')\n"})
    assert {k: p.file.shown for k, p in ws.config.projects.items()} == {
        "CHURN": "projects/churn.yaml", "SCORING": "projects/scoring.py"}
    assert ws.config.projects["SCORING"].code == {"score": "print('score')\n"}
    apply_ok(ws)
    assert [str(a.address) for a in ws.plan("dev").changes if a.symbol != " "] == []


def test_only_globs_ending_in_py_run_python_files(tmp_path: Path) -> None:
    broad = WS_PY.replace("[projects/*.yaml, projects/*.py]", "[projects/*]")
    _write(tmp_path, {"projects/churn.yaml": CHURN_YAML, "projects/helper.py": "raise SystemExit('ran')\n", **CODE},
           broad)
    assert list(load_workspace(tmp_path).projects) == ["CHURN"]


def test_each_file_runs_in_a_fresh_namespace_not_as_main(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = ("import sys\nSHARED = 1\nprint('printed by a project')\n"
             "project = {'project': {'key': 'A', 'name': __name__}}\n"
             "if __name__ == '__main__':\n    raise SystemExit('never run by dss-iac')\n")
    second = textwrap.dedent("""\
        from __future__ import annotations

        import dataclasses

        @dataclasses.dataclass
        class Table:  # dataclasses look the running module up by name
            name: str

        project = {'project': {'key': 'B', 'name': str(globals().get('SHARED'))}}
        """)
    config = load_workspace(_write(tmp_path, {"projects/a.py": first, "projects/b.py": second}))
    assert config.projects["A"].spec.project.name != "__main__"
    assert config.projects["B"].spec.project.name == "None"
    out = capsys.readouterr()
    assert out.out == "" and "printed by a project" in out.err  # stdout stays clean for --json output


def test_columns_keeps_the_order_and_takes_names_that_are_not_identifiers() -> None:
    assert columns({"order date": "date"}, id="bigint") == [Column(name="order date", type="date"),
                                                            Column(name="id", type="bigint")]


def test_the_python_example_of_the_reference_builds_the_minimal_project_and_three_more(tmp_path: Path) -> None:
    _write(tmp_path, {"projects/minimal.yaml": MINIMAL_PROJECT}, MINIMAL_WORKSPACE)
    yaml_spec = load_workspace(tmp_path).projects["CHURN"].spec
    (tmp_path / "projects" / "minimal.yaml").unlink()
    _write(tmp_path, {"projects/churn.py": PYTHON_PROJECT}, MINIMAL_WORKSPACE + "projects: [projects/*.py]\n")
    spec = load_workspace(tmp_path).projects["CHURN"].spec
    assert spec.project == yaml_spec.project
    assert spec.datasets["customers"] == yaml_spec.datasets["customers"]
    assert sorted(spec.datasets) == ["customers", "events_amer", "events_apac", "events_emea"]


# -- errors: one line each, at a position in the .py file, never a traceback ------------------------------------


@pytest.mark.parametrize(("source", "expected"), [
    ("x = 1\ny = {}['missing']\n", "projects/bad.py:2:5: KeyError: 'missing'"),
    ("def helper(n):\n    return 10 // n\n\nproject = helper(0)\n",
     "projects/bad.py:2:12: ZeroDivisionError: integer division or modulo by zero"),
    ("from dataiku_iac.dsl import columns\n\nschema = columns(['id'])\n",
     "projects/bad.py:3:10: TypeError: 'list' object is not a mapping"),
    ("import sys\nsys.exit('stop here')\n", "projects/bad.py:2:1: SystemExit: stop here"),
    ("raise RuntimeError('first line\\nsecond line')\n", "projects/bad.py:1:1: RuntimeError: first line"),
    ("project = (1,\n", "projects/bad.py:1:11: SyntaxError: '(' was never closed"),
    # The loader's own `from __future__ import annotations` does not leak: annotations run as in Python.
    ("value: Undefined = 1\n", "projects/bad.py:1:8: NameError: name 'Undefined' is not defined"),
    ("if True:\nproject = 1\n", "projects/bad.py:2:1: IndentationError: expected an indented block after 'if' "
                                "statement on line 1"),
])
def test_an_exception_in_the_file_is_one_line_at_its_frame(tmp_path: Path, source: str, expected: str) -> None:
    error = _load_error(tmp_path, {"projects/bad.py": source})
    assert _lines(error) == [expected]


def test_a_model_built_with_a_bad_value_is_reported_at_the_call(tmp_path: Path) -> None:
    source = textwrap.dedent("""\
        from dataiku_iac.dsl import Dataset, Project, ProjectFile

        datasets = {
            "ok": Dataset(type="S3"),
            "bad": Dataset(type=1, tpye="S3"),
        }
        """)
    error = _load_error(tmp_path, {"projects/bad.py": source})
    assert isinstance(error, ConfigErrors)
    assert _lines(error) == [
        "projects/bad.py:5:12: ValidationError: Dataset.type: invalid value 1 for 'type': input should be a valid "
        "string",
        "projects/bad.py:5:12: ValidationError: Dataset.tpye: unknown key 'tpye' (expected one of: type, connection, "
        "managed, params, format, format_params, schema, tags, description, tests, waivers)",
    ]


def test_a_missing_project_variable_is_a_clear_error(tmp_path: Path) -> None:
    error = _load_error(tmp_path, {"projects/bad.py": "from dataiku_iac.dsl import Project\nPROJECT = 1\n"})
    assert _lines(error) == ["projects/bad.py: no variable 'project': a Python project file must set "
                             "`project = ProjectFile(...)` (from dataiku_iac.dsl) or a dict of the same shape"]


@pytest.mark.parametrize(("source", "expected"), [
    ("from dataiku_iac.dsl import Project\n\nproject = Project(key='A', name='A')\n",
     "projects/bad.py:3:1: 'project' must be a ProjectFile or a dict of the same shape, not Project (wrap it: "
     "`project = ProjectFile(project=...)`)"),
    ("project: list[int] = [1]\n", "projects/bad.py:1:1: 'project' must be a ProjectFile or a dict of the same "
                                   "shape, not list"),
])
def test_a_project_of_the_wrong_type_points_at_its_assignment(tmp_path: Path, source: str, expected: str) -> None:
    assert _lines(_load_error(tmp_path, {"projects/bad.py": source})) == [expected]


def test_validation_errors_of_a_dict_point_at_the_assignment_and_name_the_key_path(tmp_path: Path) -> None:
    source = textwrap.dedent("""\
        NAME = "Churn"

        def unused():
            project = None  # a function's own variable: not the assignment errors point at
            return project

        project = {
            "project": {"key": "churn", "name": NAME},
            "datasets": {
                "raw": {"type": "S3", "managed": "maybe"},
                "bad-name": {"type": "S3"},
                "other": {"tpye": "S3"},
            },
        }
        """)
    error = _load_error(tmp_path, {"projects/bad.py": source})
    assert _lines(error) == [
        "projects/bad.py:7:1: project.key: invalid project key 'churn': expected uppercase letters, digits and "
        "underscores, starting with a letter (e.g. CHURN_V2)",
        "projects/bad.py:7:1: datasets.raw.managed: invalid value 'maybe' for 'managed': input should be a valid "
        "boolean, unable to interpret input",
        "projects/bad.py:7:1: datasets.bad-name: invalid name 'bad-name': use only letters, digits and underscores",
        "projects/bad.py:7:1: datasets.other: missing required key 'type'",
        "projects/bad.py:7:1: datasets.other.tpye: unknown key 'tpye' (expected one of: type, connection, managed, "
        "params, format, format_params, schema, tags, description, tests, waivers)",
    ]


def test_values_yaml_cannot_hold_are_refused_with_their_key_path(tmp_path: Path) -> None:
    source = textwrap.dedent("""\
        import datetime
        from dataiku_iac.dsl import Dataset, Project, ProjectFile

        project = ProjectFile(
            project=Project(key="A", name="A"),
            datasets={"raw": Dataset(type="S3", params={"since": datetime.date(2024, 1, 1)})},
        )
        """)
    error = _load_error(tmp_path, {"projects/bad.py": source})
    assert _lines(error) == ["projects/bad.py:4:1: datasets.raw.params.since: a date is not plain data: use str, "
                             "int, float, bool, None, lists and dicts, as a YAML file would"]


def test_variants_made_with_model_copy_are_checked_too(tmp_path: Path) -> None:
    # model_copy(update=...) does not validate: the loader does, as for the rest of `project`.
    source = textwrap.dedent("""\
        from dataiku_iac.dsl import Dataset, Project, ProjectFile

        base = Dataset(type="Filesystem", connection="filesystem_managed", format="csv")
        project = ProjectFile(
            project=Project(key="A", name="A"),
            datasets={"good": base.model_copy(update={"tags": ["copy"]}),
                      "bad": base.model_copy(update={"managed": "maybe"})},
        )
        """)
    error = _load_error(tmp_path, {"projects/bad.py": source})
    assert _lines(error) == ["projects/bad.py:4:1: datasets.bad.managed: invalid value 'maybe' for 'managed': "
                             "input should be a valid boolean, unable to interpret input"]
    (tmp_path / "projects" / "bad.py").write_text(source.replace('"maybe"', "True"))
    spec = load_workspace(tmp_path).projects["A"].spec
    assert spec.datasets["good"].tags == ["copy"] and spec.datasets["bad"].managed is True
    assert spec.datasets["good"].model_fields_set == {"type", "connection", "format", "tags"}


def test_workspace_checks_point_at_the_assignment_with_the_key_path(tmp_path: Path) -> None:
    source = textwrap.dedent("""\
        from dataiku_iac.dsl import Dataset, Project, ProjectFile, Recipe

        project = ProjectFile(
            project=Project(key="A", name="A"),
            datasets={"raw": Dataset(type="S3")},
            recipes={"copy": Recipe(type="python", inputs=["nothing"], outputs=["raw"], code="gone.py")},
        )
        """)
    error = _load_error(tmp_path, {"projects/bad.py": source})
    assert _lines(error) == [
        f"projects/bad.py:3:1: recipes.copy.code: code file 'gone.py' not found (looked for "
        f"{(tmp_path / 'projects' / 'gone.py').resolve()})",
        "projects/bad.py:3:1: recipes.copy.inputs[0]: recipe input 'nothing' names no dataset or managed folder of "
        "project A",
    ]


@pytest.mark.parametrize(("globs", "expected"), [
    ("[projects/*.yaml, projects/*.py]",
     "projects/churn.py:6:1: project.key: project CHURN is already declared in projects/churn.yaml"),
    ("[projects/*.py, projects/*.yaml]",
     "projects/churn.yaml:2:8: project CHURN is already declared in projects/churn.py"),
])
def test_a_project_key_declared_in_yaml_and_python_is_refused(tmp_path: Path, globs: str, expected: str) -> None:
    files = {"projects/churn.yaml": CHURN_YAML, "projects/churn.py": CHURN_MODELS, **CODE}
    _write(tmp_path, files, WS_PY.replace("[projects/*.yaml, projects/*.py]", globs))
    with pytest.raises(ConfigError) as caught:
        load_workspace(tmp_path)
    assert _lines(caught.value) == [expected]


def test_the_cli_shows_the_error_line_and_no_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path, {"projects/bad.py": "import json\n\nproject = json.loads('{')\n"})
    assert main(["-C", str(tmp_path), "validate"]) == 3
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "projects/bad.py:3:11: JSONDecodeError: Expecting property name enclosed in double quotes" in err


# -- digest and speed -------------------------------------------------------------------------------------------


def test_the_digest_covers_the_python_file_and_what_it_builds(tmp_path: Path) -> None:
    reads = """\
    from pathlib import Path

    names = Path(__file__).with_name("tables.txt").read_text().split()
    project = {"project": {"key": "A", "name": "A"},
               "datasets": {n: {"type": "Filesystem", "params": {"path": f"/{n}"}} for n in names}}
    """
    _write(tmp_path, {"projects/a.py": reads, "projects/tables.txt": "one two\n"})
    first = load_workspace(tmp_path).digest
    assert load_workspace(tmp_path).digest == first
    (tmp_path / "projects" / "a.py").write_text(textwrap.dedent(reads) + "# a comment\n")
    second = load_workspace(tmp_path).digest
    assert second != first
    # The file's text is the same, but what it builds is not.
    (tmp_path / "projects" / "tables.txt").write_text("one two three\n")
    assert load_workspace(tmp_path).digest not in (first, second)


def test_a_saved_plan_is_stale_once_the_python_file_changes(make_workspace: Callable[..., Workspace],
                                                              tmp_path: Path) -> None:
    ws = make_workspace(files={"projects/churn.py": CHURN_MODELS, **CODE}, workspace_yaml=WS_PY)
    plan = ws.plan("dev")
    path = tmp_path / "projects" / "churn.py"
    path.write_text(path.read_text().replace('name="Churn"', 'name="Churn v2"'))
    ws = make_workspace()
    with pytest.raises(StalePlanError):
        ws.apply(plan)


def test_yaml_only_workspaces_never_load_the_python_loader() -> None:
    code = ("import sys; from dataiku_iac.config.loader import load_workspace; "
            f"load_workspace({str(ROOT / 'examples' / 'ml-pipeline')!r}); "
            "print(sorted(m for m in ('dataiku_iac.config.python_source', 'dataiku_iac.dsl') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"


# -- the example workspace -------------------------------------------------------------------------------------


def test_python_example_loops_over_regions_and_applies_cleanly(tmp_path: Path) -> None:
    workspace = tmp_path / "python-dsl"
    shutil.copytree(EXAMPLE, workspace)
    with Workspace.load(workspace) as ws:
        [source] = ws.config.projects.values()
        assert source.file.shown == "projects/sales.py" and source.key == "SALES"
        regions = sorted(source.spec.zones)
        assert len(regions) == 3
        assert {f"orders_{r}_raw" for r in regions} | {f"orders_{r}" for r in regions} | {"orders_all"} == set(
            source.spec.datasets)
        assert source.code["union_orders"] == (EXAMPLE / "recipes" / "union_orders.py").read_text(encoding="utf-8")
        plan = ws.plan("dev")
        created = {str(a.address) for a in plan.changes if a.symbol == "+"}
        assert "project.SALES" in created and {f"dataset.SALES.{n}" for n in source.spec.datasets} <= created
        apply_ok(ws)
        assert [str(a.address) for a in ws.plan("dev").changes if a.symbol != " "] == []
