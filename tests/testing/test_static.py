"""Static tests: the flow rules, the team's conventions and Python rules, waivers, locations, and how `dss-iac test
--static` and `dss-iac validate` report them. No DSS is called (no embedded simulator starts)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dataiku_iac import Workspace
from dataiku_iac.cli.main import main
from dataiku_iac.config.models import TestSettings
from dataiku_iac.dsl import Dataset, Project, ProjectFile, Recipe
from dataiku_iac.testing.results import FAILED, PASSED, SKIPPED, WARNING
from dataiku_iac.testing.rules import ProjectContext
from dataiku_iac.testing.static import run_static
from tests.engine.conftest import write_workspace

SOUND = """\
project: {key: SHOP, name: Shop, description: Orders, tags: [team-a]}
datasets:
  orders_raw: {type: Filesystem, connection: lake, params: {path: /orders}, description: raw, tags: [team-a]}
  orders_clean: {type: Filesystem, managed: true, connection: lake, description: clean, tags: [team-a]}
recipes:
  clean_orders: {type: sync, inputs: [orders_raw], outputs: [orders_clean], description: copy, tags: [team-a]}
"""

# Flow problems: a dataset no recipe touches, a managed input no recipe builds, and an orphan whose rule is waived.
FLAWED = """\
project: {key: SHOP, name: Shop}
datasets:
  orders_raw: {type: Filesystem, connection: lake, params: {path: /orders}}
  orders_clean: {type: Filesystem, managed: true, connection: lake}
  leftover: {type: Filesystem, connection: lake, params: {path: /old}}
  archive:
    type: Filesystem
    connection: lake
    params: {path: /archive}
    waivers: {flow.orphan: kept for the auditors until 2027}
  staging: {type: Filesystem, managed: true, connection: lake}
  published: {type: Filesystem, managed: true, connection: lake}
recipes:
  clean_orders: {type: sync, inputs: [orders_raw], outputs: [orders_clean]}
  publish: {type: sync, inputs: [staging], outputs: [published]}
"""


def _flawed() -> str:
    return FLAWED


def _ws(tmp_path: Path, project: str, tests_yaml: str = "", files: dict[str, str] | None = None) -> Workspace:
    workspace = "version: 1\nprojects: [projects/*.yaml]\nenvironments:\n  dev: {host: embedded}\n" + tests_yaml
    write_workspace(tmp_path, {"shop": project}, workspace, files)
    return Workspace.load(tmp_path)


def _problems(ws: Workspace) -> list[tuple[str, str, str, str | None]]:
    return [(r.status, r.rule or "", r.target, r.location) for r in run_static(ws.config) if r.status != PASSED]


def test_a_sound_flow_passes_every_rule(tmp_path: Path) -> None:
    results = run_static(_ws(tmp_path, SOUND).config)
    assert {r.rule for r in results} == {"flow.orphan", "flow.multiple-writers", "flow.unbuilt-input",
                                        "scenario.unknown-item", "scenario.unknown-trigger-dataset"}
    assert all(r.status == PASSED for r in results)


def test_flow_lint_finds_orphans_and_unbuilt_inputs_at_their_place(tmp_path: Path) -> None:
    ws = _ws(tmp_path, _flawed())
    assert _problems(ws) == [
        ("warning", "flow.orphan", "dataset.SHOP.leftover", "projects/shop.yaml:5:3"),
        ("skipped", "flow.orphan", "dataset.SHOP.archive", "projects/shop.yaml:6:3"),
        ("failed", "flow.unbuilt-input", "recipe.SHOP.publish", "projects/shop.yaml:15:34"),
    ]
    unbuilt = next(r for r in run_static(ws.config) if r.rule == "flow.unbuilt-input" and r.status == FAILED)
    assert "input 'staging' is managed but no recipe builds it" in unbuilt.message
    waived = next(r for r in run_static(ws.config) if r.status == SKIPPED)
    assert waived.message == "waived: kept for the auditors until 2027"


def test_a_trigger_on_a_dataset_that_does_not_exist_fails_at_its_name(tmp_path: Path) -> None:
    """The test that must fail, and does: the trigger watches a dataset renamed away (orders_raw -> raw)."""
    triggered = SOUND + ("scenarios:\n  on_new_orders:\n    triggers:\n"
                         "      - {type: dataset, datasets: [orders_raw, orders]}\n"
                         "    steps: [{type: build, items: [orders_clean]}]\n")
    got = [(r.status, r.target, r.location, r.message) for r in run_static(_ws(tmp_path, triggered).config)
           if r.rule == "scenario.unknown-trigger-dataset"]
    assert got == [("failed", "scenario.SHOP.on_new_orders", "projects/shop.yaml:10:48",
                    "trigger watches 'orders', which is no dataset of project SHOP: it never fires")]


def _context(spec: ProjectFile) -> ProjectContext:
    return ProjectContext(spec, {spec.project.key: spec}, TestSettings())


def test_rules_the_loader_also_refuses_are_found_on_models_built_in_python() -> None:
    """Two writers and steps building unknown items never load from files (validate refuses them first); built
    as models through the Python API they reach the rules, which find them."""
    from dataiku_iac.dsl import ProjectFile
    from dataiku_iac.resources.scenario_models import BuildStep, Scenario
    from dataiku_iac.testing.flow_rules import multiple_writers, unknown_build_items

    spec = ProjectFile(project=Project(key="SHOP", name="Shop"),
                       datasets={"a": Dataset(type="Filesystem"), "b": Dataset(type="Filesystem", managed=True)},
                       recipes={"r1": Recipe(type="sync", inputs=["a"], outputs=["b"]),
                                "r2": Recipe(type="sync", inputs=["a"], outputs=["b"])},
                       scenarios={"nightly": Scenario(steps=[BuildStep(type="build", items=["b", "ghost"])])})
    assert [(h.path, h.message) for h in multiple_writers(_context(spec))] == [
        (("recipes", "r2", "outputs", 0), "'b' is also written by recipe 'r1': a dataset or folder has one writer")]
    assert [h.path for h in unknown_build_items(_context(spec))] == [("scenarios", "nightly", "steps", 0, "items", 1)]


CONVENTIONS = """\
tests:
  naming:
    dataset: "^[a-z][a-z0-9_]*$"
    project: "^[A-Z]{3,}$"
  required_tags: {recipe: [owner]}
  required_descriptions: [dataset, project]
