"""`approval: govern` on a direct environment: one Govern artifact per plan, apply refused (exit 8) until its
sign-off is approved, the approval bound to the exact plan, `approvals` listing every request."""

from __future__ import annotations

import json
import threading
import time

import pytest

from dataiku_iac import Workspace
from dataiku_iac.cli import exit_codes
from dataiku_iac.errors import SignOffError
from tests.govern.conftest import SALES, Gov


def projects(gov: Gov) -> set[str]:
    return set(gov.sim.client().list_project_keys())


def test_apply_is_refused_until_the_plan_is_approved_in_govern(gov: Gov, capsys: pytest.CaptureFixture[str]) -> None:
    assert gov.run("apply", "-e", "prod", "--yes") == exit_codes.SIGN_OFF
    err = capsys.readouterr().err
    assert "environment prod needs a Govern sign-off (approval: govern)" in err
    assert "no approval requested in Govern yet; `dss-iac approvals request -e prod` opens the request" in err
    assert "SALES" not in projects(gov) and gov.artifacts() == []  # refusing opens nothing, writes nothing

    assert gov.run("approvals", "request", "-e", "prod") == 0
    out = capsys.readouterr().out
    [artifact] = gov.artifacts()
    url = f"{gov.sim.url('govern')}/artifact/{artifact['id']}"
    assert out.startswith("Requested: the plan ")
    assert f"pending (WAITING_FOR_APPROVAL): sign-off 'review' of {url} waits for the final approval of admin " \
           "(group administrators)" in out

    assert gov.run("apply", "-e", "prod", "--yes") == exit_codes.SIGN_OFF
    err = capsys.readouterr().err
    assert "waits for the final approval of admin (group administrators); run apply again once it is approved" in err
    assert url in err and "SALES" not in projects(gov)

    gov.review(artifact["id"], comment="ship it")
    assert gov.run("apply", "-e", "prod", "--yes") == 0
    captured = capsys.readouterr()
    assert "Govern: approved (1 sign-off(s))" in captured.err
    assert "Apply complete! Resources: 3 added" in captured.out
    assert "SALES" in projects(gov)
    assert gov.run("plan", "-e", "prod", "--detailed-exitcode") == 0  # nothing left: no approval asked either


def test_the_request_is_an_artifact_on_its_review_step_holding_the_plan_and_its_commit(
        gov: Gov, capsys: pytest.CaptureFixture[str]) -> None:
    gov.repo.create_remote("origin", "git@github.com:acme/sales.git")
    assert gov.run("approvals", "request", "-e", "prod") == 0
    [artifact] = gov.artifacts()
    with Workspace.load(gov.root) as ws:
        fingerprint = ws.plan("prod").fingerprint
    short = fingerprint.removeprefix("sha256:")[:16]
    assert artifact["name"] == f"dss-iac prod: 3 to add, 0 to change, 0 to destroy [dss-iac:prod:{short}]"
    assert artifact["blueprintVersionId"] == {"blueprintId": "bp.system.govern_bundle",
                                              "versionId": "bv.system.default"}
    assert artifact["status"]["stepId"] == "review"  # where its reviewers look for it
    assert artifact["workflow"]["steps"]["development"]["status"] == "FINISHED"
    description = artifact["fields"]["description"]
    sha = gov.repo.head.commit.hexsha
    assert f"Commit: [{sha[:12]}](https://github.com/acme/sales/commit/{sha})." in description
    assert f"Plan fingerprint: `{fingerprint}`" in description
    assert "### dss-iac plan: `prod`" in description and "`dataset.SALES.orders`" in description
    signoff = gov.govern.get_artifact(artifact["id"]).get_signoff("review").get_details().get_raw()
    assert signoff["status"] == "WAITING_FOR_APPROVAL" and signoff["approvers"] == ["admin"]


def test_asking_again_for_the_same_plan_opens_nothing_new(gov: Gov, capsys: pytest.CaptureFixture[str]) -> None:
    assert gov.run("approvals", "request", "-e", "prod") == 0
    assert gov.run("approvals", "request", "-e", "prod") == 0
    assert gov.run("apply", "-e", "prod", "--yes", "--wait-approval", "0") == exit_codes.SIGN_OFF
    assert len(gov.artifacts()) == 1
    [artifact] = gov.artifacts()
    gov.review(artifact["id"])
    assert gov.run("approvals", "request", "-e", "prod") == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("Already approved: the plan ")
    assert len(gov.artifacts()) == 1


