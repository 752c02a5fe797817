"""Objects added by hand in DSS to a managed project: `plan` and `drift` list them as not managed, with the
command that imports them; nothing ever deletes them; once imported they are managed like the rest."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataiku_iac import Workspace
from dataiku_iac.importer import import_project
from dataiku_iac.plan.model import Plan
from dataiku_iac.plan.planner import make_plan
from dataiku_iac.resources import KINDS, build_desired
from tests.engine.conftest import apply_ok, write_workspace

PROJECT = """\
# The churn project: this comment must survive an import.
project:
  key: CHURN
  name: Churn
datasets:
  raw: {type: Filesystem, connection: filesystem_managed, params: {path: /raw}}  # landing files
  clean: {type: Filesystem, connection: filesystem_managed, params: {path: /clean}}
recipes:
  cleanup: {type: sync, inputs: [raw], outputs: [clean]}
managed_folders:
  models: {connection: filesystem_folders}
scenarios:
  nightly: {triggers: [{type: temporal, frequency: Daily, hour: 2}]}
zones:
  ingest: {items: [raw]}
"""
WITHOUT_CLEAN = PROJECT.replace("  clean: {type: Filesystem, connection: filesystem_managed, params: {path: /clean}}\n",
                                "").replace("recipes:\n  cleanup: {type: sync, inputs: [raw], outputs: [clean]}\n", "")
# Names import cannot write: not a config key, and a twin of a declared zone (DSS lets zone names repeat).
NOT_IMPORTABLE = {"my notes", "ingest"}


@dataclass
class Hand:
    datasets: list[str]
    copies: list[str]  # datasets copied by a hand-made sync recipe `copy_<d>` into `<d>_copy`
    folders: list[str]
    scenarios: list[str]
    zones: dict[str, list[str]]  # zone name -> hand-made datasets in it
    drop_declared: bool  # the config also drops a dataset and its recipe: the plan has deletes
    made: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, DSS id) -> name


@st.composite
def handmade(draw: Any) -> Hand:
    datasets = draw(st.lists(st.sampled_from(["h_a", "h_b", "h_c"]), unique=True, max_size=3))
    zones = draw(st.lists(st.sampled_from(["sandbox", "lab", "ingest"]), unique=True, max_size=2))
    placed: dict[str, list[str]] = {z: [] for z in zones}
    for d in datasets:
        zone = draw(st.sampled_from([None, *zones]))
        if zone is not None:
            placed[zone].append(d)
    return Hand(datasets, [d for d in datasets if draw(st.booleans())],
                draw(st.lists(st.sampled_from(["notes", "scratch", "my notes"]), unique=True, max_size=3)),
                draw(st.lists(st.sampled_from(["weekly", "monthly"]), unique=True, max_size=2)),
                placed, draw(st.booleans()))


def make_by_hand(client: Any, hand: Hand) -> None:
    """What a user clicks together in the DSS UI; records each object's DSS id in `hand.made`."""
    project = client.get_project("CHURN")
    for d in hand.datasets:
        project.create_fslike_dataset(d, "Filesystem", "filesystem_managed", f"/hand/{d}")
        hand.made[("dataset", d)] = d
    for d in hand.copies:
        sync = project.new_recipe("sync", f"copy_{d}")
        sync.with_input(d)
        sync.with_new_output(f"{d}_copy", "filesystem_managed")
        sync.create()
        hand.made[("recipe", f"copy_{d}")] = f"copy_{d}"
        hand.made[("dataset", f"{d}_copy")] = f"{d}_copy"
    for f in hand.folders:
        hand.made[("managed_folder", project.create_managed_folder(f, connection_name="filesystem_folders").id)] = f
    for s in hand.scenarios:
        scenario_id = project.create_scenario(s, "step_based").id
        hand.made[("scenario", scenario_id)] = scenario_id.lower()
    for z, items in hand.zones.items():
        zone = project.get_flow().create_zone(z)
        for d in items:
            zone.add_item(project.get_dataset(d))
        hand.made[("zone", zone.id)] = z


def in_dss(client: Any) -> set[tuple[str, str]]:
    """(kind, DSS id) of every flow object of CHURN."""
    project = client.get_project("CHURN")
    found = {("dataset", d["name"]) for d in project.list_datasets()}
    found |= {("recipe", r["name"]) for r in project.list_recipes()}
    found |= {("managed_folder", f["id"]) for f in project.list_managed_folders()}
    found |= {("scenario", dict(s)["id"]) for s in project.list_scenarios()}
    return found | {("zone", z.id) for z in project.get_flow().list_zones() if z.id != "default"}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hand=handmade())
