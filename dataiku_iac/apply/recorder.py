"""Recording completed operations in the state as they happen.

Each completed operation is written to the backend by a background writer that always writes the
latest state: consecutive completions coalesce into one write, so recording costs at most one write
in flight, never one write per operation on the hot path. A crash can lose only completions not yet
written, and the next plan re-reads DSS and adopts those objects by name.
"""

from __future__ import annotations

import copy
import threading
from typing import Protocol

from ..state.model import ResourceState, State


class Backend(Protocol):
    def write(self, state: State) -> None: ...


class StateRecorder:
    def __init__(self, backend: Backend, state: State, who: str) -> None:
        self._backend = backend
        self._state = state
        self._who = who
        self._lock = threading.Lock()
        self._dirty = threading.Event()
        self._stop = False
        self._changes = 0
        self._error: BaseException | None = None
        self.writes = 0
        self._thread = threading.Thread(target=self._run, name="state-writer", daemon=True)
        self._thread.start()

    @property
    def state(self) -> State:
        return self._state

    def put(self, address: str, entry: ResourceState) -> None:
        with self._lock:
            self._state.resources[address] = entry
            self._changes += 1
        self._dirty.set()

    def forget(self, address: str) -> None:
        with self._lock:
            self._state.resources.pop(address, None)
            self._changes += 1
        self._dirty.set()

    def _snapshot(self) -> State | None:
        with self._lock:
            if not self._changes:
                return None
            self._changes = 0
            self._state.stamp(self._who)
            return copy.deepcopy(self._state)

    def _run(self) -> None:
        while True:
            self._dirty.wait()
            self._dirty.clear()
            stopping = self._stop
            snapshot = self._snapshot()
            if snapshot is not None:
                try:
                    self._backend.write(snapshot)
                    self.writes += 1
                except BaseException as e:  # surfaced by close(): the apply must not report success
                    self._error = e
                    return
            if stopping:
                return

    def close(self) -> None:
        """Write what is left and stop; raises if any write failed."""
        self._stop = True
        self._dirty.set()
        self._thread.join()
        if self._error is not None:
            raise self._error
