"""`dss-iac preview`: a pull request's projects under keys suffixed by its branch, remapped like the environment,
variables overridable, with a state of their own, so that creating, updating and destroying a preview never
touches the environment's own projects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dataiku_iac import Workspace
from dataiku_iac.cli import exit_codes
from dataiku_iac.cli.main import main
from tests.engine.conftest import embedded_workspace, write_workspace

DEV = {"project_key": "{key}_DEV", "remap": {"connections": {"lake": "filesystem_managed"}},
       "variables": {"threshold": "0.3"}, "protected": True, "approval": "govern"}
WORKSPACE = embedded_workspace(dev=DEV, prod={})
ORDERS = """\
project:
  key: ORDERS
  name: Orders
  variables: {standard: {threshold: "0.5", region: emea}}
datasets:
  raw: {type: Filesystem, connection: lake, params: {path: /orders}}
  clean: {type: Filesystem, connection: lake, params: {path: /orders/clean}}
recipes:
  cleanup: {type: sync, inputs: [raw], outputs: [clean]}
exposed_objects:
  clean: {to: [TOTALS]}
"""
TOTALS = """\
project: {key: TOTALS, name: Totals}
datasets:
  daily: {type: Filesystem, connection: lake, params: {path: /totals}}
recipes:
  sum_up: {type: sync, inputs: [ORDERS.clean], outputs: [daily]}
"""


def run(root: Path, *args: str) -> int:
    return main(["-C", str(root), *args])


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """dev applied (its real projects ORDERS_DEV and TOTALS_DEV), directly through the core."""
    root = write_workspace(tmp_path, {"orders": ORDERS, "totals": TOTALS}, WORKSPACE)
    with Workspace.load(root) as w:
        plan = w.plan("dev")
        # dev asks Govern for a sign-off: approve its first plan there, as a reviewer would.
        gate = w.request_approval(plan)
        assert gate is not None
        w.embedded().govern_client().get_artifact(gate.approvals[0].artifact_id).get_signoff("review").add_approval(
            "APPROVED")
        assert w.apply(plan).ok
    return root


def real_projects(root: Path) -> tuple[set[str], int, dict[str, object]]:
    """dev's projects in DSS, the serial of dev's state, and one of its objects as DSS holds it."""
    with Workspace.load(root) as w:
        client = w.connection("dev").client
        keys = {k for k in client.list_project_keys() if k.endswith("_DEV")}
        raw = client.get_project("ORDERS_DEV").get_dataset("raw").get_settings().get_raw()["params"]
        return keys, w.state("dev").serial, raw


def test_a_preview_is_the_projects_under_keys_suffixed_by_the_branch(ws: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    before = real_projects(ws)
    capsys.readouterr()
    assert run(ws, "preview", "-e", "dev", "--name", "feature/Bigger-Orders", "--var", "threshold=0.9",
               "--yes") == 0
    out = capsys.readouterr().out
    assert "in environment dev@feature-bigger-orders" in out
    assert "Apply complete! Resources: 9 added" in out
    assert "Preview feature-bigger-orders of dev: open the flows in DSS:" in out
    assert "  ORDERS -> ORDERS_DEV_FEATURE_BIGGER_ORDERS  http://" in out
    assert out.rstrip().endswith("/projects/TOTALS_DEV_FEATURE_BIGGER_ORDERS/flow/")
    with Workspace.load(ws) as w:
        client = w.connection("dev").client
        copy = client.get_project("ORDERS_DEV_FEATURE_BIGGER_ORDERS")
        assert copy.get_variables()["standard"] == {"threshold": "0.9", "region": "emea"}
        assert copy.get_dataset("raw").get_settings().get_raw()["params"]["connection"] == "filesystem_managed"
        # A reference to another project of the workspace points at its preview copy.
        recipe = client.get_project("TOTALS_DEV_FEATURE_BIGGER_ORDERS").get_recipe("sum_up").get_settings()
        assert recipe.get_recipe_raw_definition()["inputs"]["main"]["items"][0]["ref"] == \
            "ORDERS_DEV_FEATURE_BIGGER_ORDERS.clean"
    assert real_projects(ws) == before  # the environment's own projects and state: untouched
    assert run(ws, "plan", "-e", "dev", "--detailed-exitcode") == 0
    capsys.readouterr()

    assert run(ws, "preview", "--list") == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[1].split()[:5] == ["dev", "feature-bigger-orders", "ORDERS_DEV_FEATURE_BIGGER_ORDERS,",
                                     "TOTALS_DEV_FEATURE_BIGGER_ORDERS", "9"]
    assert run(ws, "preview", "--list", "-e", "dev", "--json") == 0
    [info] = json.loads(capsys.readouterr().out)["previews"]
    assert (info["name"], info["resources"]) == ("feature-bigger-orders", 9)


def test_a_push_updates_the_preview_and_destroy_removes_it_alone(ws: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert run(ws, "preview", "-e", "dev", "--name", "fix-1", "--yes") == 0
    (ws / "projects" / "orders.yaml").write_text(ORDERS.replace("region: emea", "region: apac"))
    capsys.readouterr()
    assert run(ws, "preview", "-e", "dev", "--name", "fix-1", "--yes", "--json") == 0
    assert json.loads(capsys.readouterr().out)["projects"]["ORDERS"]["key"] == "ORDERS_DEV_FIX_1"
    with Workspace.load(ws) as w:
        assert w.connection("dev").client.get_project("ORDERS_DEV_FIX_1").get_variables()["standard"]["region"] == \
            "apac"
    assert real_projects(ws)[2]["path"] == "/orders"  # the real ORDERS_DEV still has what dev applied
    (ws / "projects" / "orders.yaml").write_text(ORDERS)

    before = real_projects(ws)
    assert run(ws, "preview", "-e", "dev", "--name", "fix-1", "--destroy", "--yes") == 0
    out = capsys.readouterr().out
    assert "Plan: 0 to add, 0 to change, 9 to destroy." in out
    assert "Preview fix-1 of dev destroyed; the projects of dev were not touched." in out
    with Workspace.load(ws) as w:
        keys = set(w.connection("dev").client.list_project_keys())
    assert "ORDERS_DEV_FIX_1" not in keys and "TOTALS_DEV_FIX_1" not in keys
    assert real_projects(ws) == before
    assert run(ws, "preview", "--list") == 0
    assert capsys.readouterr().out == "No previews.\n"
    # The close pipeline may run twice: nothing left, nothing to do.
    assert run(ws, "preview", "-e", "dev", "--name", "fix-1", "--destroy", "--yes") == 0
    assert capsys.readouterr().out == "No preview fix-1 of dev: nothing to destroy.\n"


def test_destroying_a_preview_never_touches_the_real_projects(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Even a preview state edited to hold a real project's address: the apply refuses it, nothing is deleted."""
    assert run(ws, "preview", "-e", "dev", "--name", "fix-2", "--yes") == 0
    with Workspace.load(ws) as w:
        preview = w.branch_preview("dev", "fix-2")
        real = w.state("dev").resources["dataset.ORDERS_DEV.raw"]
        with w.locked_state(preview.env_name, "edit") as (store, state, _):
            state.resources["dataset.ORDERS_DEV.raw"] = real
            store.commit(state, "edit")
    before = real_projects(ws)
    capsys.readouterr()
    assert run(ws, "preview", "-e", "dev", "--name", "fix-2", "--destroy", "--yes") == 1
    err = capsys.readouterr().err
    assert "refusing to apply preview fix-2 of dev: it would change dataset.ORDERS_DEV.raw, outside its projects" in err
    assert real_projects(ws) == before


