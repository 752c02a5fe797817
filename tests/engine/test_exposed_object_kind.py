"""Exposed objects and foreign inputs: ordered across projects in one plan, remapped per environment, drift,
import; bad references refused with their place in the file."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from dataiku_iac import Workspace
from dataiku_iac.errors import ConfigError
from tests.engine.conftest import apply_ok, changes, run_import

CRM = """\
project: {key: CRM, name: CRM}
datasets:
  customers: {type: Filesystem, managed: true, connection: filesystem_managed, format: csv}
managed_folders:
  exports: {connection: filesystem_folders}
exposed_objects:
  customers: {to: [SALES]}
  exports: {to: [SALES, FINANCE]}
"""
SALES = """\
project: {key: SALES, name: Sales}
datasets:
  local_customers: {type: Filesystem, managed: true, connection: filesystem_managed, format: csv}
recipes:
  copy_customers: {type: sync, inputs: [CRM.customers], outputs: [local_customers]}
"""
RENAMED = """\
version: 1
projects: [projects/*.yaml]
environments:
  dev: {host: embedded, project_key: "{key}_DEV"}
"""


def _exposed(ws: Workspace, key: str, env: str = "dev") -> list[dict]:
    return ws.connection(env).client.get_project(key).get_settings().get_raw()["exposedObjects"]["objects"]


def test_exposure_is_made_before_the_recipe_that_reads_it_and_removed_after(
        make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"crm": CRM, "sales": SALES})
    order = [str(a.address) for a in ws.plan("dev").changes]
    assert order.index("exposed_object.CRM.customers") < order.index("recipe.SALES.copy_customers")
    assert order.index("dataset.CRM.customers") < order.index("exposed_object.CRM.customers")
    apply_ok(ws)
    assert changes(ws) == []
    folder_id = ws.connection("dev").client.get_project("CRM").list_managed_folders()[0]["id"]
    assert sorted(_exposed(ws, "CRM"), key=lambda o: o["type"]) == [
        {"type": "DATASET", "localName": "customers", "rules": [{"targetProject": "SALES"}]},
        {"type": "MANAGED_FOLDER", "localName": folder_id,
         "rules": [{"targetProject": "FINANCE"}, {"targetProject": "SALES"}]}]
    recipe = ws.connection("dev").client.get_project("SALES").get_recipe("copy_customers").get_settings()
    assert recipe.get_flat_input_refs() == ["CRM.customers"]
    # the consumer stops reading it and the exposure goes: the recipe is deleted first, then the exposure
    ws = make_workspace({"crm": CRM.replace("  customers: {to: [SALES]}\n", ""),
                         "sales": SALES.replace("recipes:\n  copy_customers: {type: sync, inputs: [CRM.customers], "
                                                "outputs: [local_customers]}\n", "")})
    plan = ws.plan("dev")
    assert [(a.symbol, str(a.address)) for a in plan.changes] == [
        ("-", "recipe.SALES.copy_customers"), ("-", "exposed_object.CRM.customers")]
    apply_ok(ws)
    assert [o["type"] for o in _exposed(ws, "CRM")] == ["MANAGED_FOLDER"]
    assert changes(ws) == []


def test_a_hand_edit_of_the_targets_is_drift_and_is_restored(make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"crm": CRM, "sales": SALES})
    apply_ok(ws)
    settings = ws.connection("dev").client.get_project("CRM").get_settings()
    settings.add_exposed_object("DATASET", "customers", "MARKETING")
    settings.save()
    [item] = ws.drift("dev").items
    assert (item.address, [(c.path, c.before, c.after) for c in item.changes]) == (
        "exposed_object.CRM.customers", [("to", ["SALES"], ["MARKETING", "SALES"])])
    apply_ok(ws)
    assert not ws.drift("dev").has_drift
    [customers] = [o for o in _exposed(ws, "CRM") if o["type"] == "DATASET"]
    assert [r["targetProject"] for r in customers["rules"]] == ["SALES"]


def test_an_environment_renames_the_keys_of_both_sides(make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"crm": CRM, "sales": SALES}, workspace_yaml=RENAMED)
    plan = ws.plan("dev")
    assert "exposed_object.CRM_DEV.customers" in [str(a.address) for a in plan.changes]
    apply_ok(ws)
    assert changes(ws) == []
    objects = sorted(_exposed(ws, "CRM_DEV"), key=lambda o: o["type"])
    # keys of this workspace follow the environment; FINANCE, declared nowhere, is used as it is
    assert [[r["targetProject"] for r in o["rules"]] for o in objects] == [["SALES_DEV"], ["FINANCE", "SALES_DEV"]]
    recipe = ws.connection("dev").client.get_project("SALES_DEV").get_recipe("copy_customers").get_settings()
    assert recipe.get_flat_input_refs() == ["CRM_DEV.customers"]


def test_import_writes_the_exposures_and_replans_empty(make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"crm": CRM, "sales": SALES})
    apply_ok(ws)
    crm = ws.connection("dev").client.get_project("CRM")
    crm.create_dataset("leads", "Filesystem", params={"connection": "filesystem_managed", "path": "/leads"})
    settings = crm.get_settings()
    settings.add_exposed_object("DATASET", "leads", "SALES")
    settings.save()
    assert [u.address for u in ws.plan("dev").unmanaged] == ["dataset.CRM.leads", "exposed_object.CRM.leads"]
    # into the declared project: what it lacks is added
    run_import(ws, "CRM")
    assert "  leads:\n    to: [SALES]\n" in (ws.root / "projects" / "crm.yaml").read_text()
    ws = make_workspace()
    assert changes(ws) == [] and not ws.plan("dev").unmanaged
    # new project files: every exposure is written, and the consumer's foreign input with it
    for name in ("crm", "sales"):
        (ws.root / "projects" / f"{name}.yaml").unlink()
    run_import(ws, "CRM", "SALES")
    text = (ws.root / "projects" / "crm.yaml").read_text()
    assert ("exposed_objects:\n  customers:\n    to:\n    - SALES\n  exports:\n    to:\n    - FINANCE\n"
            "    - SALES\n") in text
    ws = make_workspace()
    assert changes(ws) == [] and not ws.plan("dev").unmanaged


@pytest.mark.parametrize(("crm", "sales", "where", "message"), [
    (CRM.replace("  customers: {to: [SALES]}\n", ""), SALES, "projects/sales.yaml:5:",
     "recipe input 'CRM.customers': project CRM does not expose 'customers' to SALES"),
    (CRM, SALES.replace("CRM.customers", "CMR.customers"), "projects/sales.yaml:5:",
     "recipe input 'CMR.customers': project CMR is not in this workspace"),
    (CRM.replace("exports: {to: [SALES, FINANCE]}", "exprots: {to: [SALES]}"), SALES, "projects/crm.yaml:8:",
     "exposed object 'exprots' names no dataset or managed folder of project CRM"),
    (CRM.replace("[SALES, FINANCE]", "[SALES, CRM]"), SALES, "projects/crm.yaml:8:",
     "exposed object 'exports' is exposed to 'CRM': its own project"),
])
def test_bad_references_are_one_line_errors_at_their_place(make_workspace: Callable[..., Workspace], crm: str,
                                                           sales: str, where: str, message: str) -> None:
    with pytest.raises(ConfigError) as e:
        make_workspace({"crm": crm, "sales": sales})
    rendered = e.value.render()
    assert rendered.startswith(where) and message in rendered and len(rendered.splitlines()) == 1, rendered


def test_the_documented_example_applies_as_docs_sharing_says(make_workspace: Callable[..., Workspace]) -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "sharing.md").read_text()
    files = dict(re.findall(r"```yaml\n# (\S+)\n(.*?)```", doc, re.S))
    workspace = files.pop("dss-iac.yaml")
    ws = make_workspace({Path(p).stem: text for p, text in files.items()}, workspace_yaml=workspace,
                        files={"wiki/crm/home.md": "# Customers\n", "wiki/crm/runbook.md": "Rebuild nightly.\n"})
    ws.connection("dev").client.create_code_env("python", "py311", "DESIGN_MANAGED")  # the doc's code env
    order = [str(a.address) for a in ws.plan("dev").changes]
    assert order.index("dataset.CRM_DEV.customers") < order.index("exposed_object.CRM_DEV.customers") \
        < order.index("recipe.SALES_DEV.pick_targets")
    apply_ok(ws)
    assert changes(ws) == []
    client = ws.connection("dev").client
    crm = client.get_project("CRM_DEV").get_settings().get_raw()
    targets = {o["type"]: [r["targetProject"] for r in o["rules"]] for o in crm["exposedObjects"]["objects"]}
    assert targets == {"DATASET": ["SALES_DEV"], "MANAGED_FOLDER": ["FINANCE", "SALES_DEV"]}
    assert crm["settings"]["codeEnvs"]["python"]["envName"] == "py311"
    recipe = client.get_project("SALES_DEV").get_recipe("pick_targets").get_settings()
    assert recipe.get_flat_input_refs() == ["CRM_DEV.customers"]


def test_adopting_a_target_added_in_dss_writes_the_key_as_the_files_name_it(
        make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"crm": CRM, "sales": SALES, "finance": "project: {key: FINANCE, name: Finance}\n"},
                        workspace_yaml=RENAMED)
    apply_ok(ws)
    settings = ws.connection("dev").client.get_project("CRM_DEV").get_settings()
    settings.add_exposed_object("DATASET", "customers", "FINANCE_DEV")
    settings.save()
    [item] = ws.drift("dev").items
    ws.adopt("dev", item)
    assert "  customers: {to: [FINANCE, SALES]}\n" in (ws.root / "projects" / "crm.yaml").read_text()
    assert not ws.drift("dev").items and changes(ws) == []


READS_EXPORTS = """\
  read_exports: {type: python, inputs: [CRM.exports], outputs: [from_exports], code: read_exports.py}
"""


@pytest.mark.parametrize("workspace_yaml", [None, RENAMED])
def test_another_projects_folder_is_read_by_its_name(make_workspace: Callable[..., Workspace],
                                                     workspace_yaml: str | None) -> None:
    sales = SALES.replace("datasets:\n", "datasets:\n  from_exports: {type: Filesystem, managed: true, connection: "
                                         "filesystem_managed, format: csv}\n") + READS_EXPORTS
    files = {"projects/read_exports.py": "print('exports')\n"}
    kwargs = {"workspace_yaml": workspace_yaml} if workspace_yaml else {}
    ws = make_workspace({"crm": CRM, "sales": sales}, files=files, **kwargs)
    crm, sales_key = ("CRM_DEV", "SALES_DEV") if workspace_yaml else ("CRM", "SALES")
    order = [str(a.address) for a in ws.plan("dev").changes]
    assert order.index(f"exposed_object.{crm}.exports") < order.index(f"recipe.{sales_key}.read_exports")
    apply_ok(ws)
    assert changes(ws) == []
    client = ws.connection("dev").client
    folder_id = client.get_project(crm).list_managed_folders()[0]["id"]
    # DSS names the folder by its id; the configuration, plans and drift by its name.
    recipe = client.get_project(sales_key).get_recipe("read_exports").get_settings()
    assert recipe.get_flat_input_refs() == [f"{crm}.{folder_id}"]
    assert not ws.drift("dev").has_drift
    if workspace_yaml:
        return
    # Imported anew, the consumer's file names the folder as the provider's file does.
    (ws.root / "projects" / "sales.yaml").unlink()
    run_import(ws, sales_key)
    text = (ws.root / "projects" / "sales.yaml").read_text()
    assert "  read_exports:\n    type: python\n    inputs:\n    - CRM.exports\n" in text
    ws = make_workspace()
    assert changes(ws) == []


def test_a_folder_the_provider_does_not_expose_is_refused(make_workspace: Callable[..., Workspace]) -> None:
    sales = SALES + READS_EXPORTS.replace("from_exports", "local_customers").replace("copy_customers", "x")
    with pytest.raises(ConfigError) as e:
        make_workspace({"crm": CRM.replace("exports: {to: [SALES, FINANCE]}", "exports: {to: [FINANCE]}"),
                        "sales": sales.replace("  copy_customers: {type: sync, inputs: [CRM.customers], outputs: "
                                               "[local_customers]}\n", "")},
                       files={"projects/read_exports.py": "print('exports')\n"})
    assert "recipe input 'CRM.exports': project CRM does not expose 'exports' to SALES" in e.value.render()
