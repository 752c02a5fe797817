"""A node's data: plain JSON documents in memory, optionally persisted to a folder.

Persistence is sharded (one file for instance-level data, one per project, one per blob) so that a
write touches only what changed. Every file is replaced atomically (temp file, fsync, rename), so a
crash leaves either the old or the new version, never a torn one.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .._fs import atomic_write


class Store:
    """Instance-level collections, projects and blobs of one node, guarded by one lock."""

    def __init__(self, data_dir: Path | None = None) -> None:
        self.lock = threading.RLock()
        self.data_dir = data_dir
        self.instance: dict[str, Any] = {}
        self.projects: dict[str, dict[str, Any]] = {}
        self._blobs: dict[str, bytes] = {}
        self._dirty_instance = False
        self._dirty_projects: set[str] = set()
        if data_dir is not None:
            self._load(data_dir)

    # -- collections -------------------------------------------------------------------------
    def coll(self, name: str) -> dict[str, Any]:
        """An instance-level collection (connections, users, futures...), created on first use."""
        return self.instance.setdefault(name, {})

    def counter(self, name: str) -> int:
        """A persistent, increasing number (ids, run numbers)."""
        counters = self.coll("_counters")
        counters[name] = counters.get(name, 0) + 1
        self.mark()
        return counters[name]

    # -- change tracking -----------------------------------------------------------------------
    def mark(self, project_key: str | None = None) -> None:
        """Record that instance data (or one project) changed and must be persisted."""
        if project_key is None:
            self._dirty_instance = True
        else:
            self._dirty_projects.add(project_key)

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """Hold the node's lock for one request, then persist what it changed."""
        with self.lock:
            try:
                yield self
            finally:
                self.flush()

    def flush(self) -> None:
        with self.lock:
            if self.data_dir is not None:
                if self._dirty_instance:
                    atomic_write(self.data_dir / "instance.json", _dump(self.instance))
                for key in sorted(self._dirty_projects):
                    path = self.data_dir / "projects" / f"{key}.json"
                    if key in self.projects:
                        atomic_write(path, _dump(self.projects[key]))
                    elif path.exists():
                        path.unlink()
            self._dirty_instance = False
            self._dirty_projects.clear()

    # -- blobs (bundle archives, uploads) -------------------------------------------------------
    def put_blob(self, data: bytes) -> str:
        blob_id = hashlib.sha256(data).hexdigest()
        with self.lock:
            if self.data_dir is not None:
                path = self.data_dir / "blobs" / blob_id
                if not path.exists():
                    atomic_write(path, data)
            else:
                self._blobs[blob_id] = data
        return blob_id

    def get_blob(self, blob_id: str) -> bytes:
        with self.lock:
            if self.data_dir is not None:
                return (self.data_dir / "blobs" / blob_id).read_bytes()
            return self._blobs[blob_id]

    # -- loading ---------------------------------------------------------------------------------
    def _load(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        instance = data_dir / "instance.json"
        if instance.exists():
            self.instance = json.loads(instance.read_text(encoding="utf-8"))
        projects = data_dir / "projects"
        if projects.is_dir():
            for f in sorted(projects.glob("*.json")):
                self.projects[f.stem] = json.loads(f.read_text(encoding="utf-8"))
        for tmp in data_dir.rglob(".*.tmp"):
            tmp.unlink()  # leftovers of a write interrupted by a crash


def _dump(doc: Any) -> bytes:
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode("utf-8")