"""


def test_the_teams_conventions_name_their_rule_and_object(tmp_path: Path) -> None:
    project = SOUND.replace("orders_clean:", "OrdersClean:").replace("outputs: [orders_clean]",
                                                                       "outputs: [OrdersClean]")
    project = project.replace("params: {path: /orders}, description: raw,", "params: {path: /orders},")
    ws = _ws(tmp_path, project, CONVENTIONS)
    got = {(r.rule, r.target, r.message) for r in run_static(ws.config) if r.status == FAILED}
    assert got == {
        ("naming.dataset", "dataset.SHOP.OrdersClean",
         "dataset name 'OrdersClean' does not match the team's pattern ^[a-z][a-z0-9_]*$"),
        ("tags.recipe", "recipe.SHOP.clean_orders", "recipe 'clean_orders' lacks the required tag owner"),
        ("description.dataset", "dataset.SHOP.orders_raw", "dataset 'orders_raw' has no description"),
    }


def test_severity_turns_a_rule_into_a_warning_or_off(tmp_path: Path) -> None:
    settings_yaml = "tests:\n  severity: {flow.unbuilt-input: warning, flow.orphan: 'off'}\n"
    statuses = {(r.rule, r.status) for r in run_static(_ws(tmp_path, _flawed(), settings_yaml).config)}
    assert ("flow.unbuilt-input", WARNING) in statuses
    assert not any(rule == "flow.orphan" for rule, _ in statuses)


def test_a_waiver_that_waives_nothing_is_a_warning(tmp_path: Path) -> None:
    project = SOUND.replace("description: clean,", "description: clean, waivers: {flow.orphan: old habit},")
    project = project.replace("description: Orders,", "description: Orders, waivers: {team.nope: why not},")
    results = [r for r in run_static(_ws(tmp_path, project).config) if r.rule == "waivers.unused"]
    assert [(r.target, r.status, r.message, r.location) for r in results] == [
        ("project.SHOP", WARNING, "the waiver of team.nope names no rule of this workspace: remove it",
         "projects/shop.yaml:1:65"),
        ("dataset.SHOP.orders_clean", WARNING, "the waiver of flow.orphan waives nothing: the rule passes here: "
                                               "remove it", "projects/shop.yaml:4:99"),
    ]


TEAM_RULES = '''\
from dataiku_iac import lint_rule


@lint_rule("team.parquet-only", "managed datasets are stored as parquet")
def parquet_only(project):
    for name, ds in project.datasets.items():
        if ds.managed and ds.format != "parquet":
            yield ("datasets", name), f"managed dataset {name} is stored as {ds.format}, not parquet"


@lint_rule("team.short-key", severity="warning")
def short_key(project):
    """project keys of at most 8 characters"""
    if len(project.project.key) > 8:
        yield "the project key is longer than 8 characters"


@lint_rule("team.broken")
def broken(project):
    return 1 / 0
'''


def test_python_rules_receive_the_typed_model(tmp_path: Path) -> None:
    ws = _ws(tmp_path, SOUND.replace("key: SHOP", "key: SHOPPINGCART").replace("orders_clean: {type: Filesystem,",
                                                                               "orders_clean: {type: Filesystem, "
                                                                               "format: csv,"),
             "tests: {custom_rules: [rules/team.py]}\n", {"rules/team.py": TEAM_RULES})
    by_rule = {r.rule: r for r in run_static(ws.config) if r.rule and r.rule.startswith("team.")}
    assert (by_rule["team.parquet-only"].status, by_rule["team.parquet-only"].message,
            by_rule["team.parquet-only"].location) == (
        FAILED, "managed dataset orders_clean is stored as csv, not parquet", "projects/shop.yaml:4:3")
    assert by_rule["team.short-key"].status == WARNING
    assert by_rule["team.broken"].status == "error"
    assert by_rule["team.broken"].message == "the rule failed: ZeroDivisionError: division by zero (rules/team.py:20)"


@pytest.mark.parametrize(("code", "expected"), [
    ("def broken(:\n", "rules/team.py:1:12: syntax error in custom rules: invalid syntax"),
    ("import os\nraise RuntimeError('no config')\n",
     "rules/team.py:2:1: custom rules failed to load: RuntimeError: no config"),
    ("x = 1\n", "rules/team.py:1:1: no function in this file is marked @dataiku_iac.lint_rule(...)"),
])
def test_a_rules_file_that_cannot_load_is_a_located_error(tmp_path: Path, code: str, expected: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    _ws(tmp_path, SOUND, "tests: {custom_rules: [rules/team.py]}\n", {"rules/team.py": code})
    assert main(["-C", str(tmp_path), "test", "--static"]) == 3
    assert capsys.readouterr().err.strip() == f"error: {expected}"


def test_test_static_fails_with_exit_7_and_lists_each_failure(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """The test that must fail, and does: a managed input nothing builds."""
    _ws(tmp_path, _flawed())
    assert main(["-C", str(tmp_path), "test", "--static", "--junit-xml", "report.xml"]) == 7
    out = capsys.readouterr().out
    assert "  FAIL  flow.unbuilt-input recipe publish  projects/shop.yaml:15:34" in out
    assert "  WARN  flow.orphan dataset leftover  projects/shop.yaml:5:3" in out
    assert "  SKIP  flow.orphan dataset archive  projects/shop.yaml:6:3" in out
    assert out.splitlines()[-1].startswith("Tests FAILED: 3 passed, 1 failed, 0 errors, 1 warning, 1 skipped (")
    assert (tmp_path / "report.xml").is_file()
    assert not (tmp_path / ".dss-iac" / "sim").exists()  # no DSS was started


def test_warnings_alone_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _ws(tmp_path, SOUND.replace("recipes:", "  spare: {type: Filesystem, connection: lake, params: {path: /x}}\n"
                                            "recipes:"))
    assert main(["-C", str(tmp_path), "test"]) == 0
    assert "Tests passed: 4 passed, 0 failed, 0 errors, 1 warning, 0 skipped" in capsys.readouterr().out


def test_validate_refuses_a_broken_rule_and_shows_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _ws(tmp_path, _flawed())
    assert main(["-C", str(tmp_path), "validate"]) == 3
    err = capsys.readouterr().err
    assert "warning: projects/shop.yaml:5:3: [flow.orphan] dataset 'leftover' is neither read nor written" in err
    assert "error: projects/shop.yaml:15:34: [flow.unbuilt-input] input 'staging' is managed" in err


def test_the_last_static_run_is_kept_for_the_front_ends(tmp_path: Path) -> None:
    with _ws(tmp_path, _flawed()) as ws:
        run = ws.test()
        again = ws.last_test_run()
    assert again is not None and again.to_dict() == run.to_dict()
    assert not again.ok and [r.rule for r in again.failures] == ["flow.unbuilt-input"]


@settings(max_examples=60, deadline=None)
@given(names=st.lists(st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,12}", fullmatch=True), min_size=1, max_size=6,
                      unique=True),
       pattern=st.sampled_from([r"^[a-z][a-z0-9_]*$", r"_raw$", r"^(stg|dim|fct)_", r"[0-9]"]))
def test_the_naming_rule_flags_exactly_the_names_the_pattern_misses(names: list[str], pattern: str) -> None:
    from dataiku_iac.testing.convention_rules import naming

    spec = ProjectFile(project=Project(key="SHOP", name="Shop"),
                       datasets={n: Dataset(type="Filesystem") for n in names})
    flagged = {h.path[1] for h in naming("dataset", pattern, _context(spec))}
    assert flagged == {n for n in names if not re.search(pattern, n)}
