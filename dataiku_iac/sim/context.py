"""What a simulator handler sees: the request, the node it hit, the caller, and helpers."""

from __future__ import annotations

import email.parser
import email.policy
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .errors import SimError, bad_request, forbidden, not_found
from .store import Store
from .tasks import Tasks

if TYPE_CHECKING:
    from .server import SimServer


class Raw:
    """A non-JSON reply (bundle archives, data streams, plain text)."""

    def __init__(self, data: bytes, content_type: str = "application/octet-stream") -> None:
        self.data = data
        self.content_type = content_type


@dataclass(frozen=True)
class ApiKey:
    """Who an API key authenticates, and whether it has admin rights."""

    login: str
    admin: bool = False


@dataclass
class SimOptions:
    """Behaviour switches. Each unverified guess about DSS is one of these (docs/simulator.md)."""

    # Real DSS answers many "not found" cases with a 500 and a Java errorType.
    realistic_errors: bool = True
    # Name given to a recipe created without one (unverified; DSS_API.md §8).
    recipe_name_pattern: str = "compute_{output}"
    # Polls of GET /futures/{id} before a future reports its result (0: results come at once).
    future_polls: int = 0
    # How secrets come back on read: "blank" ("" as DSS 15 is reported to do) or "encrypted" (an opaque
    # token, as the dataikuapi docs describe). Either way a save that sends them back keeps them.
    secrets_on_read: Literal["blank", "encrypted"] = "blank"
    # Crash test knob: kill this very process (SIGKILL) right after the k-th write request has been stored,
    # before its reply is sent, as a DSS client killed mid-apply would experience it with an in-process DSS.
    crash_after_writes: int | None = None
    # Crash test knob: kill this very process (SIGKILL) when the k-th write request arrives, before DSS
    # processes it: whatever the client did since its previous write is all that happened.
    crash_before_write: int | None = None
    # Largest accepted request body.
    max_body_bytes: int = 256 * 1024 * 1024
    # Seconds a connection may stay silent (mid-request, or idle between requests) before it is closed.
    idle_timeout_s: float = 120.0


@dataclass
class Node:
    """One DSS node served by the simulator (design, automation, govern...)."""

    name: str
    kind: str  # DESIGN | AUTOMATION | GOVERN
    prefix: str  # URL prefix under the server root: "" for design, "/automation"...
    store: Store
    server: SimServer | None = None
    # DSS's data dir: `${dip.home}` in connection roots, under which managed datasets hold their files.
    dip_home: Path | None = None
    # Long tasks (jobs, scenario runs) running in background threads.
    tasks: Tasks = field(default_factory=Tasks)

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.base_url + self.prefix

    @property
    def data_home(self) -> Path:
        if self.dip_home is None:
            raise RuntimeError(f"node {self.name} has no data directory")
        return self.dip_home


@dataclass
class Request:
    method: str
    path: str  # the API path, after /dip/publicapi
    params: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes = b""
    _json: Any = field(default=None, repr=False)
    _parsed: bool = field(default=False, repr=False)

    def json(self, default: Any = None) -> Any:
        """The JSON body. The client sends no Content-Type, so parse whatever arrives."""
        if not self._parsed:
            self._parsed = True
            if self.body.strip():
                try:
                    self._json = json.loads(self.body)
                except ValueError as e:
                    raise bad_request(f"Malformed JSON body: {e}") from None
                except RecursionError:
                    raise bad_request("Malformed JSON body: nested too deeply") from None
        return default if self._json is None else self._json

    def json_object(self) -> dict[str, Any]:
        body = self.json({})
        if not isinstance(body, dict):
            raise bad_request("Expected a JSON object as request body")
        return body

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.params.get(name)
        return values[-1] if values else default

    def param_list(self, name: str) -> list[str]:
        return list(self.params.get(name, []))

    def bool_param(self, name: str, default: bool = False) -> bool:
        value = self.param(name)
        if value is None:
            return default
        return value.strip().lower() in ("true", "1", "yes")

    def files(self) -> dict[str, tuple[str, bytes]]:
        """Multipart form fields: name -> (filename, content)."""
        ctype = self.headers.get("content-type", "")
        if not ctype.startswith("multipart/form-data"):
            raise bad_request("Expected a multipart/form-data upload")
        raw = f"Content-Type: {ctype}\r\nMIME-Version: 1.0\r\n\r\n".encode() + self.body
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
        out: dict[str, tuple[str, bytes]] = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name:
                payload = part.get_payload(decode=True)  # bytes, or None when empty (the part is no multipart)
                out[str(name)] = (part.get_filename() or "", payload if isinstance(payload, bytes) else b"")
        return out


class Ctx:
    """Per-request context handed to every handler."""

    def __init__(self, node: Node, req: Request, key: ApiKey, options: SimOptions) -> None:
        self.node = node
        self.store = node.store
        self.req = req
        self.key = key
        self.options = options

    @property
    def server(self) -> SimServer:
        assert self.node.server is not None
        return self.node.server

    def require_admin(self) -> None:
        if not self.key.admin:
            raise forbidden(f"Action forbidden: user {self.key.login} is not an administrator")

    def not_found(self, message: str) -> SimError:
        return not_found(message, realistic=self.options.realistic_errors)

    def project(self, project_key: str) -> dict[str, Any]:
        project = self.store.projects.get(project_key)
        if project is None:
            raise self.not_found(f"Project {project_key} does not exist")
        return project

    def now_ms(self) -> int:
        return int(time.time() * 1000)

    def creation_tag(self) -> dict[str, Any]:
        return {"versionNumber": 0, "lastModifiedBy": {"login": self.key.login}, "lastModifiedOn": self.now_ms()}

    def bump_version(self, new_doc: dict[str, Any], old_doc: dict[str, Any] | None) -> dict[str, Any]:
        """Stamp a saved document as DSS does: server-owned tags win over what the client sent."""
        previous = (old_doc or {}).get("versionTag") or {"versionNumber": -1}
        new_doc["versionTag"] = {
            "versionNumber": int(previous.get("versionNumber", -1)) + 1,
            "lastModifiedBy": {"login": self.key.login},
            "lastModifiedOn": self.now_ms(),
        }
        new_doc["creationTag"] = (old_doc or {}).get("creationTag") or self.creation_tag()
        return new_doc
