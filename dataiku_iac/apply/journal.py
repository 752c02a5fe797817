"""The apply journal: an intent written before each DSS write, a result after it.

Writes are small and synchronous, so a crash at any point leaves a record of what was under way; the
state snapshot is written in the background and may lag. The next run replays the results and checks
DSS for each intent without a result (see recovery.py). Records that come in while another is being written are
written together, with one fsync (group commit): each `intent` or `done` still returns only once its record is
durable.
"""

from __future__ import annotations

import base64
import itertools
import threading
from datetime import UTC, datetime
from typing import Any

from ..state.model import ResourceState
from ..state.store import StateStore


class Journal:
    def __init__(self, store: StateStore) -> None:
        self._store = store
        existing = [r.get("seq", 0) for r in store.journal()]
        self._seq = itertools.count(max(existing, default=0) + 1)
        self._lock = threading.Lock()
        self._key_noted = False
        self._turn = threading.Condition()
        self._pending: list[tuple[int, dict[str, Any]]] = []
        self._batch = 0  # the batch records appended now go in
        self._writing = False
        self._written: dict[int, BaseException | None] = {}  # batch -> how its write ended

    def _append(self, record: dict[str, Any]) -> None:
        batch: list[tuple[int, dict[str, Any]]] = []
        with self._turn:
            seq = next(self._seq)
            record["seq"] = seq
            record["at"] = datetime.now(UTC).isoformat(timespec="milliseconds")
            self._pending.append((seq, record))
            mine = self._batch
            self._turn.wait_for(lambda: mine in self._written or not self._writing)
            leader = mine not in self._written
            if leader:  # nobody is writing: write what has gathered, this record with it
                batch, self._pending = self._pending, []
                self._batch += 1
                self._writing = True
        if leader:
            error: BaseException | None = None
            try:
                self._store.journal_extend(batch)
            except BaseException as e:  # every record of the batch fails with it
                error = e
            with self._turn:
                self._written[mine] = error
                self._writing = False
                self._turn.notify_all()
        with self._turn:
            failed = self._written[mine]
        if failed is not None:
            raise failed

    def intent(self, address: str, kind: str, phase: str, remote_id: str | None, depends_on: list[str],
               masked: dict[str, Any] | None = None, name: str | None = None) -> None:
        """`masked`: the fields to write with their sensitive values masked, when they hold any, so that a recovery
        that adopts the object knows which of its values to keep out of the state. `name`: what a create gives the
        object, by which it is found again if the call's outcome is unknown."""
        record: dict[str, Any] = {"op": "intent", "address": address, "kind": kind, "phase": phase,
                                  "remote_id": remote_id, "depends_on": depends_on}
        if masked is not None:
            record["masked"] = masked
        if name is not None:
            record["name"] = name
        self._append(record)

    def done(self, address: str, phase: str, entry: ResourceState | None, fingerprint_key: bytes | None = None) -> None:
        """`fingerprint_key`: the key `entry`'s fingerprints are made with, kept with the first result so that a
        state never written before the crash recovers its results with the key that can check them."""
        record: dict[str, Any] = {"op": "done", "address": address, "phase": phase,
                                  "resource": None if entry is None else entry.to_dict()}
        with self._lock:
            first = fingerprint_key is not None and not self._key_noted
            self._key_noted = self._key_noted or first
        if first and fingerprint_key is not None:
            record["fingerprint_key"] = base64.b64encode(fingerprint_key).decode("ascii")
        self._append(record)

    def clear(self) -> None:
        self._store.journal_clear()
