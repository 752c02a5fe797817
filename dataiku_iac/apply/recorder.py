"""Recording operations as they happen: a journal entry before and after each DSS write, and the state.

The journal entries are small and written synchronously (see journal.py): they make each step durable. The
state itself is written by a background writer that always writes the latest state, at most about once a second
(less often when a write is costly: a big state): completions in between coalesce into one write, so a big state is
never rewritten once per operation, nor copied on the hot path. Once the final state is
written, it is kept as one history entry (the whole apply is one command, however many writes it took)
and the journal is cleared. A crash leaves the journal, from which the next run recovers.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from ..secrets import mask
from ..state.model import Changes, ResourceState, State
from .journal import Journal

# The least time between two state writes (seconds), and the most of its time the writer may spend writing.
WRITE_INTERVAL = 1.0
WRITE_SHARE = 0.2
# How each phase of an apply counts in its history entry (as its summary line counts it).
_COUNTED = {"create": "added", "update": "changed", "delete": "destroyed", "forget": "destroyed"}


class Backend(Protocol):
    def write(self, state: State) -> None: ...

    def checkpoint(self, state: State, command: str, changes: Changes | None = None) -> object: ...


class StateRecorder:
    def __init__(self, backend: Backend, state: State, who: str, *, journal: Journal | None = None,
                 commit: str = "", check: Callable[[], None] | None = None, command: str = "apply") -> None:
        self._backend = backend
        self._command = command
        self._counts = {"added": 0, "changed": 0, "destroyed": 0}
        self._last: State | None = None  # the last state written, kept as the command's history entry
        self._state = state
        # Made before any worker thread runs: every entry of this apply is sealed with the same key.
        self.fingerprints = state.sealer()
        self._who = who
        self._journal = journal
        self._commit = commit
        # Raises when the run lost its lock: then not a byte more of state is written.
        self._check = check or (lambda: None)
        self._lock = threading.Lock()
        self._dirty = threading.Event()
        self._stopping = threading.Event()
        self._stop = False
        self._changes = 0
        self._error: BaseException | None = None
        self.writes = 0
        self._thread = threading.Thread(target=self._run, name="state-writer", daemon=True)
        self._thread.start()

    @property
    def state(self) -> State:
        return self._state

    def intent(self, address: str, kind: str, phase: str, remote_id: str | None, depends_on: list[str],
               fields: Mapping[str, Any] | None = None, name: str | None = None) -> None:
        """Before a DSS write: durable before the call is made. `fields`: what the write sends (only their masked
        form is journaled, and only when they hold sensitive values); `name`: what a create gives the object, by
        which it is found again if the call's outcome is unknown."""
        self._check()
        if self._journal is not None:
            masked = mask(dict(fields)) if fields is not None else None
            self._journal.intent(address, kind, phase, remote_id, depends_on,
                                 masked if masked is not None and masked != fields else None, name)

    def put(self, address: str, entry: ResourceState, phase: str = "update") -> None:
        if self._journal is not None:
            self._journal.done(address, phase, entry, self._state.fingerprint_key)
        with self._lock:
            self._state.resources[address] = entry
            self._count(phase)
        self._dirty.set()

    def forget(self, address: str, phase: str = "delete") -> None:
        if self._journal is not None:
            self._journal.done(address, phase, None)
        with self._lock:
            self._state.resources.pop(address, None)
            self._count(phase)
        self._dirty.set()

    def _count(self, phase: str) -> None:
        self._changes += 1
        if phase in _COUNTED:
            self._counts[_COUNTED[phase]] += 1

    def _snapshot(self) -> State | None:
        """The state as it is now. Entries are never changed once put (each put brings a new one), so a copy of the
        mapping is a snapshot: no deep copy under the lock that every completing step takes."""
        with self._lock:
            if not self._changes:
                return None
            self._changes = 0
            self._state.stamp(self._who)
            self._state.workspace_commit = self._commit or self._state.workspace_commit
            return dataclasses.replace(self._state, resources=dict(self._state.resources))

    def _run(self) -> None:
        while True:
            self._dirty.wait()
            self._dirty.clear()
            stopping = self._stop
            snapshot = self._snapshot()
            if snapshot is not None:
                started = time.monotonic()
                try:
                    self._check()
                    self._backend.write(snapshot)
                    self._last = snapshot
                    self.writes += 1
                except BaseException as e:  # surfaced by close(): the apply must not report success
                    self._error = e
                    return
                if not stopping:  # let completions gather (the journal holds them meanwhile), or close() come
                    spent = time.monotonic() - started
                    self._stopping.wait(max(WRITE_INTERVAL - spent, spent / WRITE_SHARE - spent))
            if stopping:
                return

    def close(self) -> None:
        """Write what is left and stop; raises if any write failed."""
        self._stop = True
        self._stopping.set()
        self._dirty.set()
        self._thread.join()
        if self._error is not None:
            raise self._error
        if self._last is not None:
            self._backend.checkpoint(self._last, self._command, Changes(**self._counts))
        if self._journal is not None:
            self._journal.clear()  # everything it recorded is in the state now