def test_objects_made_by_hand_are_reported_never_deleted_and_gone_once_imported(hand: Hand) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = write_workspace(Path(tmp), {"churn": PROJECT})
        with Workspace.load(root) as ws:
            apply_ok(ws)
            client = ws.connection("dev").client
            make_by_hand(client, hand)
        if hand.drop_declared:
            write_workspace(Path(tmp), {"churn": WITHOUT_CLEAN})
        with Workspace.load(root) as ws:
            plan = ws.plan("dev")
            # Reported: exactly what was made by hand, matched by DSS's own ids, under the name import gives it.
            assert {(u.kind, u.remote_id): u.name for u in plan.unmanaged} == hand.made
            for u in plan.unmanaged:
                assert u.address == f"{u.kind}.CHURN.{u.name}"
                importable = u.name not in NOT_IMPORTABLE
                assert (u.import_command == "dss-iac import -e dev --project CHURN") is importable, u
                assert u.hint  # the command, or why there is none
            # The report is plain data in the plan's JSON, and a saved plan keeps it.
            assert [u["address"] for u in json.loads(plan.to_json())["unmanaged"]] == \
                [u.address for u in plan.unmanaged]
            assert Plan.from_dict(json.loads(plan.to_json())).unmanaged == plan.unmanaged
            drift = ws.drift("dev")
            assert drift.unmanaged == plan.unmanaged and drift.has_drift is bool(hand.made)
            # Never deleted: no action touches them, and applying (deletes included) leaves them all in DSS.
            assert not set(hand.made) & {(a.kind, a.remote_id) for a in plan.actions}
            assert {str(a.address) for a in plan.destructive} == (
                {"dataset.CHURN.clean", "recipe.CHURN.cleanup"} if hand.drop_declared else set())
            assert ws.apply(plan).ok
            assert set(hand.made) <= in_dss(ws.connection("dev").client)
            result = import_project(ws, "dev", "CHURN")
            importable = {(k, i) for (k, i), name in hand.made.items() if name not in NOT_IMPORTABLE}
            assert len(result.resources) == len(importable)
        text = (root / "projects" / "churn.yaml").read_text()
        assert text.startswith("# The churn project") and "# landing files" in text
        with Workspace.load(root) as ws:
            plan = ws.plan("dev")
            # Imported: managed now, so no longer reported; what import cannot write still is.
            assert {(u.kind, u.remote_id) for u in plan.unmanaged} == set(hand.made) - importable
            assert plan.changes == [] and not ws.drift("dev").items
            assert set(hand.made) <= in_dss(ws.connection("dev").client)


OTHER = "project: {key: OTHER, name: Other}\n"


def test_target_lists_only_the_projects_targeted_whole(make_workspace) -> None:
    ws = make_workspace({"churn": PROJECT, "other": OTHER})
    apply_ok(ws)
    client = ws.connection("dev").client
    for key in ("CHURN", "OTHER"):
        client.get_project(key).create_fslike_dataset("by_hand", "Filesystem", "filesystem_managed", "/h")
    assert [u.address for u in ws.plan("dev").unmanaged] == ["dataset.CHURN.by_hand", "dataset.OTHER.by_hand"]
    assert [u.address for u in ws.plan("dev", targets=["project.OTHER"]).unmanaged] == ["dataset.OTHER.by_hand"]
    assert ws.plan("dev", targets=["dataset.CHURN.raw"]).unmanaged == ()
    # A destroy plan forgets projects holding objects made by hand: it says so, and lists nothing apart.
    destroy = ws.plan("dev", destroy=True)
    assert destroy.unmanaged == ()
    assert [a.reason for a in destroy.actions if str(a.address) == "project.OTHER"] == [
        "kept in DSS, only forgotten: it holds what dss-iac does not manage (dataset by_hand)"]


def test_a_bundle_environment_lists_nothing_apart(make_workspace) -> None:
    # `mirror` reads the same DSS but is deployed by promote: the bundle brings the design project whole, so what
    # it holds beyond the configuration is reported (and imported) where the bundle is made from.
    ws = make_workspace({"churn": PROJECT}, workspace_yaml=(
        "version: 1\nenvironments:\n  dev: {host: embedded}\n  mirror: {host: embedded, deploy: bundle}\n"))
    apply_ok(ws)
    ws.connection("dev").client.get_project("CHURN").create_fslike_dataset("by_hand", "Filesystem",
                                                                           "filesystem_managed", "/h")
    assert [u.address for u in ws.plan("dev").unmanaged] == ["dataset.CHURN.by_hand"]
    assert ws.plan("mirror").unmanaged == () and not ws.drift("mirror").unmanaged


def _plan_requests(ws: Workspace, *, listing: bool) -> int:
    sim = ws.embedded()
    sim.reset_stats()
    make_plan(environment="dev", desired=build_desired(ws.config, ws.env_context("dev")), state=ws.state("dev"),
              conn=ws.connection("dev"), config_digest="", list_unmanaged=listing)
    return int(sim.stats()["requests"])


def test_listing_costs_one_call_per_kind_and_project_however_much_was_made_by_hand(make_workspace) -> None:
    ws = make_workspace({"churn": PROJECT, "other": OTHER})
    apply_ok(ws)
    kinds = [k.name for k in KINDS.values() if k.listed]  # dataset, managed_folder, recipe, scenario, zone...
    # The refresh already lists the versioned kinds the configuration has in a project (and zones, made from their
    # list reply), with the folders their fields name: only the other kinds cost a call.
    refreshed = {(a.project, name) for a in build_desired(ws.config, ws.env_context("dev"))
                 if KINDS[a.kind].versioned or a.kind == "zone" for name in (a.kind, *KINDS[a.kind].names_of)}
    # A kind listed with another (dataset metrics, with datasets) is picked out of that kind's list.
    lacking = len({(p, KINDS[k].listed_with or k) for k in kinds for p in ("CHURN", "OTHER")} - refreshed)
    assert _plan_requests(ws, listing=True) - _plan_requests(ws, listing=False) == lacking
    hand = Hand(["h_a", "h_b", "h_c"], ["h_a", "h_b"], ["notes", "scratch"], ["weekly", "monthly"],
                {"sandbox": ["h_c"], "lab": []}, False)
    make_by_hand(ws.connection("dev").client, hand)
    assert _plan_requests(ws, listing=True) - _plan_requests(ws, listing=False) == lacking
    assert len(ws.plan("dev").unmanaged) == len(hand.made) == 13
