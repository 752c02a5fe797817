"""A node's data: plain JSON documents in memory, optionally persisted to a folder.

Persistence is one SQLite database per node (`store.db`, the standard library's sqlite3, WAL journal,
synchronous=FULL) holding one row per object: each top-level value of the instance document and of each
project is either one row, or, when it is a collection (a dict: datasets, recipes, connections...), one row per
entry. A request's changes are written in one SQLite transaction before its reply is sent, so a crash (even
kill -9) leaves the node as it was before or after that request, never half of it, and never loses an
acknowledged write; SQLite does the journalling that a set of files would need us to do ourselves.

A write costs what it changed, not the size of the project: a collection loaded or persisted once is a
`Tracked` dict that records which of its entries a request reached (read, written or deleted); a request
served over HTTP (`transaction(precise=True)`) writes only those of its entries that differ from what is
stored. Any other transaction (background jobs and runs, seeding, recovery) compares every row of what it
marked. With DSS_IAC_SIM_CHECK_WRITES=1 (the test suite sets it) every precise flush is checked against a full
comparison, so a change that escaped tracking fails the request instead of being lost at the next restart.

Bundle archives and uploads are files under `blobs/`, named by their hash and written before any row names
them. Data dirs of the earlier layout (`instance.json`, `projects/<KEY>.json`) are migrated on open.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .._fs import atomic_write, finish_interrupted_write
from .errors import SimError

DB = "store.db"
CHECK_ENV = "DSS_IAC_SIM_CHECK_WRITES"
INSTANCE = ""  # the owner name of the instance document's rows (a project key is never empty)
JOURNAL = ".flush-journal"  # the earlier layout's journal, finished before migrating
WHOLE, COLLECTION = "=", "{"  # the item of a row holding a whole value, of the row marking a collection

Rows = dict[str, dict[str, bytes]]  # part -> item -> JSON, as stored


class Tracked(dict[str, Any]):
    """A collection that records which entries a request reached (a copy of its items marks them all)."""

    def __init__(self, sink: list[Tracked], data: dict[str, Any]) -> None:
        super().__init__(data)
        self.sink = sink
        self.touched: set[str] = set()
        self.everything = False

    def _touch(self, key: Any) -> None:
        if not self.touched and not self.everything:
            self.sink.append(self)
        self.touched.add(key)

    def _touch_all(self) -> None:
        if not self.touched and not self.everything:
            self.sink.append(self)
        self.everything = True

    def forget(self) -> None:
        self.touched = set()
        self.everything = False

    def __getitem__(self, key: Any) -> Any:
        self._touch(key)
        return super().__getitem__(key)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._touch(key)
        super().__setitem__(key, value)

    def __delitem__(self, key: Any) -> None:
        self._touch(key)
        super().__delitem__(key)

    def get(self, key: Any, default: Any = None) -> Any:
        self._touch(key)
        return super().get(key, default)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        self._touch(key)
        return super().setdefault(key, default)

    def pop(self, key: Any, *default: Any) -> Any:
        self._touch(key)
        return super().pop(key, *default)

    def popitem(self) -> tuple[Any, Any]:
        self._touch_all()
        return super().popitem()

    def values(self) -> Any:
        self._touch_all()
        return super().values()

    def items(self) -> Any:
        self._touch_all()
        return super().items()

    def update(self, *args: Any, **kwargs: Any) -> None:
        self._touch_all()
        super().update(*args, **kwargs)

    def clear(self) -> None:
        self._touch_all()
        super().clear()

    def copy(self) -> dict[str, Any]:
        self._touch_all()  # the copy shares the entries, which may be changed through it
        return dict(self)

    def __copy__(self) -> dict[str, Any]:
        return self.copy()

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        import copy

        return copy.deepcopy(dict(self), memo)  # shares nothing: nothing to track

    def __reduce__(self) -> Any:
        return dict, (dict(self),)

    def __ior__(self, other: Any) -> Tracked:  # type: ignore[override,misc]
        self.update(other)
        return self


class StoreCheckError(RuntimeError):
    """A precise write missed a change (DSS_IAC_SIM_CHECK_WRITES): a simulator bug, never a user's error."""


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
        self._db: sqlite3.Connection | None = None
        self._stored: dict[str, Rows] = {}  # owner -> its rows as they are in the database
        self._tracked: dict[str, dict[str, Tracked]] = {}  # owner -> part -> the collection stored there
        self._touched: list[Tracked] = []  # collections a request reached: forgotten when it ends
        self._check = os.environ.get(CHECK_ENV) == "1"
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
    def transaction(self, *, precise: bool = False) -> Iterator[Store]:
        """Hold the node's lock for one request, then persist what it changed.

        `precise`: the handler reached every object it changed through the store during this very transaction
        (an HTTP request's handler does: it holds nothing from earlier requests), so only the entries it reached
        are compared with what is stored.

        A DSS error (SimError) keeps what the handler recorded before raising it (a failed deployment update
        records its failure). Anything else (a bug, a change that cannot be written) puts a persisted node
        back as it is on disk: one bad request never leaves the node holding, or retrying, a change it
        could not keep."""
        with self.lock:
            keys_before = set(self.projects) if self.data_dir is not None else set()
            try:
                try:
                    yield self
                except SimError:
                    self._flush_or_roll_back(keys_before, precise)
                    raise
                except BaseException:
                    self._roll_back(keys_before)
                    raise
                self._flush_or_roll_back(keys_before, precise)
            finally:
                self._forget_touches()

    def _flush_or_roll_back(self, keys_before: set[str], precise: bool) -> None:
        try:
            self._flush(set(self.projects) ^ keys_before, precise)
        except BaseException:
            self._roll_back(keys_before)
            raise

    def flush(self) -> None:
        with self.lock:
            self._flush(set(), precise=False)

    def _flush(self, appeared_or_gone: set[str], precise: bool) -> None:
        if self._db is not None:
            owners = sorted(self._dirty_projects | appeared_or_gone)
            if self._dirty_instance:
                owners.insert(0, INSTANCE)
            changes = {owner: self._changes(owner, precise) for owner in owners}
            self._write(changes)
            for owner, (_, _, rows) in changes.items():
                self._remember(owner, rows)
        self._dirty_instance = False
        self._dirty_projects.clear()

    def _doc(self, owner: str) -> dict[str, Any] | None:
        return self.instance if owner == INSTANCE else self.projects.get(owner)

    def _changes(self, owner: str, precise: bool) -> tuple[dict[tuple[str, str], bytes], set[tuple[str, str]], Rows]:
        """The rows of `owner` to write and to delete, and its rows once they are written."""
        doc = self._doc(owner)
        stored = self._stored.get(owner, {})
        tracked = self._tracked.get(owner, {})
        upserts: dict[tuple[str, str], bytes] = {}
        deletes: set[tuple[str, str]] = set()
        new: Rows = {}
        for part, value in dict.items(doc or {}):
            part = str(part)
            before = stored.get(part, {})
            reached = tracked.get(part)
            if precise and reached is not None and value is reached and not reached.everything:
                # Nothing reached the other entries during this request: nothing changed them.
                items = new[part] = dict(before)
                for key in reached.touched:
                    item = f".{key}"
                    if dict.__contains__(reached, key):
                        items[item] = data = _dump(dict.__getitem__(reached, key))
                        if before.get(item) != data:
                            upserts[(part, item)] = data
                    elif items.pop(item, None) is not None:
                        deletes.add((part, item))
                continue
            items = new[part] = _rows_of(value)
            upserts.update({(part, item): data for item, data in items.items() if before.get(item) != data})
            deletes.update((part, item) for item in before if item not in items)
        for part, items in stored.items():
            if part not in new:
                deletes.update((part, item) for item in items)
        if precise and self._check and doc is not None:
            full = {str(p): _rows_of(v) for p, v in dict.items(doc)}
            if full != new:
                missed = sorted(p for p in full if full[p] != new.get(p))
                raise StoreCheckError(f"a precise write of {owner or 'the instance'} missed changes in {missed}")
        return upserts, deletes, new

    def _write(self, changes: dict[str, tuple[dict[tuple[str, str], bytes], set[tuple[str, str]], Rows]]) -> None:
        assert self._db is not None
        upserts = [(owner, part, item, data.decode("utf-8"))
                   for owner, (ups, _, _) in changes.items() for (part, item), data in ups.items()]
        deletes = [(owner, part, item) for owner, (_, dels, _) in changes.items() for part, item in dels]
        if not upserts and not deletes:
            return
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany("DELETE FROM docs WHERE owner = ? AND part = ? AND item = ?", deletes)
            db.executemany("INSERT OR REPLACE INTO docs (owner, part, item, doc) VALUES (?, ?, ?, ?)", upserts)
            db.execute("COMMIT")
        except BaseException as e:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            if isinstance(e, sqlite3.Error):  # the database refused (disk full, read-only): an I/O error to DSS
                raise OSError(errno.EIO, str(e)) from e
            raise

    def _remember(self, owner: str, rows: Rows) -> None:
        """`rows` are now what the database holds for `owner`: its collections become tracked ones."""
        doc = self._doc(owner)
        if doc is None or not rows:
            self._stored.pop(owner, None)
            self._tracked.pop(owner, None)
            return
        self._stored[owner] = rows
        before = self._tracked.get(owner, {})
        tracked: dict[str, Tracked] = {}
        for part, value in list(dict.items(doc)):
            if isinstance(value, dict):
                kept = before.get(str(part))
                if value is not kept:
                    kept = doc[part] = Tracked(self._touched, value)
                tracked[str(part)] = kept
        self._tracked[owner] = tracked

    def _forget_touches(self) -> None:
        for tracked in self._touched:
            tracked.forget()
        self._touched.clear()

    def _roll_back(self, keys_before: set[str]) -> None:
        """Forget the changes of a failed request: put back what it touched as it is stored (persisted nodes
        only). Either way nothing is left waiting to be written."""
        try:
            if self._db is not None:
                owners = self._dirty_projects | (set(self.projects) ^ keys_before)
                if self._dirty_instance:
                    owners.add(INSTANCE)
                for owner in owners:
                    self._restore(owner)
        finally:
            self._dirty_instance = False
            self._dirty_projects.clear()

    def _restore(self, owner: str) -> None:
        rows = self._stored.get(owner)
        doc = _doc_of(rows) if rows else None
        if owner == INSTANCE:
            self.instance = doc or {}
        elif doc is None:
            self.projects.pop(owner, None)
        else:
            self.projects[owner] = doc
        self._tracked.pop(owner, None)
        if rows:
            self._remember(owner, rows)

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

    # -- opening -----------------------------------------------------------------------------------
    def _load(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are ours (BEGIN IMMEDIATE ... COMMIT), one per request.
        db = sqlite3.connect(data_dir / DB, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")  # a commit is on disk (WAL fsynced) before the reply is sent
        db.execute("CREATE TABLE IF NOT EXISTS docs (owner TEXT NOT NULL, part TEXT NOT NULL, item TEXT NOT NULL,"
                   " doc TEXT NOT NULL, PRIMARY KEY (owner, part, item)) WITHOUT ROWID")
        self._db = db
        _migrate(db, data_dir)
        found: dict[str, Rows] = {}
        for owner, part, item, doc in db.execute("SELECT owner, part, item, doc FROM docs ORDER BY owner, part, item"):
            found.setdefault(owner, {}).setdefault(part, {})[item] = doc.encode("utf-8")
        for owner, rows in found.items():
            if owner == INSTANCE:
                self.instance = _doc_of(rows)
            else:
                self.projects[owner] = _doc_of(rows)
            self._remember(owner, rows)
        for tmp in data_dir.rglob(".*.tmp"):
            tmp.unlink()  # leftovers of a blob write interrupted by a crash

    def close(self) -> None:
        with self.lock:
            if self._db is not None:
                self._db.close()
                self._db = None


def _rows_of(value: Any) -> dict[str, bytes]:
    """One top-level value's rows: a collection's marker and entries, or the whole value."""
    if isinstance(value, dict):
        rows = {f".{item}": _dump(entry) for item, entry in dict.items(value)}
        rows[COLLECTION] = b"{}"
        return rows
    return {WHOLE: _dump(value)}


def _doc_of(rows: Rows) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for part, items in rows.items():
        if WHOLE in items:
            doc[part] = json.loads(items[WHOLE])
        else:
            doc[part] = {item[1:]: json.loads(data) for item, data in items.items() if item != COLLECTION}
    return doc


def _migrate(db: sqlite3.Connection, data_dir: Path) -> None:
    """Move a data dir of the earlier layout (one JSON file per project) into the database, in one transaction;
    the files go once it is committed (a crash before that migrates them again, to the same rows)."""
    finish_interrupted_write(data_dir / JOURNAL)  # a flush a crash cut short: finish or undo it
    instance = data_dir / "instance.json"
    files = ([instance] if instance.is_file() else []) + sorted((data_dir / "projects").glob("*.json"))
    if not files:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        for f in files:
            owner = INSTANCE if f == instance else f.stem
            db.execute("DELETE FROM docs WHERE owner = ?", (owner,))
            rows = {part: _rows_of(value) for part, value in json.loads(f.read_text(encoding="utf-8")).items()}
            db.executemany("INSERT INTO docs (owner, part, item, doc) VALUES (?, ?, ?, ?)",
                           [(owner, part, item, data.decode("utf-8"))
                            for part, items in rows.items() for item, data in items.items()])
        db.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")
        raise
    for f in files:
        f.unlink()
    with contextlib.suppress(OSError):
        (data_dir / "projects").rmdir()


def _dump(doc: Any) -> bytes:
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode("utf-8")
