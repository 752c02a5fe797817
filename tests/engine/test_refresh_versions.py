"""Refresh by version: a plan lists each kind once per project and reads only the objects whose DSS version moved
since the state recorded it; and no edit made in DSS behind dss-iac's back goes unseen.

Requests are counted in the simulator's request log (never timed)."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dataikuapi.dss.project import DSSProject
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataiku_iac import Workspace
from dataiku_iac.plan.planner import make_plan
from dataiku_iac.resources import build_desired
from dataiku_iac.sim import Simulator
from tests.engine.conftest import write_workspace

KEY = "DRIFT"
PROJECT = f"""\
project:
  key: {KEY}
  name: Drift
  description: watched
  tags: [a]
  variables: {{standard: {{x: '1'}}, local: {{}}}}
  permissions:
    - {{group: data_team, read_project_content: true}}
datasets:
  src: {{type: Filesystem, connection: filesystem_managed, params: {{path: /drift/src}}, tags: [raw],
        description: source, schema: [{{name: id, type: bigint}}]}}
  dst: {{type: Filesystem, connection: filesystem_managed, params: {{path: /drift/dst}}}}
  other: {{type: Filesystem, connection: filesystem_managed, params: {{path: /drift/other}}}}
managed_folders:
  files: {{connection: filesystem_folders, description: kept files}}
recipes:
  sync_dst: {{type: sync, inputs: [src], outputs: [dst], description: copy}}
scenarios:
  nightly: {{name: Nightly, triggers: [{{type: temporal, frequency: Daily, hour: 2}}],
            steps: [{{type: build, items: [dst, files]}}]}}
zones:
  ingest: {{items: [src]}}
"""
# The requests of a no-op plan of PROJECT: the project's metadata, variables and permissions, and one list of each of
# datasets, managed folders, recipes, scenarios and zones (however many objects of each).
NOOP_PATHS = [f"/projects/{KEY}/{p}" for p in ("metadata", "variables/", "permissions", "datasets/", "managedfolders/",
                                               "recipes/", "scenarios/", "flow/zones",
                                               # the listed kinds without versions, listed once each for the plan's
                                               # "not managed" list: exposed objects (the project's settings), Git
                                               # libraries, wiki articles; dataset metrics are picked out of the
                                               # datasets' list, made once for both
                                               "settings", "git/lib-git-refs/", "wiki/")]
# A GET of one object (not a list: a list path ends with '/', or is the zones' list).
OBJECT_GET = re.compile(r"/projects/[^/]+/(datasets|managedfolders|recipes|scenarios)/[^/]+$")


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, Simulator]]:
    """The project applied once to a simulator of the module's own."""
    root: Path = tmp_path_factory.mktemp("refresh")
    with Simulator(govern=False, automation_nodes=()) as sim:
        yaml = f"version: 1\nprojects: [projects/*.yaml]\nenvironments:\n  dev:\n    host: {sim.base_url}\n" \
               f"    api_key: {sim.api_key}\n"
        write_workspace(root, {"drift": PROJECT}, yaml)
        with Workspace.load(root) as ws:
            result = ws.apply(ws.plan("dev"))
            assert result.ok, [(r.address, r.error) for r in result.results if r.status != "ok"]
            yield ws, sim


def _plan_counted(ws: Workspace, sim: Simulator) -> tuple[Any, list[dict[str, Any]]]:
    """A plan and the requests its refresh made (a plan with changes also checks the instance's connections)."""
    sim.reset_stats()
    plan = ws.plan("dev")
    return plan, [e for e in sim.stats(with_log=True)["log"] if e["path"].startswith("/projects/")]


def _settle(ws: Workspace) -> None:
    """Apply until DSS is as configured again (the next test starts from a clean slate)."""
    result = ws.apply(ws.plan("dev"))
    assert result.ok, [(r.address, r.error) for r in result.results if r.status != "ok"]
    assert not ws.plan("dev").changes


def test_apply_records_the_version_of_every_versioned_object(applied: tuple[Workspace, Simulator]) -> None:
    ws, _ = applied
    state = ws.state("dev")
    versioned = {a for a, e in state.resources.items() if e.kind in ("dataset", "managed_folder", "recipe", "scenario")}
    assert len(versioned) == 6
    assert all(state.resources[a].version is not None for a in versioned)


