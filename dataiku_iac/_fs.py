"""Crash-safe file writes shared by the state backend, the simulator's store and config editing."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import socket
import stat
import threading
import time
from collections.abc import Mapping
from pathlib import Path

STALE_JOURNAL_SECONDS = 60.0
JOURNAL_LIMIT = 1 << 20
_KINDS = {stat.S_IFDIR: "a folder", stat.S_IFIFO: "a named pipe", stat.S_IFCHR: "a character device",
          stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket"}


class RefusedFile(OSError):
    """A file that is not read: not a regular file, or larger than the limit. `strerror` says why."""


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes. Anything else is refused before a byte is read:
    a named pipe would block forever, a device such as /dev/zero never ends."""
    # O_NONBLOCK: opening a named pipe returns at once instead of waiting for a writer.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = _KINDS.get(stat.S_IFMT(mode), "a special file")
            raise RefusedFile(errno.EISDIR if stat.S_ISDIR(mode) else errno.EINVAL,
                              f"is {kind}, not a regular file", str(path))
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, min(1 << 20, limit + 1 - size)):  # stat's size may lie (/proc files)
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise too_large(path, limit)
    finally:
        os.close(fd)
    return b"".join(chunks)


def too_large(path: Path | str, limit: int) -> RefusedFile:
    shown = f"{limit >> 20} MiB" if limit >= 1 << 20 and limit % (1 << 20) == 0 else f"{limit} bytes"
    return RefusedFile(errno.EFBIG, f"is larger than the limit of {shown}", str(path))


def atomic_write(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that a crash leaves the old or the new file, never a torn one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        _write_synced(tmp, data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):  # a full disk or a refused name leaves no stray file behind
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def write_together(journal: Path, files: Mapping[Path, bytes | None]) -> None:
    """Replace (or, for None, delete) several files as one. `journal` says what is under way: while it says
    "staging" the new contents are being written beside the files (a crash then undoes them); once it says
    "replacing" they are all on disk, and a crash part-way is finished by `finish_interrupted_write`. Either
    way the old and new contents are never left mixed once that has run."""
    if len(files) <= 1:
        for path, data in files.items():
            _put(path, data)
        return
    # A file to delete has nothing staged: the journal names it with tmp "".
    staged = [(_staged_name(path) if data is not None else None, path) for path, data in files.items()]
    record = {"pid": os.getpid(), "host": socket.gethostname(),
              "files": [[str(t) if t else "", str(p)] for t, p in staged]}
    journal.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(journal, json.dumps({**record, "step": "staging"}).encode())
    for path, data in files.items():
        if data is not None:
            _write_synced(_staged_name(path), data)
    atomic_write(journal, json.dumps({**record, "step": "replacing"}).encode())
    _replace_all(staged)
    journal.unlink()


def _staged_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.staged")


def finish_interrupted_write(journal: Path, within: Path | None = None) -> list[Path]:
    """Finish (or, if it had not staged everything, undo) a `write_together` that a crash cut short;
    the files it replaced. With `within`, a journal naming a file outside that folder is refused (ValueError)
    and nothing is moved: a journal committed to a repository must not move files elsewhere."""
    try:
        record = json.loads(read_regular(journal, JOURNAL_LIMIT))
        age = time.time() - journal.stat().st_mtime
    except FileNotFoundError:
        return []
    # A write takes milliseconds: a journal whose writer still runs is being written now, unless it is old
    # (its writer on another host, which we cannot look at, has had plenty of time).
    writer_gone = process_is_gone(record["host"], record["pid"]) or age > STALE_JOURNAL_SECONDS
    if not writer_gone and record["pid"] != os.getpid():
        return []
    staged = [(Path(t) if t else None, Path(p)) for t, p in record["files"]]
    if within is not None:
        _check_staged(staged, within)
    if record["step"] == "replacing":
        done = _replace_all(staged)
    else:
        done = []
        for tmp, _ in staged:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
    journal.unlink(missing_ok=True)
    return done


def _check_staged(staged: list[tuple[Path | None, Path]], within: Path) -> None:
    """Each file inside `within`, each staged copy beside its file under the name `_staged_name` gives."""
    top = within.resolve()
    for tmp, path in staged:
        if not path.is_absolute() or not path.parent.resolve().is_relative_to(top):
            raise ValueError(f"it names {path}, outside {top}")
        if tmp is not None and (tmp.parent != path.parent
                                or re.fullmatch(rf"\.{re.escape(path.name)}\.\d+\.staged", tmp.name) is None):
            raise ValueError(f"it names {tmp}, which is not a staged copy of {path.name}")


def process_is_gone(host: str, pid: int) -> bool:
    """True when `host` is this machine and `pid` no longer runs there (other machines cannot be seen)."""
    if host != socket.gethostname() or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _put(path: Path, data: bytes | None) -> None:
    if data is not None:
        atomic_write(path, data)
    else:
        path.unlink(missing_ok=True)
        _fsync_dir(path.parent)


def _replace_all(staged: list[tuple[Path | None, Path]]) -> list[Path]:
    done = []
    for tmp, path in staged:
        try:
            if tmp is None:
                path.unlink()
            else:
                os.replace(tmp, path)
        except FileNotFoundError:  # already moved or deleted (by an earlier recovery)
            continue
        done.append(path)
    for folder in {p.parent for _, p in staged}:
        _fsync_dir(folder)
    return done


def _write_synced(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(folder: Path) -> None:
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
