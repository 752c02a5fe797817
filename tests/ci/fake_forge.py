"""The few GitHub and GitLab REST endpoints `dss-iac ci comment` uses, served over real HTTP on loopback.

As the platforms document them: GitHub's issue comments (list with `per_page`/`page` and a Link header, create,
PATCH by id; `Authorization: Bearer`; 65,536 characters at most) and GitLab's merge-request notes (list with
`per_page`/`page` and X-Next-Page, create, PUT by id; PRIVATE-TOKEN, while a JOB-TOKEN may not use them; system
notes in the list; 1,000,000 characters at most). Every request is recorded, headers included.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

GITHUB_MAX = 65_536
GITLAB_MAX = 1_000_000


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeForge:
    github_tokens: dict[str, str] = field(default_factory=lambda: {"gh-secret-token": "write"})
    gitlab_tokens: dict[str, str] = field(default_factory=lambda: {"gl-secret-token": "api"})
    threads: dict[tuple[str, str, int], list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    fail_next: list[tuple[str, int]] = field(default_factory=list)  # (method, status) answered once each
    next_host: str | None = None  # a Link `next` on another host, as a hostile or misconfigured server would send

    def __post_init__(self) -> None:
        self._ids = itertools.count(1000)
        self._lock = threading.Lock()
        forge = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                forge._handle(self, "GET")

            def do_POST(self) -> None:
                forge._handle(self, "POST")

            def do_PATCH(self) -> None:
                forge._handle(self, "PATCH")

            def do_PUT(self) -> None:
                forge._handle(self, "PUT")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- what tests set up and look at -------------------------------------------------------------------------
    def add(self, platform: str, where: str, number: int, body: str, *, system: bool = False,
            author: str = "someone") -> int:
        with self._lock:
            comment_id = next(self._ids)
            self.thread(platform, where, number).append({"id": comment_id, "body": body, "system": system,
                                                         "author": author})
        return comment_id

    def thread(self, platform: str, where: str, number: int) -> list[dict[str, Any]]:
        return self.threads.setdefault((platform, where, number), [])

    def calls(self, method: str | None = None) -> list[Recorded]:
        return [r for r in self.requests if method is None or r.method == method]

    # -- serving -----------------------------------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        self.requests.append(Recorded(method, parts.path, parse_qs(parts.query), dict(h.headers.items()), body))
        with self._lock:
            failing = next((f for f in self.fail_next if f[0] == method), None)
            if failing:
                self.fail_next.remove(failing)
        if failing:
            return _send(h, failing[1], {"message": "Bad gateway"})
        if parts.path.startswith("/api/v4/"):
            return self._gitlab(h, method, parts.path[len("/api/v4"):], parse_qs(parts.query), body)
        return self._github(h, method, parts.path, parse_qs(parts.query), body)

    def _github(self, h: BaseHTTPRequestHandler, method: str, path: str, query: dict[str, list[str]],
                body: Any) -> None:
        auth = h.headers.get("Authorization", "")
        scope = self.github_tokens.get(auth.removeprefix("Bearer ")) if auth.startswith("Bearer ") else None
        if scope is None:
            return _send(h, 401, {"message": "Bad credentials"})
        if method != "GET" and scope != "write":
            return _send(h, 403, {"message": "Resource not accessible by integration"})
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/issues/(\d+)/comments", path)
        if m:
            thread = self.thread("github", m.group(1), int(m.group(2)))
            if method == "GET":
                return self._page(h, thread, query, lambda c: self._github_json(m.group(1), c), github=True)
            if method == "POST":
                return self._create(h, thread, body, GITHUB_MAX, lambda c: self._github_json(m.group(1), c))
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/issues/comments/(\d+)", path)
        if m and method == "PATCH":
            found = self._find("github", m.group(1), int(m.group(2)))
            return self._update(h, found, body, GITHUB_MAX, lambda c: self._github_json(m.group(1), c))
        return _send(h, 404, {"message": "Not Found"})

    def _gitlab(self, h: BaseHTTPRequestHandler, method: str, path: str, query: dict[str, list[str]],
                body: Any) -> None:
        if h.headers.get("JOB-TOKEN"):  # notes are not among the endpoints a job token may use
            return _send(h, 401, {"message": "401 Unauthorized"})
        if self.gitlab_tokens.get(h.headers.get("PRIVATE-TOKEN", "")) is None:
            return _send(h, 401, {"message": "401 Unauthorized"})
        m = re.fullmatch(r"/projects/([^/]+)/merge_requests/(\d+)/notes(?:/(\d+))?", path)
        if not m:
            return _send(h, 404, {"error": "404 Not Found"})
        project, iid = unquote(m.group(1)), int(m.group(2))
        thread = self.thread("gitlab", project, iid)
        if m.group(3) is None and method == "GET":
            return self._page(h, thread, query, _gitlab_json, github=False)
        if m.group(3) is None and method == "POST":
            return self._create(h, thread, body, GITLAB_MAX, _gitlab_json)
        if m.group(3) is not None and method == "PUT":
            return self._update(h, self._find("gitlab", project, int(m.group(3))), body, GITLAB_MAX, _gitlab_json)
        return _send(h, 405, {"error": "405 Method Not Allowed"})

    def _page(self, h: BaseHTTPRequestHandler, thread: list[dict[str, Any]], query: dict[str, list[str]],
              shape: Any, *, github: bool) -> None:
        per_page = min(int(query.get("per_page", ["30" if github else "20"])[0]), 100)
        page = int(query.get("page", ["1"])[0])
        items = thread[(page - 1) * per_page: page * per_page]
        last = max(1, -(-len(thread) // per_page))
        headers = {}
        if page < last:
            host = self.next_host or h.headers["Host"]
            base = h.path.split("?")[0]
            headers["Link"] = (f'<http://{host}{base}?per_page={per_page}&page={page + 1}>; rel="next", '
                               f'<http://{host}{base}?per_page={per_page}&page={last}>; rel="last"')
        if not github:
            headers.update({"X-Page": str(page), "X-Per-Page": str(per_page), "X-Total": str(len(thread)),
                            "X-Next-Page": str(page + 1) if page < last else ""})
        _send(h, 200, [shape(c) for c in items], headers)

    def _create(self, h: BaseHTTPRequestHandler, thread: list[dict[str, Any]], body: Any, limit: int,
                shape: Any) -> None:
        text = (body or {}).get("body")
        if not isinstance(text, str) or not text:
            return _send(h, 400 if limit == GITLAB_MAX else 422, {"message": "body is missing"})
        if len(text) > limit:
            return _send(h, 400 if limit == GITLAB_MAX else 422,
                         {"message": f"body is too long (maximum is {limit} characters)"})
        with self._lock:
            comment = {"id": next(self._ids), "body": text, "system": False, "author": "dss-iac-bot"}
            thread.append(comment)
        _send(h, 201, shape(comment))

    def _update(self, h: BaseHTTPRequestHandler, found: dict[str, Any] | None, body: Any, limit: int,
                shape: Any) -> None:
        text = (body or {}).get("body")
        if found is None:
            return _send(h, 404, {"message": "Not Found"})
        if not isinstance(text, str) or len(text) > limit:
            return _send(h, 422, {"message": f"body is too long (maximum is {limit} characters)"})
        found["body"] = text
        _send(h, 200, shape(found))

    def _find(self, platform: str, where: str, comment_id: int) -> dict[str, Any] | None:
        for (p, w, _), thread in self.threads.items():
            if (p, w) == (platform, where):
                for c in thread:
                    if c["id"] == comment_id:
                        return c
        return None

    def _github_json(self, repo: str, c: dict[str, Any]) -> dict[str, Any]:
        return {"id": c["id"], "body": c["body"], "user": {"login": c["author"]},
                "html_url": f"https://github.example/{repo}/pull/1#issuecomment-{c['id']}"}


def _gitlab_json(c: dict[str, Any]) -> dict[str, Any]:
    return {"id": c["id"], "body": c["body"], "system": c["system"], "author": {"username": c["author"]}}


def _send(h: BaseHTTPRequestHandler, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
    raw = json.dumps(data).encode()
    h.send_response(status)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(len(raw)))
    for k, v in (headers or {}).items():
        h.send_header(k, v)
    h.end_headers()
    h.wfile.write(raw)
