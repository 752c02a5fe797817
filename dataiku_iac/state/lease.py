"""State locks as leases: they name their holder, expire when the holder stops renewing, and can be broken.

A lease is a small document next to the state. It is taken with a compare-and-swap on the blob store, so
two runs can never both hold it; a heartbeat thread renews it while the holder lives; a holder killed
with -9 stops renewing and its lease expires after `ttl` seconds.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from .._fs import process_is_gone
from ..errors import LockError
from .blobs import ABSENT, BlobConflict, BlobStore

DEFAULT_TTL = 60.0


def whoami() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


@dataclass(frozen=True)
class Lease:
    id: str
    who: str
    pid: int
    host: str
    operation: str
    started: str
    expires: float  # epoch seconds

    def describe(self) -> str:
        left = self.expires - time.time()
        expiry = f"expires in {left:.0f}s unless renewed" if left > 0 else "expired"
        return f"lock {self.id} held by {self.who} (pid {self.pid}, {self.operation}, since {self.started}; {expiry})"

    @property
    def expired(self) -> bool:
        return self.expires < time.time()

    @property
    def holder_is_dead(self) -> bool:
        """On this very host, a holder whose process is gone can be replaced without waiting for expiry."""
        return process_is_gone(self.host, self.pid)

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Lease:
        try:
            return cls(**json.loads(data))
        except (ValueError, TypeError):
            # A lease its writer never finished: nobody holds it.
            return cls("unknown", "unknown", -1, "", "unknown", "", 0.0)


class Leases:
    """Take, renew and release the lease of one environment's state."""

    def __init__(self, blobs: BlobStore, key: str, env: str, ttl: float = DEFAULT_TTL) -> None:
        self.blobs = blobs
        self.key = key
        self.env = env
        self.ttl = ttl

    def holder(self) -> Lease | None:
        got = self.blobs.get(self.key)
        return None if got is None else Lease.from_bytes(got[0])

    def acquire(self, operation: str, timeout: float = 0.0) -> Lease:
        deadline = time.monotonic() + timeout
        while True:
            lease = Lease(uuid.uuid4().hex[:12], whoami(), os.getpid(), socket.gethostname(), operation,
                          datetime.now(UTC).isoformat(timespec="seconds"), time.time() + self.ttl)
            got = self.blobs.get(self.key)
            try:
                if got is None:
                    self.blobs.put(self.key, lease.to_bytes(), expect=ABSENT)
                    return lease
                current = Lease.from_bytes(got[0])
                if current.expired or current.holder_is_dead:
                    self.blobs.put(self.key, lease.to_bytes(), expect=got[1])
                    return lease
            except BlobConflict:
                continue  # someone else moved first: look again
            if time.monotonic() >= deadline:
                raise LockError(f"state of '{self.env}' is locked: {current.describe()}; wait for it, use "
                                f"--lock-timeout, or if that run is gone: `dss-iac state unlock -e {self.env} "
                                f"{current.id}`")
            time.sleep(min(1.0, max(0.05, deadline - time.monotonic())))

    def renew(self, lease: Lease) -> Lease:
        got = self.blobs.get(self.key)
        if got is None or Lease.from_bytes(got[0]).id != lease.id:
            raise LockError(f"the state lock {lease.id} of '{self.env}' was taken away (unlocked by force or "
                            "expired); stopping before writing state")
        renewed = Lease(**{**asdict(lease), "expires": time.time() + self.ttl})
        try:
            self.blobs.put(self.key, renewed.to_bytes(), expect=got[1])
        except BlobConflict:
            raise LockError(f"the state lock {lease.id} of '{self.env}' was taken away") from None
        return renewed

    def release(self, lease_id: str, *, force: bool = False) -> bool:
        """Release a lease; with `force`, whoever holds it. False when that lease was not held."""
        got = self.blobs.get(self.key)
        if got is None:
            return False
        current = Lease.from_bytes(got[0])
        if current.id != lease_id and not force:
            raise LockError(f"the state of '{self.env}' is held by lock {current.id}, not {lease_id}")
        try:
            self.blobs.delete(self.key, expect=got[1])
        except BlobConflict:
            return False
        return True


    def unlock(self, lease_id: str, *, force: bool = False) -> bool:
        """`state unlock`: release lease `lease_id` by hand. A holder still alive (renewing, or its process seen on
        this host) is released only with `force`: it would go on writing the state beside the next run."""
        current = self.holder()
        if current is None:
            return False
        if current.id == lease_id and not force and not (current.expired or current.holder_is_dead):
            raise LockError(f"the state of '{self.env}' is locked by a run that is still alive: {current.describe()}; "
                            "releasing it would let another run write the state while this one still works. Wait "
                            "for it to finish, or if you are sure it is stuck: "
                            f"`dss-iac state unlock -e {self.env} {lease_id} --force`")
        return self.release(lease_id)


class Heartbeat:
    """Renews a lease every ttl/3 while the holder works; `check()` raises if the lease was lost."""

    def __init__(self, leases: Leases, lease: Lease) -> None:
        self.leases = leases
        self.lease = lease
        self._stop = threading.Event()
        self._lost: LockError | None = None
        self._thread = threading.Thread(target=self._run, name="lease-heartbeat", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.leases.ttl / 3):
            try:
                self.lease = self.leases.renew(self.lease)
            except LockError as e:
                self._lost = e
                return
            except Exception as e:  # the store is unreachable: keep trying until the lease expires
                if time.time() > self.lease.expires:
                    self._lost = LockError(f"could not renew the state lock of '{self.leases.env}': {e}")
                    return

    def check(self) -> None:
        if self._lost is not None:
            raise self._lost

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
