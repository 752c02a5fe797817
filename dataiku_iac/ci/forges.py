"""Posting the comment on GitHub (pull requests) and GitLab (merge requests) through their REST APIs.

Each platform's job sets what is needed in the environment; the token is read from there and never shown:
- GitHub Actions: `GITHUB_API_URL`, `GITHUB_REPOSITORY`, `GITHUB_EVENT_PATH` (the pull request's number), and
  `GITHUB_TOKEN` (the job's token, given `permissions: pull-requests: write`).
  GET/POST /repos/{owner}/{repo}/issues/{number}/comments, PATCH /repos/{owner}/{repo}/issues/comments/{id}.
- GitLab CI: `CI_API_V4_URL`, `CI_PROJECT_ID`, `CI_MERGE_REQUEST_IID`, and `GITLAB_TOKEN` (a project access
  token, sent as PRIVATE-TOKEN) or else `CI_JOB_TOKEN` (sent as JOB-TOKEN).
  GET/POST /projects/:id/merge_requests/:iid/notes, PUT /projects/:id/merge_requests/:iid/notes/:note_id.

The previous comment is the first one whose body starts with the marker, looked for through every page of the
list (GitHub: the Link header's `next`; GitLab: the X-Next-Page header).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from .. import __version__
from ..errors import DssIacError
from ..secrets import redact_url

GITHUB_LIMIT = 65_536  # characters in a comment's body
GITLAB_LIMIT = 1_000_000
PER_PAGE = 100
MAX_PAGES = 1_000  # a server that keeps answering "next" is not followed forever
TIMEOUT = 30.0


class ForgeError(DssIacError):
    """The platform's API refused or could not be reached; the message never holds the token."""


@dataclass(frozen=True)
class Posted:
    action: str  # created | updated
    id: int
    url: str


@dataclass(frozen=True)
class _Api:
    """A REST API reached with one token, retrying what is safe to repeat."""

    name: str
    base: str
    headers: Mapping[str, str]
    hints: Mapping[int, str]  # what to do about a status
    backoff: float = 0.5

    def session(self) -> Any:
        import requests
        from requests.adapters import HTTPAdapter
        from urllib3.util.retry import Retry

        # A GET, PATCH or PUT of the same body is safe to repeat on a gateway error; a POST is repeated only when
        # it never reached the server (a refused connection), so that it never posts the comment twice.
        retry = Retry(total=3, connect=3, read=0, status=3, other=0, allowed_methods={"GET", "PATCH", "PUT"},
                      status_forcelist={429, 502, 503, 504}, backoff_factor=self.backoff,
                      respect_retry_after_header=True, raise_on_status=False)
        s = requests.Session()
        s.mount("http://", HTTPAdapter(max_retries=retry))
        s.mount("https://", HTTPAdapter(max_retries=retry))
        s.headers.update({"User-Agent": f"dss-iac/{__version__}", **self.headers})
        return s

    def call(self, session: Any, method: str, url: str, **kwargs: Any) -> Any:
        import requests

        if urlsplit(url).netloc != urlsplit(self.base).netloc:  # the token goes to its own server only
            raise ForgeError(f"{self.name} API: refusing to follow {method} to {redact_url(url)}, outside {self.base}")
        try:
            response = session.request(method, url, timeout=TIMEOUT, **kwargs)
        except requests.RequestException as e:
            raise ForgeError(f"{self.name} API at {self.base} could not be reached: {type(e).__name__}") from None
        if response.status_code >= 400:
            raise ForgeError(self._refusal(method, url, response))
        return response

    def _refusal(self, method: str, url: str, response: Any) -> str:
        try:
            said = response.json().get("message") or response.json().get("error")
        except (ValueError, AttributeError):
            said = None
        status = response.status_code
        hints = {404: "check the project and the pull/merge request number (and that the token may see them)",
                 **self.hints}
        text = f"{self.name} API: {method} {redact_url(url)}: HTTP {status}" + (f" ({str(said)[:200]})" if said else "")
        return text + (f": {hints[status]}" if status in hints else "")


class GitHub:
    name = "GitHub"
    limit = GITHUB_LIMIT

    def __init__(self, api_url: str, repository: str, number: int, token: str, *, backoff: float = 0.5) -> None:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
                   "X-GitHub-Api-Version": "2022-11-28"}
        hints = {401: "GITHUB_TOKEN was refused (expired, or not a token)",
                 403: "the job's token needs `permissions: pull-requests: write` (a pull request from a fork gets a "
                      "read-only token)"}
        self.api = _Api("GitHub", api_url.rstrip("/"), headers, hints, backoff)
        self.repository = repository
        self.number = number
        self.session = self.api.session()

    def comments(self) -> Iterator[tuple[int, str, str]]:
        url: str | None = f"{self.api.base}/repos/{self.repository}/issues/{self.number}/comments?per_page={PER_PAGE}"
        for _ in range(MAX_PAGES):
            if url is None:
                return
            response = self.api.call(self.session, "GET", url)
            for c in response.json():
                yield c["id"], c.get("body") or "", c.get("html_url", "")
            url = response.links.get("next", {}).get("url")

    def create(self, body: str) -> Posted:
        url = f"{self.api.base}/repos/{self.repository}/issues/{self.number}/comments"
        c = self.api.call(self.session, "POST", url, json={"body": body}).json()
        return Posted("created", c["id"], c.get("html_url", ""))

    def update(self, comment_id: int, body: str) -> Posted:
        url = f"{self.api.base}/repos/{self.repository}/issues/comments/{comment_id}"
        c = self.api.call(self.session, "PATCH", url, json={"body": body}).json()
        return Posted("updated", c["id"], c.get("html_url", ""))