def test_two_runs_asking_at_once_keep_one_request(gov: Gov) -> None:
    """A run that created its artifact while another run created one for the same plan keeps the older one."""
    from dataiku_iac.govern.requests import _create
    from dataiku_iac.govern.subjects import plan_subject

    with Workspace.load(gov.root) as ws:
        plan = ws.plan("prod")
        link = ws.govern("prod")
        subject = plan_subject(plan)
        theirs = _create(link, subject, "the other run's request")
        ours = _create(link, subject, "this run's request")
    assert ours["id"] == theirs["id"]
    assert [a["id"] for a in gov.artifacts()] == [theirs["id"]]


def test_an_approval_holds_for_its_plan_only(gov: Gov, capsys: pytest.CaptureFixture[str]) -> None:
    assert gov.run("approvals", "request", "-e", "prod") == 0
    [first] = gov.artifacts()
    gov.review(first["id"])
    # The configuration changes after the approval: the plan is another one, which nobody approved.
    gov.write({"projects/sales.yaml": SALES.replace("region: emea", "region: apac")})
    capsys.readouterr()
    assert gov.run("apply", "-e", "prod", "--yes") == exit_codes.SIGN_OFF
    assert "no approval requested in Govern yet" in capsys.readouterr().err
    assert "SALES" not in projects(gov)
    # Back to what was approved: the same plan, the same approval.
    gov.write({"projects/sales.yaml": SALES})
    assert gov.run("apply", "-e", "prod", "--yes") == 0


def test_dss_changing_after_the_approval_needs_a_new_one(gov: Gov, capsys: pytest.CaptureFixture[str]) -> None:
    gov.sim.client().create_project("SALES", "Sales, made by hand", "admin")
    assert gov.run("approvals", "request", "-e", "prod") == 0
    [first] = gov.artifacts()
    gov.review(first["id"])
    gov.sim.client().get_project("SALES").set_variables({"standard": {"region": "latam"}, "local": {}})
    assert gov.run("apply", "-e", "prod", "--yes") == exit_codes.SIGN_OFF
    assert "no approval requested in Govern yet" in capsys.readouterr().err


def test_a_saved_plan_is_gated_too(gov: Gov, capsys: pytest.CaptureFixture[str]) -> None:
    assert gov.run("plan", "-e", "prod", "--out", "prod.plan") == 0
    assert gov.run("apply", "prod.plan") == exit_codes.SIGN_OFF
    assert gov.run("approvals", "request", "-e", "prod") == 0
    gov.review(gov.artifacts()[0]["id"])
    assert gov.run("apply", "prod.plan") == 0
    assert "SALES" in projects(gov)


def test_the_python_api_refuses_too(gov: Gov) -> None:
    with Workspace.load(gov.root) as ws:
        plan = ws.plan("prod")
        gate = ws.approval_gate(plan)
        assert gate is not None and not gate.open and gate.unrequested
        with pytest.raises(SignOffError) as refused:
            ws.apply(plan)
        assert refused.value.gate == gate and refused.value.exit_code == 8
        assert ws.approval_gate(ws.plan("dev")) is None  # dev asks for no sign-off
        gate = ws.request_approval(plan)
        assert gate is not None and gate.approvals[0].status.value == "pending"
    assert "SALES" not in projects(gov)


def test_a_rejection_names_who_and_why(gov: Gov, capsys: pytest.CaptureFixture[str]) -> None:
    assert gov.run("approvals", "request", "-e", "prod") == 0
    [artifact] = gov.artifacts()
    gov.review(artifact["id"], "REJECTED", "not during the freeze")
    capsys.readouterr()
    assert gov.run("apply", "-e", "prod", "--yes", "--wait-approval", "30m") == exit_codes.SIGN_OFF
    err = capsys.readouterr().err
    assert 'rejected by admin: "not during the freeze"' in err
    assert "a rejected change needs a new plan (or a reset of the sign-off in Govern)" in err


