"""Promotion inside the workspace's embedded DSS: `dev` on its design node, `prod` on its `prod` automation node,
with project-key patterns and a per-environment override of scenario activation."""

from __future__ import annotations

from pathlib import Path

import pytest

from dataiku_iac import Workspace
from dataiku_iac.cli.main import main
from dataiku_iac.deploy import plan_promotion, promote
from tests.engine.conftest import embedded_workspace, write_workspace

REMAP = {"connections": {"files": "filesystem_managed"}}
OVERRIDES = {"scenario.*.*": {"active": False}, "variables.*": {"local": {"env": "prod"}}}
WORKSPACE = embedded_workspace(dev={"project_key": "{key}_DEV", "remap": REMAP},
                               prod={"project_key": "{key}_PROD", "remap": REMAP, "overrides": OVERRIDES})

SALES = """\
project: {key: SALES, name: Sales}
datasets:
  orders: {type: Filesystem, managed: true, connection: files, format: csv}
scenarios:
  hourly:
    triggers: [{type: temporal, frequency: Hourly}]
    steps: [{type: build, items: [orders]}]
"""


def test_promotion_between_nodes_of_the_embedded_dss(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_workspace(tmp_path / "ws", {"sales": SALES}, WORKSPACE, git=True)
    assert main(["-C", str(root), "apply", "-e", "dev", "--yes"]) == 0
    capsys.readouterr()
    assert main(["-C", str(root), "promote", "--from", "dev", "--to", "prod", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "bundle:           git-" in out and "(new: exported from SALES_DEV on dev, then published)" in out
    assert "deployed project: SALES_PROD on prod" in out
    assert "+ scenariosToActivate.HOURLY = false" in out

    with Workspace.load(root) as ws:
        prod = ws.connection("prod").client
        assert ws.connection("prod").client.get_instance_info().node_type == "AUTOMATION"
        project = prod.get_project("SALES_PROD")
        assert [d.name for d in project.list_datasets()] == ["orders"]
        assert project.get_variables()["local"] == {"env": "prod"}
        assert project.get_scenario("HOURLY").get_settings().active is False  # dev's scenario is active
        assert ws.connection("dev").client.get_project("SALES_DEV").get_scenario("HOURLY").get_settings().active
        deployment = ws.connection("dev").client.get_projectdeployer().get_deployment("sales-prod")
        raw = deployment.get_settings().get_raw()
        assert (raw["infraId"], raw["publishedProjectKey"], raw["deployedProjectKey"]) == ("prod", "SALES",
                                                                                           "SALES_PROD")
    capsys.readouterr()
    rc = main(["-C", str(root), "promote", "--from", "dev", "--to", "prod"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert out.startswith("No changes.")


def test_projects_are_promoted_after_those_they_read_from(tmp_path: Path) -> None:
    report = """\
    project: {key: AREPORT, name: Report}
    datasets:
      summary: {type: Filesystem, managed: true, connection: files, format: csv}
    recipes:
      summarise: {type: sync, inputs: [ZBASE.orders], outputs: [summary]}
    """
    base = SALES.replace("key: SALES, name: Sales", "key: ZBASE, name: Base")
    base += "exposed_objects:\n  orders: {to: [AREPORT]}\n"  # AREPORT reads it
    workspace = embedded_workspace(dev={"remap": REMAP}, prod={"remap": REMAP, "overrides": OVERRIDES})
    root = write_workspace(tmp_path / "ws", {"report": report, "base": base}, workspace, git=True)
    assert main(["-C", str(root), "apply", "-e", "dev", "--yes"]) == 0
    with Workspace.load(root) as ws:
        plan = plan_promotion(ws, "dev", "prod")
        assert [p.key for p in plan.projects] == ["ZBASE", "AREPORT"]
        assert [p.key for p in plan_promotion(ws, "dev", "prod", ["AREPORT"]).projects] == ["AREPORT"]
        result = promote(ws, plan)
    assert [(p.project, p.status) for p in result.projects] == [("ZBASE", "deployed"), ("AREPORT", "deployed")]