class GitLab:
    name = "GitLab"
    limit = GITLAB_LIMIT

    def __init__(self, api_url: str, project: str, iid: int, token: tuple[str, str], *, web_url: str = "",
                 backoff: float = 0.5) -> None:
        header, value = token
        job = ("the CI job token may not use merge-request notes: set GITLAB_TOKEN (a project access token with the "
               "api scope) as a masked CI/CD variable")
        hints = ({401: job, 403: job} if header == "JOB-TOKEN" else
                 {401: "GITLAB_TOKEN was refused (expired or revoked?)",
                  403: "GITLAB_TOKEN needs the api scope and at least the Reporter role"})
        self.api = _Api("GitLab", api_url.rstrip("/"), {header: value}, hints, backoff)
        self.base = f"{self.api.base}/projects/{quote(project, safe='')}/merge_requests/{iid}/notes"
        self.web = f"{web_url.rstrip('/')}/-/merge_requests/{iid}" if web_url else ""
        self.session = self.api.session()

    def comments(self) -> Iterator[tuple[int, str, str]]:
        page: str | None = "1"
        for _ in range(MAX_PAGES):
            if not page:
                return
            response = self.api.call(self.session, "GET", f"{self.base}?per_page={PER_PAGE}&page={page}")
            for note in response.json():
                if not note.get("system"):  # "added 2 commits" and the like
                    yield note["id"], note.get("body") or "", self._url(note["id"])
            page = response.headers.get("X-Next-Page") or None

    def create(self, body: str) -> Posted:
        note = self.api.call(self.session, "POST", self.base, json={"body": body}).json()
        return Posted("created", note["id"], self._url(note["id"]))

    def update(self, comment_id: int, body: str) -> Posted:
        note = self.api.call(self.session, "PUT", f"{self.base}/{comment_id}", json={"body": body}).json()
        return Posted("updated", note["id"], self._url(note["id"]))

    def _url(self, note_id: int) -> str:
        return f"{self.web}#note_{note_id}" if self.web else ""


Forge = GitHub | GitLab


def post(forge: Forge, body: str, mark: str) -> Posted:
    """Update the comment that starts with `mark`, or create it."""
    for comment_id, text, _url in forge.comments():
        if text.startswith(mark):
            return forge.update(comment_id, body)
    return forge.create(body)


def from_environment(provider: str, number: int | None, env: Mapping[str, str] | None = None,
                     backoff: float = 0.5) -> Forge:
    """The platform's API as its CI job describes it in the environment."""
    env = os.environ if env is None else env
    if provider == "github":
        token = _need(env, "GITHUB_TOKEN", "pass the job's token: env: GITHUB_TOKEN: ${{ github.token }}")
        repository = _need(env, "GITHUB_REPOSITORY", "set by GitHub Actions: owner/name")
        return GitHub(env.get("GITHUB_API_URL") or "https://api.github.com", repository,
                      number or _github_number(env), token, backoff=backoff)
    token_pair = (("PRIVATE-TOKEN", env["GITLAB_TOKEN"]) if env.get("GITLAB_TOKEN") else
                  ("JOB-TOKEN", env["CI_JOB_TOKEN"]) if env.get("CI_JOB_TOKEN") else None)
    if token_pair is None:
        raise ForgeError("GITLAB_TOKEN is not set: a project access token with the api scope, as a masked CI/CD "
                         "variable")
    project = _need(env, "CI_PROJECT_ID", "set by GitLab CI")
    api = _need(env, "CI_API_V4_URL", "set by GitLab CI, such as https://gitlab.com/api/v4")
    iid = number or _number(env.get("CI_MERGE_REQUEST_IID"), "CI_MERGE_REQUEST_IID is not set: run in a merge-request "
                                                               "pipeline, or pass --pr IID")
    return GitLab(api, project, iid, token_pair, web_url=env.get("CI_PROJECT_URL", ""), backoff=backoff)


def _need(env: Mapping[str, str], name: str, hint: str) -> str:
    if not env.get(name):
        raise ForgeError(f"{name} is not set ({hint})")
    return env[name]


def _github_number(env: Mapping[str, str]) -> int:
    missing = "no pull request: run on a pull_request event, or pass --pr NUMBER"
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        raise ForgeError(f"GITHUB_EVENT_PATH is not set: {missing}")
    try:
        event = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ForgeError(f"cannot read the event {path}: {e}") from None
    found = (event.get("pull_request") or {}).get("number") or (
        (event.get("issue") or {}).get("number") if (event.get("issue") or {}).get("pull_request") else None)
    return _number(found, missing)


def _number(value: Any, missing: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ForgeError(missing) from None
    if number < 1:
        raise ForgeError(missing)
    return number


def commit_and_log(provider: str, env: Mapping[str, str] | None = None) -> tuple[str, str]:
    """The commit the job checked out and the URL of its log, as the platform's job states them."""
    env = os.environ if env is None else env
    if provider == "github":
        run = (f"{env['GITHUB_SERVER_URL']}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"
               if all(env.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")) else "")
        return _github_head(env) or env.get("GITHUB_SHA", ""), run
    return env.get("CI_COMMIT_SHA", ""), env.get("CI_JOB_URL", "")


def _github_head(env: Mapping[str, str]) -> str:
    """On a pull request, GITHUB_SHA is GitHub's merge commit; the pull request's own head is in the event."""
    try:
        event = json.loads(Path(env.get("GITHUB_EVENT_PATH", "")).read_text(encoding="utf-8"))
        return str(event["pull_request"]["head"]["sha"])
    except (OSError, ValueError, KeyError, TypeError):
        return ""
