"""Approvals as plain data: what a Govern sign-off says about one change, and the gate an environment puts on it.

An `Approval` is bound to what it was given for: a plan's fingerprint (direct environments) or a bundle (bundle
environments). A `Gate` holds the approvals a change needs; it is open when every one of them is approved.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

# Govern's sign-off statuses that still wait for someone.
WAITING = ("NOT_STARTED", "WAITING_FOR_FEEDBACK", "WAITING_FOR_APPROVAL")


class Status(StrEnum):
    NOT_REQUESTED = "not requested"
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    ABANDONED = "abandoned"

    @classmethod
    def of(cls, signoff_status: str | None) -> Status:
        """dss-iac's word for a Govern sign-off status (None: no request)."""
        if signoff_status is None:
            return cls.NOT_REQUESTED
        if signoff_status in WAITING:
            return cls.PENDING
        return {"APPROVED": cls.APPROVED, "REJECTED": cls.REJECTED}.get(signoff_status, cls.ABANDONED)


@dataclass(frozen=True)
class Review:
    """One reviewer's answer: a feedback (APPROVED, MINOR_ISSUE, MAJOR_ISSUE) or the final approval (APPROVED,
    REJECTED, ABANDONED)."""

    user: str
    status: str
    comment: str = ""
    group: str = ""  # the feedback group; "" for the final approval
    when: str = ""  # ISO 8601, UTC

    def line(self) -> str:
        said = f': "{self.comment}"' if self.comment else ""
        group = f" ({self.group})" if self.group else ""
        return f"{self.user}{group}: {self.status}{said}"

    def to_dict(self) -> dict[str, str]:
        return {"user": self.user, "status": self.status, "comment": self.comment, "group": self.group,
                "when": self.when}


@dataclass(frozen=True)
class Approval:
    """The approval of one change in Govern: the artifact that asks for it and the state of its sign-off."""

    environment: str
    subject: str  # what is approved, in words: "the plan 1a2b3c4d5e6f7a8b" or "bundle git-... of project ORDERS"
    fingerprint: str  # what the approval is bound to: the plan's fingerprint, or the bundle id
    status: Status
    signoff_status: str | None = None  # Govern's own word: WAITING_FOR_APPROVAL...
    step: str | None = None  # the workflow step whose sign-off decides
    artifact_id: str | None = None
    artifact_name: str = ""
    url: str | None = None  # the artifact in Govern
    approvers: tuple[str, ...] = ()  # who may give the final approval (logins)
    approver_groups: tuple[str, ...] = ()
    feedback: tuple[Review, ...] = ()
    decision: Review | None = None  # the final approval, once given

    @property
    def approved(self) -> bool:
        return self.status is Status.APPROVED

    @property
    def who(self) -> str:
        """Who must approve, in words."""
        people = ", ".join(self.approvers)
        groups = ", ".join(f"group {g}" for g in self.approver_groups)
        if people and groups:
            return f"{people} ({groups})"
        return people or groups or "the sign-off's approvers"

    @property
    def where(self) -> str:
        return self.url or (f"Govern artifact {self.artifact_id}" if self.artifact_id else "Govern")

    def summary(self) -> str:
        """One line: the state of the approval, who must act, and where."""
        step = f"sign-off '{self.step}'" if self.step else "the sign-off"
        if self.status is Status.NOT_REQUESTED:
            return f"{self.subject}: no approval requested in Govern yet"
        if self.status is Status.PENDING:
            return (f"{self.subject}: pending ({self.signoff_status}): {step} of {self.where} waits for the final "
                    f"approval of {self.who}")
        by = f" by {self.decision.user}" if self.decision else ""
        said = f': "{self.decision.comment}"' if self.decision and self.decision.comment else ""
        return f"{self.subject}: {self.status.value}{by}{said} ({step} of {self.where})"

    def lines(self) -> list[str]:
        """The approval in detail: status, artifact, approvers, each review with its comment."""
        out = [f"{self.subject}: {self.status.value}" + (f" ({self.signoff_status})" if self.signoff_status else "")]
        if self.artifact_id:
            out.append(f"  artifact:  {self.artifact_name} ({self.artifact_id}) {self.url or ''}".rstrip())
            out.append(f"  sign-off:  step {self.step}, final approval by {self.who}")
        out += [f"  feedback:  {r.line()}" for r in self.feedback]
        if self.decision:
            out.append(f"  decision:  {self.decision.line()}")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"environment": self.environment, "subject": self.subject, "fingerprint": self.fingerprint,
                "status": self.status.value, "signoff_status": self.signoff_status, "step": self.step,
                "artifact_id": self.artifact_id, "artifact_name": self.artifact_name, "url": self.url,
                "approvers": list(self.approvers), "approver_groups": list(self.approver_groups),
                "feedback": [r.to_dict() for r in self.feedback],
                "decision": None if self.decision is None else self.decision.to_dict()}


@dataclass(frozen=True)
class Gate:
    """What a change to an environment waits for in Govern: one approval per subject (the plan, or each bundle
    deployed), and why the environment asks for it."""

    environment: str
    approvals: tuple[Approval, ...]
    reason: str  # "approval: govern", or the deployer infrastructure's PREVENT policy

    @property
    def open(self) -> bool:
        return all(a.approved for a in self.approvals)

    @property
    def closed_by(self) -> list[Approval]:
        return [a for a in self.approvals if not a.approved]

    @property
    def rejected(self) -> list[Approval]:
        return [a for a in self.approvals if a.status in (Status.REJECTED, Status.ABANDONED)]

    @property
    def unrequested(self) -> list[Approval]:
        return [a for a in self.approvals if a.status is Status.NOT_REQUESTED]

    def summary(self) -> str:
        """One line for a status bar or a plan header."""
        if self.open:
            return f"Govern: approved ({len(self.approvals)} sign-off(s))"
        return "Govern: " + "; ".join(a.summary() for a in self.closed_by)

    def refusal(self, command: str) -> str:
        """Why `command` (apply, promote) refuses, and what to do, in one line."""
        waiting = "; ".join(a.summary() for a in self.closed_by)
        if self.rejected:
            then = "a rejected change needs a new plan (or a reset of the sign-off in Govern)"
        elif self.unrequested:
            then = (f"`dss-iac approvals request -e {self.environment}` opens the request (or {command} "
                    "--wait-approval DURATION opens it and waits)")
        else:
            then = f"run {command} again once it is approved, or wait with --wait-approval DURATION"
        return f"environment {self.environment} needs a Govern sign-off ({self.reason}): {waiting}; {then}"

    def to_dict(self) -> dict[str, Any]:
        return {"environment": self.environment, "reason": self.reason, "open": self.open,
                "approvals": [a.to_dict() for a in self.approvals]}

    def _repr_html_(self) -> str:
        """Notebooks show the gate as a coloured box: each approval's state, who must approve, and its link."""
        from html import escape

        colour = "#22863a" if self.open else "#cb2431" if self.rejected else "#b08800"
        title = "approved in Govern" if self.open else f"waits for Govern ({self.reason})"
        items = []
        for a in self.approvals:
            link = f' <a href="{escape(a.url)}" target="_blank">open in Govern</a>' if a.url else ""
            items.append(f"<li>{escape(a.summary())}{link}</li>")
        return (f'<div style="border-left: 4px solid {colour}; padding: 4px 10px"><b>Environment '
                f'{escape(self.environment)}: {escape(title)}</b><ul style="margin: 4px 0">{"".join(items)}</ul></div>')
