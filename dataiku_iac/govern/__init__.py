"""Approvals in Dataiku Govern: environments whose changes wait for a sign-off (`approval: govern`).

A direct environment's plan gets one Govern artifact per plan (the plan in Markdown, a link to its commit), found
again by the plan's fingerprint; a bundle environment's promotion needs each bundle approved, on the artifact that
Govern's Project Deployer check reads too. `apply` and `promote` refuse (exit code 8) until every sign-off a change
needs is approved. See docs/govern.md.
"""

from __future__ import annotations

from .gates import (
    BundleRequest,
    bundle_gate,
    list_bundle_requests,
    list_plan_requests,
    pending_words,
    plan_gate,
    request_bundles,
    request_plan,
    wait,
)
from .link import GovernLink, open_govern, settings_of
from .model import Approval, Gate, Review, Status
from .subjects import commit_url

__all__ = ["Approval", "BundleRequest", "Gate", "GovernLink", "Review", "Status", "bundle_gate", "commit_url",
           "list_bundle_requests", "list_plan_requests", "open_govern", "pending_words", "plan_gate",
           "request_bundles", "request_plan", "settings_of", "wait"]
