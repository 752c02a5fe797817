"""The cyclic garbage collector paused while big documents are built (a state, a workspace's files, a plan).

Building tens of thousands of dicts makes the collector run again and again over every object already alive (the
configuration, the state): measured, a third of a no-op plan's CPU and half of reading a 25,000-resource state
(docs/performance.md). What these phases build is kept, not garbage, so pausing loses nothing; reference counting
still frees what they drop, and the collector runs as usual once the last paused phase ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_paused = 0  # phases in progress, in any thread: the collector resumes when the last one ends
_was_enabled = False


@contextmanager
def paused_gc() -> Iterator[None]:
    global _paused, _was_enabled
    with _lock:
        if _paused == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _lock:
            _paused -= 1
            if _paused == 0 and _was_enabled:
                gc.enable()