def test_a_noop_plan_lists_each_kind_once_and_reads_no_object(applied: tuple[Workspace, Simulator]) -> None:
    ws, sim = applied
    plan, log = _plan_counted(ws, sim)
    assert not plan.changes
    assert sorted(e["path"] for e in log) == sorted(NOOP_PATHS)
    assert not [e for e in log if OBJECT_GET.search(e["path"])]
    assert all(e["method"] == "GET" for e in log)


def _describe_dataset(name: str) -> Callable[[DSSProject], str]:
    def edit(project: DSSProject) -> str:
        settings = project.get_dataset(name).get_settings()
        settings.get_raw()["description"] = "edited by hand"
        settings.save()
        return f"dataset.{KEY}.{name}"
    return edit


def _describe_folder(project: DSSProject) -> str:
    settings = project.get_managed_folder(_folder_id(project)).get_settings()
    settings.description = "edited by hand"
    settings.save()
    return f"managed_folder.{KEY}.files"


def _describe_recipe(project: DSSProject) -> str:
    settings = project.get_recipe("sync_dst").get_settings()
    settings.get_recipe_raw_definition()["description"] = "edited by hand"
    settings.save()
    return f"recipe.{KEY}.sync_dst"


def _scenario_hour(project: DSSProject) -> str:
    scenario = project.get_scenario(_scenario_id(project))
    settings = scenario.get_settings()
    trigger = settings.get_raw()["triggers"][0]
    trigger["params"]["hour"] = (int(trigger["params"].get("hour", 0)) + 1) % 24
    settings.save()
    return f"scenario.{KEY}.nightly"


@pytest.mark.parametrize("count", [1, 2, 5])
def test_n_objects_edited_by_hand_cost_exactly_n_reads(applied: tuple[Workspace, Simulator], count: int) -> None:
    ws, sim = applied
    edits = [_describe_dataset("src"), _describe_dataset("dst"), _describe_folder, _describe_recipe,
             _scenario_hour][:count]
    project = sim.client().get_project(KEY)
    edited = {edit(project) for edit in edits}
    try:
        plan, log = _plan_counted(ws, sim)
        assert {str(a.address) for a in plan.changes} == edited
        assert all(a.reason == "changed outside dss-iac" for a in plan.changes)
        reads = [e["path"] for e in log if OBJECT_GET.search(e["path"])]
        assert len(reads) == count, reads
        # Beside them, only the lists of a no-op plan, and the folders' list a scenario naming a folder reads
        # (DSS refers to folders by id).
        others = [e["path"] for e in log if not OBJECT_GET.search(e["path"])]
        extra = ["/projects/DRIFT/managedfolders/"] if f"scenario.{KEY}.nightly" in edited else []
        assert sorted(others) == sorted(NOOP_PATHS + extra)
    finally:
        _settle(ws)


# -- the property: no edit is missed -----------------------------------------------------------------------------

def _folder_id(project: DSSProject) -> str:
    """The project's one folder (whatever an earlier edit renamed it to)."""
    (folder,) = project.list_managed_folders()
    return str(folder["id"])


def _scenario_id(project: DSSProject) -> str:
    return str(next(dict(s)["id"] for s in project.list_scenarios()))


def _zone(project: DSSProject) -> Any:
    return next(z for z in project.get_flow().list_zones() if z.name == "ingest")


def _dataset_path(project: DSSProject) -> str:
    settings = project.get_dataset("src").get_settings()
    settings.get_raw()["params"]["path"] = "/moved/by/hand"
    settings.save()
    return f"dataset.{KEY}.src"


def _dataset_tags(project: DSSProject) -> str:
    dataset = project.get_dataset("dst")
    meta = dataset.get_metadata()
    meta["tags"] = ["by-hand"]
    dataset.set_metadata(meta)
    return f"dataset.{KEY}.dst"


def _dataset_schema(project: DSSProject) -> str:
    project.get_dataset("src").set_schema({"columns": [{"name": "id", "type": "string"}]})
    return f"dataset.{KEY}.src"


def _rename_folder(project: DSSProject) -> str:
    project.get_managed_folder(_folder_id(project)).rename("renamed by hand")
    return f"managed_folder.{KEY}.files"


def _recipe_tags(project: DSSProject) -> str:
    settings = project.get_recipe("sync_dst").get_settings()
    settings.get_recipe_raw_definition()["tags"] = ["by-hand"]
    settings.save()
    return f"recipe.{KEY}.sync_dst"


