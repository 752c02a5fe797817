"""The local backend: one JSON file per environment, written atomically, guarded by a lock file."""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .._fs import atomic_write
from ..errors import LockError, StateError
from .model import State


def whoami() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


@dataclass(frozen=True)
class LockInfo:
    id: str
    who: str
    pid: int
    host: str
    operation: str
    started: str

    def describe(self) -> str:
        return f"lock {self.id} held by {self.who} (pid {self.pid}, {self.operation}, since {self.started})"


class LocalBackend:
    """State of each environment in `<folder>/<env>.json`, its lock in `<folder>/<env>.lock`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, env: str) -> Path:
        return self.folder / f"{env}.json"

    def lock_path(self, env: str) -> Path:
        return self.folder / f"{env}.lock"

    def read(self, env: str) -> State | None:
        path = self.path(env)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise StateError(f"cannot read state {path}: {e.strerror}") from None
        state = State.from_bytes(data, str(path))
        if state.environment != env:
            raise StateError(f"{path} holds the state of environment '{state.environment}', not '{env}'")
        return state

    def load(self, env: str) -> State:
        return self.read(env) or State(environment=env)

    def write(self, state: State) -> None:
        atomic_write(self.path(state.environment), state.to_json())

    # -- locking ---------------------------------------------------------------------------------
    def lock(self, env: str, operation: str) -> LockInfo:
        """Take the environment's lock; a lock left by a dead process on this host is taken over."""
        self.folder.mkdir(parents=True, exist_ok=True)
        info = LockInfo(uuid.uuid4().hex[:12], whoami(), os.getpid(), socket.gethostname(), operation,
                        datetime.now(UTC).isoformat(timespec="seconds"))
        path = self.lock_path(env)
        for _ in range(2):
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                holder = self.lock_holder(env)
                if holder is not None and not _stale(holder):
                    raise LockError(f"state of '{env}' is locked: {holder.describe()}; if that run is gone, "
                                    f"`dss-iac state unlock -e {env} {holder.id}`") from None
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                continue
            with os.fdopen(fd, "w") as f:
                json.dump(info.__dict__, f)
            return info
        raise LockError(f"could not take the state lock of '{env}' ({path})")

    def lock_holder(self, env: str) -> LockInfo | None:
        try:
            doc = json.loads(self.lock_path(env).read_text())
            return LockInfo(**doc)
        except FileNotFoundError:
            return None
        except (ValueError, TypeError):
            # A half-written lock file: its writer died between create and write.
            return LockInfo("unknown", "unknown", -1, "", "unknown", "")

    def unlock(self, env: str, lock_id: str) -> None:
        holder = self.lock_holder(env)
        if holder is None:
            return
        if holder.id != lock_id and lock_id != "force":
            raise LockError(f"state of '{env}' is held by {holder.id}, not {lock_id}")
        with contextlib.suppress(FileNotFoundError):
            self.lock_path(env).unlink()


def _stale(holder: LockInfo) -> bool:
    """A lock whose process is gone from this host is released automatically."""
    if holder.pid < 0:
        return True
    if holder.host != socket.gethostname():
        return False
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
