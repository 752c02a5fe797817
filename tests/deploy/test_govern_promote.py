"""Govern on a bundle environment: `approval: govern` and the deployer infrastructure's Govern check policy
(`govern_check`, planned like any setting). Each bundle is approved on the Govern artifact the Project Deployer's
own check reads; promote refuses (exit 8) before exporting anything until every bundle it deploys is approved."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from dataiku_iac import Workspace
from dataiku_iac.cli import exit_codes
from dataiku_iac.deploy import plan_promotion, render_promotion
from tests.deploy.conftest import CHURN, Promo
from tests.deploy.test_promote import bundle_of, change_project
from tests.govern.conftest import bundle_artifacts


def set_prod(promo: Promo, line: str) -> None:
    """Add a setting to the prod environment, committed."""
    text = (promo.root / "dss-iac.yaml").read_text().replace("    deploy: bundle\n", f"    deploy: bundle\n{line}\n")
    promo.write({"dss-iac.yaml": text})
    promo.commit(f"prod: {line.strip()}")


def artifacts(promo: Promo) -> list[dict[str, Any]]:
    return bundle_artifacts(promo.sim.govern_client())


def approve(promo: Promo, artifact_id: str, decision: str = "APPROVED", comment: str = "") -> None:
    promo.sim.govern_client().get_artifact(artifact_id).get_signoff("review").add_approval(decision, comment)


def infra_policy(promo: Promo) -> str:
    return str(promo.deployer.get_infra("prod").get_settings().get_raw()["governCheckPolicy"])


def test_a_gated_promotion_waits_for_the_bundle_to_be_approved(promo: Promo,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    set_prod(promo, "    approval: govern")
    promo.apply_dev()
    bundle = bundle_of(promo)
    capsys.readouterr()
    assert promo.run("promote", "--from", "dev", "--to", "prod", "--yes") == exit_codes.SIGN_OFF
    captured = capsys.readouterr()
    assert "govern:           no approval requested yet (dss-iac approvals request opens it)" in captured.out
    assert "Govern: approval: govern; 1 of 1 bundle(s) not approved yet." in captured.out
    assert (f"error: environment prod needs a Govern sign-off (approval: govern): bundle {bundle} of project CHURN: "
            "no approval requested in Govern yet; `dss-iac approvals request -e prod` opens the request"
            ) in captured.err
    # Refused before anything was exported, published or deployed.
    assert promo.design.get_project("CHURN").list_exported_bundles()["bundles"] == []
    assert "CHURN" not in promo.prod.list_project_keys()

    assert promo.run("approvals", "request", "-e", "prod") == 0
    assert promo.run("approvals", "request", "-e", "prod") == 0  # the same bundle: the same request
    [artifact] = artifacts(promo)
    assert artifact["fields"]["published_project_key"] == "CHURN" and artifact["fields"]["bundle_id"] == bundle
    assert artifact["name"] == f"CHURN bundle {bundle}"
    assert "# project CHURN: deployment churn-prod will be created" in artifact["fields"]["description"]
    out = capsys.readouterr().out
    assert f"Requested: bundle {bundle} of project CHURN: pending (WAITING_FOR_APPROVAL)" in out

    assert promo.run("promote", "--from", "dev", "--to", "prod", "--yes") == exit_codes.SIGN_OFF
    assert "waits for the final approval of admin (group administrators)" in capsys.readouterr().err
    approve(promo, artifact["id"], comment="released")
    assert promo.run("promote", "--from", "dev", "--to", "prod", "--yes") == 0
    out = capsys.readouterr().out
    assert "govern:           bundle approved by admin" in out
    assert promo.active_bundle() == bundle
    # The Project Deployer reads the same artifact.
    status = promo.deployer.get_deployment("churn-prod").get_governance_status(bundle)
    assert [m["severity"] for m in status["messages"]] == ["INFO"]  # the infra checks nothing: dss-iac did

    # A new commit is a new bundle: it needs its own approval; rolling back to the approved one does not.
    change_project(promo, CHURN.replace("Nightly build", "Nightly rebuild"))
    assert promo.run("promote", "--from", "dev", "--to", "prod", "--yes") == exit_codes.SIGN_OFF
    assert promo.run("promote", "--from", "dev", "--to", "prod", "--bundle", bundle, "--yes") == 0
    assert len(artifacts(promo)) == 1


def test_prevent_is_planned_set_and_gates_the_promotion(promo: Promo, capsys: pytest.CaptureFixture[str]) -> None:
    set_prod(promo, "    govern_check: PREVENT")
    promo.apply_dev()
    bundle = bundle_of(promo)
    capsys.readouterr()
    assert promo.run("promote", "--from", "dev", "--to", "prod") == exit_codes.SIGN_OFF
    out = capsys.readouterr().out
    assert "  # infrastructure prod: its settings will be updated on the Project Deployer\n" \
           '      ~ governCheckPolicy = "NO_CHECK" -> "PREVENT"\n' in out
    assert ("Govern: infrastructure prod deploys approved bundles only (governCheckPolicy PREVENT); 1 of 1 bundle(s) "
            "not approved yet.") in out
    assert infra_policy(promo) == "NO_CHECK"  # nothing written before the gate opens

    assert promo.run("approvals", "request", "-e", "prod", "--json") == 0
    gate = json.loads(capsys.readouterr().out)["gate"]
    approve(promo, gate["approvals"][0]["artifact_id"])
    assert promo.run("promote", "--from", "dev", "--to", "prod", "--yes") == 0
    assert infra_policy(promo) == "PREVENT" and promo.active_bundle() == bundle
    capsys.readouterr()
    assert promo.run("promote", "--from", "dev", "--to", "prod") == 0
    assert capsys.readouterr().out.startswith("No changes.")  # the policy and the deployment: as configured

    # By hand in the deployer: the next plan puts it back.
    settings = promo.deployer.get_infra("prod").get_settings()
    settings.get_raw()["governCheckPolicy"] = "WARN"
    settings.save()
    with Workspace.load(promo.root) as ws:
        plan = plan_promotion(ws, "dev", "prod")
    assert plan.has_changes and [c.to_dict()["after"] for c in plan.infra_changes] == ["PREVENT"]
    assert "Promotion: 0 project(s) to deploy, 1 unchanged" in render_promotion(plan)


def test_warn_shows_the_status_and_deploys_once_the_plan_is_approved(promo: Promo,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    set_prod(promo, "    govern_check: WARN")
    promo.apply_dev()
    capsys.readouterr()
    assert promo.run("promote", "--from", "dev", "--to", "prod", "--yes") == 0
    out = capsys.readouterr().out
    assert "govern:           no approval requested yet" in out
    # Not gated: a warning to read, not a sign-off to wait for.
    assert ("    warning: infrastructure prod warns about unapproved bundles (governCheckPolicy WARN): approving this "
            "plan deploys it anyway\n") in out
    assert "\nGovern:" not in out
    health = promo.deployer.get_deployment("churn-prod").get_status().get_health()
    assert health == "WARNING" and promo.active_bundle() == bundle_of(promo)
    assert artifacts(promo) == []


def test_promote_waits_for_the_approval(promo: Promo, capsys: pytest.CaptureFixture[str]) -> None:
    set_prod(promo, "    approval: govern")
    promo.apply_dev()

    def reviewer() -> None:
        deadline = time.monotonic() + 60
        gov = promo.sim.govern_client()
        while time.monotonic() < deadline:
            found = artifacts(promo)
            signoff = gov.get_artifact(found[0]["id"]).get_signoff("review") if found else None
            if signoff is not None and signoff.get_details().get_raw()["status"] == "WAITING_FOR_APPROVAL":
                approve(promo, found[0]["id"])
                return
            time.sleep(0.05)

    thread = threading.Thread(target=reviewer)
    thread.start()
    try:
        code = promo.run("promote", "--from", "dev", "--to", "prod", "--yes", "--wait-approval", "1m")
    finally:
        thread.join()
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert f"Requested: bundle {bundle_of(promo)} of project CHURN" in captured.err
    assert "Govern: approved (1 sign-off(s))" in captured.err
    assert promo.active_bundle() == bundle_of(promo)


def test_approvals_lists_the_bundles_of_the_environments_projects(promo: Promo,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    set_prod(promo, "    approval: govern")
    promo.apply_dev()
    assert promo.run("approvals", "request", "-e", "prod") == 0
    approve(promo, artifacts(promo)[0]["id"], "REJECTED", "wait for the audit")
    capsys.readouterr()
    assert promo.run("approvals", "-e", "prod") == 0
    out = capsys.readouterr().out
    assert f"bundle {bundle_of(promo)} of project CHURN: rejected (REJECTED)" in out
    assert 'decision:  admin: REJECTED: "wait for the audit"' in out
    assert promo.run("promote", "--from", "dev", "--to", "prod", "--yes") == exit_codes.SIGN_OFF
    assert 'rejected by admin: "wait for the audit"' in capsys.readouterr().err