def _scenario_active(project: DSSProject) -> str:
    settings = project.get_scenario(_scenario_id(project)).get_settings()
    settings.active = not settings.active
    settings.save()
    return f"scenario.{KEY}.nightly"


def _zone_color(project: DSSProject) -> str:
    settings = _zone(project).get_settings()
    settings.color = "#000000"
    settings.save()
    return f"zone.{KEY}.ingest"


def _zone_items(project: DSSProject) -> str:
    _zone(project).add_item(project.get_dataset("other"))
    return f"zone.{KEY}.ingest"


def _project_description(project: DSSProject) -> str:
    meta = project.get_metadata()
    meta["description"] = "edited by hand"
    project.set_metadata(meta)
    return f"project.{KEY}"


def _variables(project: DSSProject) -> str:
    project.set_variables({"standard": {"x": "2"}, "local": {}})
    return f"variables.{KEY}"


def _permissions(project: DSSProject) -> str:
    permissions = project.get_permissions()
    for entry in permissions["permissions"]:
        entry["writeProjectContent"] = True
    project.set_permissions(permissions)
    return f"permissions.{KEY}"


EDITS: dict[str, Callable[[DSSProject], str]] = {
    "dataset description": _describe_dataset("other"), "dataset path": _dataset_path, "dataset tags": _dataset_tags,
    "dataset schema": _dataset_schema, "folder description": _describe_folder, "folder rename": _rename_folder,
    "recipe description": _describe_recipe, "recipe tags": _recipe_tags, "scenario trigger": _scenario_hour,
    "scenario active": _scenario_active, "zone color": _zone_color, "zone items": _zone_items,
    "project description": _project_description, "variables": _variables, "permissions": _permissions,
}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chosen=st.lists(st.sampled_from(sorted(EDITS)), min_size=1, max_size=3, unique=True))
def test_the_plan_sees_every_edit_made_behind_its_back(applied: tuple[Workspace, Simulator],
                                                       chosen: list[str]) -> None:
    """Random fields of random kinds edited through dataikuapi (the simulator moves versions as DSS does): each
    edited object shows as changed outside dss-iac, and the plan is the very plan made by reading every object."""
    ws, sim = applied
    project = sim.client().get_project(KEY)
    edited = {EDITS[name](project) for name in chosen}
    try:
        plan = ws.plan("dev")
        drifted = {str(a.address) for a in plan.changes if a.drift}
        assert edited <= drifted, f"missed: {sorted(edited - drifted)}"
        assert _seen(plan) == _seen(_plan_reading_everything(ws))
    finally:
        _settle(ws)


def _seen(plan: Any) -> dict[str, tuple[str, list[Any], list[Any]]]:
    return {str(a.address): (a.action.value, [c.to_dict() for c in a.changes], [c.to_dict() for c in a.drift])
            for a in plan.actions}


def _plan_reading_everything(ws: Workspace) -> Any:
    """The plan of a refresh that reads every object: the state's versions forgotten."""
    state = copy.deepcopy(ws.state("dev"))
    for entry in state.resources.values():
        entry.version = None
    desired = build_desired(ws.config, ws.env_context("dev"))
    plan, _ = make_plan(environment="dev", desired=desired, state=state, conn=ws.connection("dev"),
                        config_digest=ws.config.digest)
    return plan


def test_an_imported_project_is_not_read_again(tmp_path: Path) -> None:
    """`import` records the versions of what it read: the next plan lists, and reads no object."""
    from dataiku_iac.importer import import_project

    with Simulator(govern=False, automation_nodes=()) as sim:
        project = sim.client().create_project("HAND", "Made by hand", "admin")
        project.create_fslike_dataset("raw", "Filesystem", "filesystem_managed", "/hand/raw")
        project.create_managed_folder("files")
        yaml = f"version: 1\nprojects: [projects/*.yaml]\nenvironments:\n  dev:\n    host: {sim.base_url}\n" \
               f"    api_key: {sim.api_key}\n"
        write_workspace(tmp_path, {}, yaml)
        with Workspace.load(tmp_path) as ws:
            import_project(ws, "dev", "HAND")
        with Workspace.load(tmp_path) as ws:
            plan, log = _plan_counted(ws, sim)
            assert not plan.changes
            assert [e["path"] for e in log if OBJECT_GET.search(e["path"])] == []
