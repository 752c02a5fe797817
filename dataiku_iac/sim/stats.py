"""Request accounting: counts per route and node, injected faults, and a bounded log."""

from __future__ import annotations

import threading
from collections import Counter, deque
from typing import Any


class Stats:
    def __init__(self, log_size: int = 10_000) -> None:
        self._lock = threading.Lock()
        self._log_size = log_size
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.requests = 0
            self.faults = 0
            self.by_route: Counter[str] = Counter()
            self.by_node: Counter[str] = Counter()
            self.by_status: Counter[int] = Counter()
            self.log: deque[dict[str, Any]] = deque(maxlen=self._log_size)

    def record(self, node: str, method: str, path: str, route: str | None, status: int, fault: str | None) -> None:
        with self._lock:
            self.requests += 1
            self.by_node[node] += 1
            self.by_status[status] += 1
            self.by_route[f"{method} {route or path}"] += 1
            if fault:
                self.faults += 1
            self.log.append({"node": node, "method": method, "path": path, "status": status, "fault": fault})

    def snapshot(self, with_log: bool = False) -> dict[str, Any]:
        with self._lock:
            out: dict[str, Any] = {
                "requests": self.requests,
                "faults": self.faults,
                "byNode": dict(self.by_node),
                "byRoute": dict(self.by_route),
                "byStatus": {str(k): v for k, v in self.by_status.items()},
            }
            if with_log:
                out["log"] = list(self.log)
            return out
