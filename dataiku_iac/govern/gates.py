"""The gate of one change: read, requested, listed and waited for.

    gate = plan_gate(link, plan)                       # reads Govern only
    gate = request_plan(link, plan, commit, url)       # opens the request if there is none
    gate = wait(lambda: plan_gate(link, plan), 1800)   # until approved, rejected or out of time
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ..plan.model import Plan
from .link import GovernLink
from .model import Approval, Gate, Status
from .requests import BUNDLE_FIELD, PROJECT_FIELD, Subject, approval_of, find, open_request, search
from .subjects import bundle_subject, plan_description, plan_subject, plan_tag_prefix

BY_SETTING = "approval: govern"
POLL_FIRST, POLL_MAX = 1.0, 15.0  # seconds between two looks at Govern while waiting (doubling up to the max)
_TAG = re.compile(r"\[dss-iac:[^:\]]+:([0-9a-f]+)\]")


@dataclass(frozen=True)
class BundleRequest:
    """A bundle to approve, and the Markdown its reviewers read."""

    project: str
    bundle_id: str
    description: str


def plan_gate(link: GovernLink, plan: Plan, reason: str = BY_SETTING) -> Gate:
    subject = plan_subject(plan)
    return Gate(plan.environment, (approval_of(link, subject, find(link, subject)),), reason)


def request_plan(link: GovernLink, plan: Plan, commit: str, commit_url: str | None,
                 reason: str = BY_SETTING) -> Gate:
    subject = plan_subject(plan)
    return Gate(plan.environment, (open_request(link, subject, plan_description(plan, commit, commit_url)),), reason)


def bundle_gate(link: GovernLink, environment: str, bundles: Iterable[tuple[str, str]], reason: str) -> Gate:
    """The approvals of (project, bundle id) pairs: each bundle's, wherever it is deployed."""
    found = []
    for project, bundle_id in bundles:
        subject = bundle_subject(environment, project, bundle_id)
        found.append(approval_of(link, subject, find(link, subject)))
    return Gate(environment, tuple(found), reason)


def request_bundles(link: GovernLink, environment: str, bundles: Sequence[BundleRequest], reason: str) -> Gate:
    return Gate(environment, tuple(open_request(link, bundle_subject(environment, b.project, b.bundle_id),
                                                b.description) for b in bundles), reason)


def list_plan_requests(link: GovernLink, environment: str) -> list[Approval]:
    """Every plan request of a direct environment, oldest first."""
    from dataikuapi.govern.artifact_search import GovernArtifactFilterFieldValue

    prefix = plan_tag_prefix(environment)
    out = []
    for artifact in search(link, GovernArtifactFilterFieldValue("CONTAINS", prefix, case_sensitive=True)):
        name = str(artifact.get("name", ""))
        match = _TAG.search(name)
        if prefix not in name or match is None:
            continue
        short = match.group(1)
        subject = Subject(environment, f"the plan {short} of {environment}", short, name, tag=match.group(0))
        out.append(approval_of(link, subject, artifact))
    return out


def list_bundle_requests(link: GovernLink, environment: str, projects: Iterable[str]) -> list[Approval]:
    """The bundle approvals of a bundle environment's projects, oldest first."""
    from dataikuapi.govern.artifact_search import GovernArtifactFilterFieldValue

    out = []
    for project in projects:
        for artifact in search(link, GovernArtifactFilterFieldValue("EQUALS", project, PROJECT_FIELD,
                                                                    case_sensitive=True)):
            bundle_id = str((artifact.get("fields") or {}).get(BUNDLE_FIELD) or "")
            if bundle_id:
                out.append(approval_of(link, bundle_subject(environment, project, bundle_id), artifact))
    return out


def wait(check: Callable[[], Gate], timeout: float, progress: Callable[[Gate, float], None] | None = None, *,
         sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> Gate:
    """Look at the gate until it opens, a sign-off is rejected (or abandoned), or `timeout` seconds have passed;
    -> the gate as last seen. `progress(gate, elapsed)` is told each look."""
    start = clock()
    pause = POLL_FIRST
    while True:
        gate = check()
        elapsed = clock() - start
        if progress is not None:
            progress(gate, elapsed)
        if gate.open or gate.rejected or elapsed >= timeout:
            return gate
        sleep(min(pause, max(0.0, timeout - elapsed)))
        pause = min(pause * 2, POLL_MAX)


def pending_words(gate: Gate) -> str:
    """What the gate waits for, briefly: `ORDERS pending (WAITING_FOR_APPROVAL)`."""
    return ", ".join(f"{a.subject} {a.status.value}" + (f" ({a.signoff_status})" if a.status is Status.PENDING
                                                        else "") for a in gate.closed_by) or "approved"
