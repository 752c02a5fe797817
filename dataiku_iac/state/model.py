"""The state document: versioned, identified by a lineage, numbered by a serial, checksummed."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from .._gc import paused_gc
from ..errors import StateError
from ..secrets import UNKEYED, Fingerprints

STATE_FORMAT_VERSION = 1


@dataclass
class ResourceState:
    kind: str
    remote_id: str
    fields: dict[str, Any]
    depends_on: list[str] = field(default_factory=list)
    # DSS's version of the object (versionTag.versionNumber) when it held `fields`: a refresh reads the object
    # again only once its version moved (docs/performance.md). None: unknown, read on every refresh.
    version: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {"kind": self.kind, "remote_id": self.remote_id, "fields": self.fields, "depends_on": self.depends_on}
        return out if self.version is None else {**out, "version": self.version}

    @classmethod
    def from_dict(cls, r: Mapping[str, Any]) -> ResourceState:
        version = r.get("version")
        return cls(r["kind"], r["remote_id"], dict(r["fields"]), list(r.get("depends_on", [])),
                   version if isinstance(version, int) and not isinstance(version, bool) else None)


@dataclass
class State:
    environment: str
    lineage: str = field(default_factory=lambda: str(uuid.uuid4()))
    serial: int = 0
    resources: dict[str, ResourceState] = field(default_factory=dict)
    updated_at: str = ""
    updated_by: str = ""
    # The workspace's Git commit when the state was written, when the workspace is a Git repository.
    workspace_commit: str = ""
    # The key of the fingerprints of sensitive values: random, one per lineage, kept only here (so it is as
    # protected as the state: encrypt the state to keep it from whoever may read it). None until first written.
    fingerprint_key: bytes | None = field(default=None, repr=False)

    @property
    def fingerprints(self) -> Fingerprints:
        """What a plan compares and seals sensitive values with: the key of a state already written. A plan made
        before then only masks them (the apply could not check a key that was never stored)."""
        return Fingerprints(self.fingerprint_key) if self.serial and self.fingerprint_key else UNKEYED

    def sealer(self) -> Fingerprints:
        """What a write seals sensitive values with: the state's key, made now if it has none yet."""
        if self.fingerprint_key is None:
            self.fingerprint_key = secrets.token_bytes(32)
        return Fingerprints(self.fingerprint_key)

    def to_dict(self) -> dict[str, Any]:
        body = {
            "format_version": STATE_FORMAT_VERSION, "environment": self.environment, "lineage": self.lineage,
            "serial": self.serial, "updated_at": self.updated_at, "updated_by": self.updated_by,
            "workspace_commit": self.workspace_commit,
            "fingerprint_key": _b64(self.fingerprint_key),
            "resources": {k: self.resources[k].to_dict() for k in sorted(self.resources)},
        }
        body["checksum"] = checksum(body)
        return body

    def to_json(self) -> bytes:
        """The document, one resource a line: readable, a diff shows the resources that changed, and each line is
        made by the json module's C encoder (an indented document is made in Python: 5 times slower)."""
        with paused_gc():
            body = self.to_dict()
            lines = ["{"]
            for i, (key, value) in enumerate(body.items()):
                comma = "," if i < len(body) - 1 else ""
                if key != "resources" or not value:
                    lines.append(f" {json.dumps(key)}: {json.dumps(value)}{comma}")
                    continue
                lines.append(' "resources": {')
                lines.extend(f"  {json.dumps(addr)}: {json.dumps(r)}," for addr, r in value.items())
                lines[-1] = lines[-1][:-1]
                lines.append(f" }}{comma}")
            lines.append("}\n")
            return "\n".join(lines).encode()

    def stamp(self, who: str) -> None:
        self.sealer()  # every state written has its key
        self.serial += 1
        self.updated_at = datetime.now(UTC).isoformat(timespec="seconds")
        self.updated_by = who

    @classmethod
    def from_bytes(cls, data: bytes, source: str) -> State:
        with paused_gc():
            return cls._from_bytes(data, source)

    @classmethod
    def _from_bytes(cls, data: bytes, source: str) -> State:
        try:
            doc = _loads(data)
        except ValueError as e:
            raise StateError(f"{source}: state is not valid JSON ({e}); it may be truncated") from None
        if not isinstance(doc, dict):
            raise StateError(f"{source}: state is not a JSON object")
        version = doc.get("format_version")
        if not isinstance(version, int) or version > STATE_FORMAT_VERSION:
            raise StateError(f"{source}: state format_version {version!r} is newer than this dss-iac understands "
                             f"({STATE_FORMAT_VERSION}); upgrade dss-iac")
        if not _checksum_matches(doc):
            raise StateError(f"{source}: state checksum mismatch: the file was edited or corrupted")
        try:
            resources = {addr: ResourceState.from_dict(r) for addr, r in doc["resources"].items()}
            key = doc.get("fingerprint_key")
            return cls(doc["environment"], doc["lineage"], int(doc["serial"]), resources,
                       doc.get("updated_at", ""), doc.get("updated_by", ""), doc.get("workspace_commit", ""),
                       None if key is None else base64.b64decode(key, validate=True))
        except (KeyError, TypeError, ValueError) as e:  # bad base64 is a ValueError too
            raise StateError(f"{source}: state is missing or has an invalid {e}") from None


@dataclass(frozen=True)
class Changes:
    """How many resources one command added to, changed in and removed from the state."""

    added: int = 0
    changed: int = 0
    destroyed: int = 0

    @classmethod
    def between(cls, before: State | None, after: State) -> Changes:
        old = before.resources if before is not None else {}
        new = after.resources
        return cls(added=sum(a not in old for a in new),
                   changed=sum(a in old and old[a].to_dict() != r.to_dict() for a, r in new.items()),
                   destroyed=sum(a not in new for a in old))


def _b64(key: bytes | None) -> str | None:
    return None if key is None else base64.b64encode(key).decode("ascii")


def checksum(doc: Mapping[str, Any]) -> str:
    """The SHA-256 of the document (its checksum aside) in canonical form: the json module's, keys sorted."""
    body = {k: v for k, v in doc.items() if k != "checksum"}
    return "sha256:" + hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _checksum_matches(doc: Mapping[str, Any]) -> bool:
    """Whether the document's checksum is its own. orjson's canonical form (5 times faster) is the json module's
    whenever the document is ASCII text without special numbers, as a state almost always is; when its hash does
    not match, the json module's decides (a text of other characters, floats in exponent form, a damaged file).
    A match of orjson's form is as sound: that text parses to this document, so the document is the one hashed."""
    expected = doc.get("checksum")
    body = {k: v for k, v in doc.items() if k != "checksum"}
    try:
        fast = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # an integer beyond 64 bits
        fast = b""
    if fast and expected == "sha256:" + hashlib.sha256(fast).hexdigest():
        return True
    return expected == checksum(doc)


def _loads(data: bytes) -> Any:
    """JSON with orjson (faster); the json module for what orjson refuses (NaN, integers beyond 64 bits) and to word
    the error of a document that is not JSON."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)
