"""Crash-test hooks for the embedded DSS (docs/simulator.md): kill a process at a chosen write of an apply.

`DSS_IAC_SIM_CRASH_AFTER_WRITES=k` kills right after the k-th write was done, `DSS_IAC_SIM_CRASH_BEFORE_WRITE=k`
as the k-th write goes out, before DSS does it. `DSS_IAC_SIM_CRASH_TARGET` says whose process dies: `client`
(default: this dss-iac process, killed by its own transport; after a write, once the answer has come and before
the caller sees it, so the write is in DSS and the apply never heard of it) or `server` (the embedded DSS: after
storing the write and before answering, or as the write arrives; the apply then loses its DSS half-way).
"""

from __future__ import annotations

import os
import signal
import threading
from dataclasses import dataclass
from typing import Any

from ..errors import DSSApiError

AFTER_ENV = "DSS_IAC_SIM_CRASH_AFTER_WRITES"
BEFORE_ENV = "DSS_IAC_SIM_CRASH_BEFORE_WRITE"
TARGET_ENV = "DSS_IAC_SIM_CRASH_TARGET"
TARGETS = ("client", "server")


@dataclass(frozen=True)
class CrashSetting:
    after: int | None = None
    before: int | None = None
    target: str = "client"

    @property
    def armed(self) -> bool:
        return self.after is not None or self.before is not None


def crash_setting() -> CrashSetting:
    raw = {name: os.environ.get(name, "").strip() for name in (AFTER_ENV, BEFORE_ENV)}
    target = os.environ.get(TARGET_ENV, "client").strip()
    if target not in TARGETS or not all(v.isdigit() for v in raw.values() if v):
        raise DSSApiError(f"{AFTER_ENV} and {BEFORE_ENV} take a number of writes, {TARGET_ENV} 'client' or 'server'")
    return CrashSetting(int(raw[AFTER_ENV]) if raw[AFTER_ENV] else None,
                        int(raw[BEFORE_ENV]) if raw[BEFORE_ENV] else None, target)


# Counted across the process's clients (dev and prod on one embedded DSS), as one DSS would count them.
_counts = {"before": 0, "after": 0}
_lock = threading.Lock()


def _count(which: str, limit: int | None) -> None:
    if limit is None:
        return
    with _lock:
        _counts[which] += 1
        if _counts[which] == limit:
            os.kill(os.getpid(), signal.SIGKILL)


def install(session: Any, setting: CrashSetting) -> None:
    """Make this process die at the chosen write of `session` (a client's requests session), when it is the
    target."""
    if setting.target != "client" or not setting.armed:
        return
    original = session.request

    def request(method: str, url: str, **kwargs: Any) -> Any:
        if method.upper() != "GET":
            _count("before", setting.before)
        return original(method, url, **kwargs)

    def answered(response: Any, *args: Any, **kwargs: Any) -> Any:
        if response.request.method != "GET":
            _count("after", setting.after)
        return response

    session.request = request
    session.hooks["response"].append(answered)