def test_apply_waits_for_the_approval(gov: Gov, capsys: pytest.CaptureFixture[str]) -> None:
    """--wait-approval opens the request and waits; a reviewer approves it meanwhile."""
    def reviewer() -> None:
        """Approves the request once it waits for approval, as a reviewer notified by Govern would."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = gov.artifacts()
            signoff = gov.govern.get_artifact(found[0]["id"]).get_signoff("review") if found else None
            if signoff is not None and signoff.get_details().get_raw()["status"] == "WAITING_FOR_APPROVAL":
                gov.review(found[0]["id"], comment="approved while it waited")
                return
            time.sleep(0.05)

    thread = threading.Thread(target=reviewer)
    thread.start()
    try:
        code = gov.run("apply", "-e", "prod", "--yes", "--wait-approval", "1m")
    finally:
        thread.join()
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Requested: the plan " in captured.err
    # The reviewer may approve before the first look of the wait (its wording is in test_pass_gate.py).
    assert "Waiting for Govern" in captured.err
    assert "Govern: approved (1 sign-off(s))" in captured.err
    assert "SALES" in projects(gov)


def test_waiting_gives_up_after_its_time(gov: Gov, capsys: pytest.CaptureFixture[str]) -> None:
    assert gov.run("apply", "-e", "prod", "--yes", "--wait-approval", "0") == exit_codes.SIGN_OFF
    err = capsys.readouterr().err
    assert "Requested: the plan " in err
    assert "still not approved after 0s: environment prod needs a Govern sign-off" in err
    assert len(gov.artifacts()) == 1 and "SALES" not in projects(gov)


def test_approvals_lists_every_request_with_reviewers_and_comments(gov: Gov,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert gov.run("approvals", "-e", "prod") == 0
    assert capsys.readouterr().out.startswith("No approval requests for environment prod in Govern")
    assert gov.run("approvals", "request", "-e", "prod") == 0
    gov.review(gov.artifacts()[0]["id"], "REJECTED", "too early",
               feedback=("risk_compliance", "MAJOR_ISSUE", "no rollback plan"))
    gov.write({"projects/sales.yaml": SALES.replace("region: emea", "region: apac")})
    assert gov.run("approvals", "request", "-e", "prod") == 0
    gov.write({"projects/sales.yaml": SALES.replace("region: emea", "region: amer")})
    assert gov.run("approvals", "request", "-e", "prod") == 0
    gov.review(gov.artifacts()[2]["id"], comment="fine")
    capsys.readouterr()

    assert gov.run("approvals", "-e", "prod") == 0
    out = capsys.readouterr().out
    assert out.count("the plan ") == 3
    assert "\n  feedback:  admin (risk_compliance): MAJOR_ISSUE: \"no rollback plan\"" in out
    assert '\n  decision:  admin: REJECTED: "too early"' in out
    assert '\n  decision:  admin: APPROVED: "fine"' in out
    assert out.rstrip().endswith("1 pending, 1 approved, 1 rejected.")

    assert gov.run("approvals", "-e", "prod", "--json") == 0
    listed = json.loads(capsys.readouterr().out)["approvals"]
    assert [a["status"] for a in listed] == ["rejected", "pending", "approved"]
    assert listed[0]["feedback"][0] == {"user": "admin", "status": "MAJOR_ISSUE", "comment": "no rollback plan",
                                       "group": "risk_compliance", "when": listed[0]["feedback"][0]["when"]}
    assert listed[2]["decision"]["comment"] == "fine"
    assert listed[2]["url"].endswith(f"/artifact/{listed[2]['artifact_id']}")


def test_a_secret_in_the_plan_never_reaches_govern(gov: Gov, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SALES_REGION", "s3cr3t-region-value")
    gov.write({"projects/sales.yaml": SALES.replace("region: emea", "region: \"${env:SALES_REGION}\"")})
    assert gov.run("approvals", "request", "-e", "prod") == 0
    [artifact] = gov.artifacts()
    assert "s3cr3t-region-value" not in json.dumps(artifact)
    assert "(sensitive)" in artifact["fields"]["description"]


def test_an_environment_without_approval_asks_for_none(gov: Gov, capsys: pytest.CaptureFixture[str]) -> None:
    assert gov.run("approvals", "request", "-e", "dev") == 1
    assert "environment dev asks for no Govern sign-off: set `approval: govern`" in capsys.readouterr().err
    assert gov.run("apply", "-e", "dev", "--yes") == 0
    assert gov.artifacts() == []


def test_govern_unreachable_is_one_line(gov: Gov, capsys: pytest.CaptureFixture[str]) -> None:
    text = (gov.root / "dss-iac.yaml").read_text().replace(
        "    approval: govern\n", "    approval: {host: 'http://127.0.0.1:9', api_key: nope}\n")
    gov.write({"dss-iac.yaml": text})
    assert gov.run("apply", "-e", "prod", "--yes") == 1
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == "error: cannot reach Govern at http://127.0.0.1:9 (connection refused or reset)"
    assert "Traceback" not in err


def test_the_plan_fingerprint_is_the_plan_not_when_it_was_made(gov: Gov) -> None:
    from dataiku_iac.plan.model import Plan

    with Workspace.load(gov.root) as ws:
        first, again = ws.plan("prod"), ws.plan("prod")
        targeted = ws.plan("prod", targets=["project.SALES"])
    assert first.fingerprint == again.fingerprint
    assert Plan.from_dict(json.loads(first.to_json())).fingerprint == first.fingerprint  # a saved plan: the same
    assert targeted.fingerprint != first.fingerprint
