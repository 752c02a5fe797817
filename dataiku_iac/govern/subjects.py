"""What an environment's approvals are about: a plan (direct environments) or a bundle (bundle environments), the
artifact name that finds each again, and the Markdown the reviewers read in Govern."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from ..plan.model import Plan
from ..plan.render_md import render_markdown
from .requests import BUNDLE_FIELD, PROJECT_FIELD, Subject

SHORT = 16  # hex digits of a plan's fingerprint in an artifact's name


def plan_subject(plan: Plan) -> Subject:
    fingerprint = plan.fingerprint
    short = fingerprint.removeprefix("sha256:")[:SHORT]
    s = plan.summary()
    tag = f"[dss-iac:{plan.environment}:{short}]"
    name = f"dss-iac {plan.environment}: {s.add} to add, {s.change} to change, {s.destroy} to destroy {tag}"
    return Subject(plan.environment, f"the plan {short} of {plan.environment}", fingerprint, name, tag=tag)


def plan_tag_prefix(environment: str) -> str:
    """What the names of every plan request of an environment contain."""
    return f"[dss-iac:{environment}:"


def bundle_subject(environment: str, project: str, bundle_id: str) -> Subject:
    """A bundle's approval: the artifact Govern's Project Deployer check reads (see docs/govern.md)."""
    return Subject(environment, f"bundle {bundle_id} of project {project}", bundle_id,
                   f"{project} bundle {bundle_id}", fields={PROJECT_FIELD: project, BUNDLE_FIELD: bundle_id})


def plan_description(plan: Plan, commit: str, commit_url: str | None) -> str:
    """The Markdown a reviewer reads in Govern: what the plan does, the commit it comes from, its fingerprint."""
    head = [f"## dss-iac: a change to environment `{plan.environment}`", "",
            _commit_line(commit, commit_url), f"Plan fingerprint: `{plan.fingerprint}` (the approval holds for "
                                              "this exact plan: a different plan needs its own)", ""]
    return "\n".join(head) + "\n" + render_markdown(plan)


def bundle_description(environment: str, project: str, bundle_id: str, commit: str, commit_url: str | None,
                       promotion_text: str) -> str:
    head = [f"## dss-iac: bundle `{bundle_id}` of project `{project}`", "",
            _commit_line(commit, commit_url), f"Requested for environment `{environment}`; the approval holds for "
                                              "this bundle wherever it is deployed.", "",
            "```", promotion_text.rstrip("\n"), "```"]
    return "\n".join(head) + "\n"


def _commit_line(commit: str, url: str | None) -> str:
    if not commit:
        return "Commit: none (the workspace is not in a Git repository)."
    return f"Commit: [{commit[:12]}]({url})." if url else f"Commit: `{commit}`."


def commit_url(root: Path, commit: str, env: Mapping[str, str] | None = None) -> str | None:
    """A web link to `commit`: from the CI job's variables (GitHub, GitLab), else from the `origin` remote of the
    repository (GitHub, GitLab and the like: `https://host/owner/repo/commit/SHA`); None when unknown."""
    env = os.environ if env is None else env
    if not commit:
        return None
    if env.get("GITHUB_SERVER_URL") and env.get("GITHUB_REPOSITORY"):
        return f"{env['GITHUB_SERVER_URL'].rstrip('/')}/{env['GITHUB_REPOSITORY']}/commit/{commit}"
    if env.get("CI_PROJECT_URL"):
        return f"{env['CI_PROJECT_URL'].rstrip('/')}/-/commit/{commit}"
    web = _origin_web_url(root)
    if web is None:
        return None
    return f"{web}/-/commit/{commit}" if "gitlab" in web else f"{web}/commit/{commit}"


def _origin_web_url(root: Path) -> str | None:
    try:
        import git

        url = str(git.Repo(root, search_parent_directories=True).remotes.origin.url)
    except Exception:  # no gitpython, no repository, or no `origin`
        return None
    if url.startswith("git@") and ":" in url:  # git@github.com:owner/repo.git
        host, _, path = url[4:].partition(":")
        url = f"https://{host}/{path}"
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return None
    host = parts.hostname + (f":{parts.port}" if parts.port else "")  # a token in the URL never goes into a link
    return urlunsplit((parts.scheme, host, parts.path.removesuffix(".git").rstrip("/"), "", ""))
