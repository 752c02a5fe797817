"""The gate `apply` and `promote --wait-approval` pass, with Govern's answers given in turn (no Govern node needed)."""

from __future__ import annotations

import io

from dataiku_iac.cli.approvals_cmd import pass_gate
from dataiku_iac.cli.console import Console
from dataiku_iac.govern import Approval, Gate, Status

SUBJECT = "bundle git-0123456789ab of project CHURN"


def gate(status: Status, signoff: str | None) -> Gate:
    approval = Approval("prod", SUBJECT, "git-0123456789ab", status, signoff, "review", "a1",
                        url="http://govern/artifact/a1", approvers=("reviewer",))
    return Gate("prod", (approval,), "approval: govern")


def test_a_request_approved_before_it_is_read_back_is_still_said_requested() -> None:
    # A reviewer quicker than the run: the request it opened is approved already when Govern answers.
    answers = iter([gate(Status.NOT_REQUESTED, None), gate(Status.APPROVED, "APPROVED")])
    err = io.StringIO()
    passed = pass_gate(lambda: next(answers), lambda: gate(Status.APPROVED, "APPROVED"), "promote", 60,
                       Console(stdout=io.StringIO(), stderr=err))
    assert passed is not None and passed.open
    lines = err.getvalue().splitlines()
    assert lines[0].startswith(f"Requested: {SUBJECT}: approved")
    assert not any(line.startswith("Already approved") for line in lines)
    assert lines[-1] == "Govern: approved (1 sign-off(s))"


def test_waiting_says_what_it_waits_for_and_who_approves() -> None:
    answers = iter([gate(Status.NOT_REQUESTED, None), gate(Status.PENDING, "WAITING_FOR_APPROVAL"),
                    gate(Status.APPROVED, "APPROVED")])
    err = io.StringIO()
    passed = pass_gate(lambda: next(answers), lambda: gate(Status.PENDING, "WAITING_FOR_APPROVAL"), "apply", 60,
                       Console(stdout=io.StringIO(), stderr=err))
    assert passed is not None and passed.open
    lines = err.getvalue().splitlines()
    assert lines[0].startswith(f"Requested: {SUBJECT}: pending (WAITING_FOR_APPROVAL)")
    assert "waits for the final approval of reviewer" in lines[0]
    assert f"Waiting for Govern: {SUBJECT} pending (WAITING_FOR_APPROVAL)" in lines
    assert lines[-1] == "Govern: approved (1 sign-off(s))"