def test_previews_are_refused_where_they_cannot_be_told_apart(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(ws, "preview", "-e", "prod", "--name", "x", "--yes") == exit_codes.INVALID
    assert "environment prod receives projects by bundle: previews are applied" in capsys.readouterr().err
    text = (ws / "dss-iac.yaml").read_text().replace("    deploy: bundle\n", '    project_key: "{key}_DEV_QA"\n')
    (ws / "dss-iac.yaml").write_text(text)
    assert run(ws, "preview", "-e", "dev", "--name", "qa", "--yes") == exit_codes.INVALID
    assert "would put project ORDERS under key ORDERS_DEV_QA, which environment prod uses" in capsys.readouterr().err
    assert run(ws, "preview", "-e", "dev", "--yes") == exit_codes.USAGE
    assert run(ws, "preview", "-e", "dev", "--name", "x", "--var", "threshold") == exit_codes.USAGE
    assert run(ws, "preview", "-e", "dev", "--name", "///", "--yes") == exit_codes.ERROR


def test_markdown_prints_the_links_only(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(ws, "preview", "-e", "dev", "--name", "feature/x", "--yes", "--markdown") == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("### 🔍 Preview `feature-x` on `dev`\n\n| project | preview in DSS |\n")
    assert "| `ORDERS` | [ORDERS_DEV_FEATURE_X](http://" in captured.out and "Plan:" not in captured.out
    assert "Plan: 9 to add, 0 to change, 0 to destroy." in captured.err


def test_long_branch_names_stay_apart() -> None:
    from dataiku_iac.preview import preview_name

    one = preview_name("feature/" + "a" * 60 + "-one")
    two = preview_name("feature/" + "a" * 60 + "-two")
    assert one != two and len(one) == len(two) == 40
    assert preview_name("Feature/Orders_V2") == "feature-orders-v2"
