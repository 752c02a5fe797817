"""Where state bytes live: a tiny key -> bytes store with compare-and-swap, one per backend.

Every backend (local folder, S3, Git) offers the same four operations. Each value carries a version
token (a content hash, an S3 ETag, a Git commit); a write names the version it expects, so two writers
can never silently overwrite each other: the loser gets `BlobConflict` and re-reads.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from .._fs import atomic_write


class Absent:
    """`expect=ABSENT`: the write succeeds only if the key does not exist yet."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT = Absent()
Expect = str | Absent | None  # None: write whatever is there


class BlobConflict(Exception):
    """The stored version is not the one the writer expected."""


class BlobStore(Protocol):
    #: Where the blobs are, for messages: a folder, s3://bucket/prefix, a Git repo and branch.
    location: str

    def get(self, key: str) -> tuple[bytes, str] | None:
        """The value and its version token, or None when absent."""

    def put(self, key: str, data: bytes, *, expect: Expect = None) -> str:
        """Store `data` if the stored version is `expect`; return the new version token."""

    def delete(self, key: str, *, expect: Expect = None) -> None:
        """Remove the key if the stored version is `expect` (absent keys are fine with `expect=None`)."""

    def list(self, prefix: str) -> list[str]:
        """Keys under `prefix`, sorted."""


# The lock file of a folder of LocalBlobStore (hidden: `list` skips it).
LOCK_FILE = ".flock"


def version_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32]


class LocalBlobStore:
    """Files in a folder. Compare-and-swap holds across processes: each folder has one lock file (flock), taken
    around every check-and-write in it. One per folder, not per key: a lock file can never be deleted safely
    (a waiter may hold it open), so one per key would pile up with every backup ever written."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.location = str(folder)

    def _path(self, key: str) -> Path:
        if key.startswith("/") or ".." in key.split("/"):
            raise ValueError(f"invalid state key {key!r}")
        return self.folder / key

    @contextlib.contextmanager
    def _locked(self, key: str) -> Iterator[Path]:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path.parent / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield path
        finally:
            os.close(fd)

    def get(self, key: str) -> tuple[bytes, str] | None:
        try:
            data = self._path(key).read_bytes()
        except FileNotFoundError:
            return None
        return data, version_of(data)

    def _check(self, path: Path, expect: Expect) -> None:
        if expect is None:
            return
        try:
            current: str | None = version_of(path.read_bytes())
        except FileNotFoundError:
            current = None
        wanted = None if isinstance(expect, Absent) else expect
        if current != wanted:
            raise BlobConflict(f"{path} changed since it was read")

    def put(self, key: str, data: bytes, *, expect: Expect = None) -> str:
        with self._locked(key) as path:
            self._check(path, expect)
            atomic_write(path, data)
        return version_of(data)

    def delete(self, key: str, *, expect: Expect = None) -> None:
        with self._locked(key) as path:
            self._check(path, expect)
            for gone in (path, path.parent / f".{path.name}.flock"):  # and the lock file earlier versions kept per key
                with contextlib.suppress(FileNotFoundError):
                    gone.unlink()

    def append_line(self, key: str, line: bytes) -> None:
        """Append one record and fsync it: a journal's hot path, cheaper than replacing a file per record."""
        self.append_lines(key, [line])

    def append_lines(self, key: str, lines: list[bytes]) -> None:
        """Append records with one write and one fsync (records that came in together)."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, b"".join(line.rstrip(b"\n") + b"\n" for line in lines))
            os.fsync(fd)
        finally:
            os.close(fd)

    def list(self, prefix: str) -> list[str]:
        base = self._path(prefix) if prefix else self.folder
        if not base.is_dir():
            return []
        return sorted(str(p.relative_to(self.folder)) for p in base.rglob("*")
                      if p.is_file() and not p.name.startswith("."))
