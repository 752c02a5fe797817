"""A node's data: plain JSON documents in memory, optionally persisted to a folder.

Persistence is sharded (one file for instance-level data, one per project, one per blob) so that a
write touches only what changed. The files one request changed are replaced together (`write_together`),
so a crash leaves either the old or the new version of the node, never a torn or half-written one; a
request that fails, or whose changes cannot be written, leaves a persisted node as it was on disk.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .._fs import atomic_write, finish_interrupted_write, write_together
from .errors import SimError

# Project keys that may name a file: a request can never write outside `projects/`, nor a name too long for
# the file system (the handlers refuse such keys first; this is the last line of defence).
_FILE_KEY = re.compile(r"^[A-Za-z0-9_]{1,200}$")
JOURNAL = ".flush-journal"


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
        """Hold the node's lock for one request, then persist what it changed.

        A DSS error (SimError) keeps what the handler recorded before raising it (a failed deployment update
        records its failure). Anything else (a bug, a change that cannot be written) puts a persisted node
        back as it is on disk: one bad request never leaves the node holding, or retrying, a change it
        could not keep."""
        with self.lock:
            keys_before = set(self.projects) if self.data_dir is not None else set()
            try:
                yield self
            except SimError:
                self._flush_or_roll_back(keys_before)
                raise
            except BaseException:
                self._roll_back(keys_before)
                raise
            self._flush_or_roll_back(keys_before)

    def _flush_or_roll_back(self, keys_before: set[str]) -> None:
        try:
            self.flush()
        except BaseException:
            self._roll_back(keys_before)
            raise

    def flush(self) -> None:
        with self.lock:
            if self.data_dir is not None:
                files: dict[Path, bytes | None] = {}
                if self._dirty_instance:
                    files[self.data_dir / "instance.json"] = _dump(self.instance)
                for key in sorted(self._dirty_projects):
                    files[self._project_file(key)] = _dump(self.projects[key]) if key in self.projects else None
                journal = self.data_dir / JOURNAL
                try:
                    write_together(journal, files)
                except BaseException:
                    with contextlib.suppress(OSError):  # else the next load finishes the job
                        finish_interrupted_write(journal)  # undo what was staged
                    raise
            self._dirty_instance = False
            self._dirty_projects.clear()

    def _project_file(self, key: str) -> Path:
        assert self.data_dir is not None
        if not _FILE_KEY.match(key):
            raise ValueError(f"project key {key[:40]!r} cannot name a file")
        return self.data_dir / "projects" / f"{key}.json"

    def _roll_back(self, keys_before: set[str]) -> None:
        """Forget the changes of a failed request: reload from disk what it touched (persisted nodes only).
        What cannot be read back stays as it is in memory; either way nothing is left waiting to be written."""
        try:
            if self.data_dir is not None:
                if self._dirty_instance:
                    with contextlib.suppress(OSError, ValueError):
                        self.instance = _read_json(self.data_dir / "instance.json") or {}
                for key in self._dirty_projects | (set(self.projects) ^ keys_before):
                    with contextlib.suppress(OSError, ValueError):
                        doc = _read_json(self._project_file(key)) if _FILE_KEY.match(key) else None
                        if doc is None:
                            self.projects.pop(key, None)
                        else:
                            self.projects[key] = doc
        finally:
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
        finish_interrupted_write(data_dir / JOURNAL)  # a flush a crash cut short: finish or undo it
        instance = data_dir / "instance.json"
        if instance.exists():
            self.instance = json.loads(instance.read_text(encoding="utf-8"))
        projects = data_dir / "projects"
        if projects.is_dir():
            for f in sorted(projects.glob("*.json")):
                self.projects[f.stem] = json.loads(f.read_text(encoding="utf-8"))
        for tmp in data_dir.rglob(".*.tmp"):
            tmp.unlink()  # leftovers of a write interrupted by a crash


def _read_json(path: Path) -> Any:
    """The document in `path`; None if there is none (the file, or a folder on its way, is missing)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError):
        return None


def _dump(doc: Any) -> bytes:
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode("utf-8")
