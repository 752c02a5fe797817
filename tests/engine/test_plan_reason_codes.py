"""Why each action is planned, for machines: `reason_code` in `plan --json` and saved plans, beside the sentence for
people; plans saved before the codes existed still apply."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from dataiku_iac import ActionReason, Plan, Workspace
from dataiku_iac.cli.main import main
from tests.engine.conftest import churn_flow

FLOW = churn_flow("kept", "described", "flipped", "dropped", "deleted_by_hand", "edited_by_hand")


def _plan_json(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    capsys.readouterr()
    assert main(["-C", str(root), "plan", "-e", "dev", "--json", *args]) in (0, 2)
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def drifted(make_workspace: Callable[..., Workspace], tmp_path: Path) -> Path:
    """CHURN applied, then changed on both sides: in the files (a description, `managed` flipped, a dataset
    removed, one added) and in DSS by hand (a dataset deleted, another's description edited)."""
    ws = make_workspace({"churn": FLOW})
    assert ws.apply(ws.plan("dev")).ok
    project = ws.connection("dev").client.get_project("CHURN")
    project.get_dataset("deleted_by_hand").delete()
    settings = project.get_dataset("edited_by_hand").get_settings()
    settings.get_raw()["description"] = "edited in the UI"
    settings.save()
    edited = (FLOW.replace("  described: {type: Filesystem,", "  described: {description: new, type: Filesystem,")
              .replace("  flipped: {type: Filesystem, managed: true", "  flipped: {type: Filesystem, managed: false")
              .replace("  dropped: {type: Filesystem, managed: true, connection: filesystem_managed, format: csv}\n",
                       "  added: {type: Filesystem, managed: true, connection: filesystem_managed, format: csv}\n"))
    make_workspace({"churn": edited}).close()
    return tmp_path


def test_plan_json_gives_each_action_a_reason_code_beside_its_sentence(
        drifted: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = _plan_json(drifted, capsys)
    got = {a["address"]: (a["action"], a["reason_code"], a["reason"]) for a in plan["actions"]}
    assert got == {
        "project.CHURN": ("no-op", "up_to_date", "up to date"),
        "dataset.CHURN.kept": ("no-op", "up_to_date", "up to date"),
        "managed_folder.CHURN.models": ("no-op", "up_to_date", "up to date"),
        "dataset.CHURN.added": ("create", "not_in_dss", "not in DSS"),
        "dataset.CHURN.deleted_by_hand": ("create", "deleted_outside", "deleted outside dss-iac"),
        "dataset.CHURN.described": ("update", "config_changed", "config changed"),
        "dataset.CHURN.edited_by_hand": ("update", "changed_outside", "changed outside dss-iac"),
        "dataset.CHURN.flipped": ("replace", "cannot_update", "managed cannot change in place"),
        "dataset.CHURN.dropped": ("delete", "removed_from_config", "removed from the config"),
    }
    # The code is the stable key (the enum's value); the sentence says the same.
    assert all(ActionReason.of_text(reason) is ActionReason(code) for _, code, reason in got.values())


def test_destroy_says_what_goes_with_its_project(drifted: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = _plan_json(drifted, capsys, "--destroy")
    codes = {a["address"]: a["reason_code"] for a in plan["actions"]}
    assert codes.pop("project.CHURN") == "removed_from_config"
    assert codes.pop("dataset.CHURN.deleted_by_hand") == "already_gone"
    assert set(codes.values()) == {"deleted_with_project"}


def test_a_plan_saved_without_reason_codes_still_applies(drifted: Path, capsys: pytest.CaptureFixture[str]) -> None:
    saved = drifted / "old.plan"
    assert main(["-C", str(drifted), "plan", "-e", "dev", "--out", str(saved)]) in (0, 2)
    data = json.loads(saved.read_text())
    for action in data["actions"]:  # as dss-iac wrote plans before the codes
        del action["reason_code"]
    saved.write_text(json.dumps(data, indent=2))
    old = Plan.from_dict(json.loads(saved.read_text()))
    assert {str(a.address): a.reason_code for a in old.changes} == {
        "dataset.CHURN.added": ActionReason.NOT_IN_DSS, "dataset.CHURN.deleted_by_hand": ActionReason.DELETED_OUTSIDE,
        "dataset.CHURN.described": ActionReason.CONFIG_CHANGED,
        "dataset.CHURN.edited_by_hand": ActionReason.CHANGED_OUTSIDE,
        "dataset.CHURN.flipped": ActionReason.CANNOT_UPDATE, "dataset.CHURN.dropped": ActionReason.REMOVED_FROM_CONFIG}
    assert main(["-C", str(drifted), "apply", str(saved), "--yes"]) == 0
    assert main(["-C", str(drifted), "plan", "-e", "dev", "--detailed-exitcode"]) == 0
