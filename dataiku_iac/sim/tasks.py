"""Long tasks of a node (jobs, scenario runs): one background thread each, abortable, stopped with the node.

DSS runs jobs and scenarios asynchronously: the call that starts one returns at once and the client polls.
A task here is a thread that records its progress in the node's store (under the store's lock, one short
transaction per change), so every state a client can see in DSS (running, done, failed, aborted) is seen here.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger("dataiku_iac.sim")


class Aborted(Exception):
    """Raised inside a task when it was asked to stop."""


@dataclass
class Task:
    """A running task: its abort flag and the child process it waits on, if any."""

    key: str
    abort_requested: threading.Event = field(default_factory=threading.Event)
    process: subprocess.Popen[bytes] | None = None
    thread: threading.Thread | None = None

    def check(self) -> None:
        if self.abort_requested.is_set():
            raise Aborted(f"{self.key} was aborted")

    def abort(self) -> None:
        self.abort_requested.set()
        proc = self.process
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(OSError):
                proc.kill()


class Tasks:
    """The running tasks of one node, by key ("job:PROJ:id", "scenario:PROJ:id:run")."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[str, Task] = {}
        self.stopped = False

    def start(self, key: str, body: Callable[[Task], object]) -> Task:
        task = Task(key)

        def run() -> None:
            try:
                body(task)
            except Exception:  # a task records its own failure; this only guards the thread
                log.exception("simulator task %s failed", key)
            finally:
                with self._lock:
                    self._running.pop(key, None)

        task.thread = threading.Thread(target=run, name=f"dss-sim {key}", daemon=True)
        with self._lock:
            if self.stopped:
                raise RuntimeError("the node is stopping: no new task")
            self._running[key] = task
        task.thread.start()
        return task

    def attach(self, key: str, task: Task) -> None:
        """Make a running task reachable under another key too (a scenario's job, aborted by its own id)."""
        with self._lock:
            self._running[key] = task

    def detach(self, key: str) -> None:
        with self._lock:
            self._running.pop(key, None)

    def get(self, key: str) -> Task | None:
        with self._lock:
            return self._running.get(key)

    def busy(self) -> bool:
        """Whether a task is running."""
        with self._lock:
            return bool(self._running)

    def abort(self, key: str) -> bool:
        task = self.get(key)
        if task is None:
            return False
        task.abort()
        return True

    def stop_all(self, timeout: float = 10.0) -> None:
        """Abort every task and wait for their threads (a stopping simulator leaves nothing running)."""
        with self._lock:
            self.stopped = True
            tasks = list(self._running.values())
        for task in tasks:
            task.abort()
        for task in tasks:
            if task.thread is not None and task.thread is not threading.current_thread():
                task.thread.join(timeout)
