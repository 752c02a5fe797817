"""Crash-safe file writes shared by the state backend, the simulator's store and config editing."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from collections.abc import Mapping
from pathlib import Path

STALE_JOURNAL_SECONDS = 60.0


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


def finish_interrupted_write(journal: Path) -> list[Path]:
    """Finish (or, if it had not staged everything, undo) a `write_together` that a crash cut short;
    the files it replaced."""
    try:
        record = json.loads(journal.read_text())
        age = time.time() - journal.stat().st_mtime
    except FileNotFoundError:
        return []
    # A write takes milliseconds: a journal whose writer still runs is being written now, unless it is old
    # (its writer on another host, which we cannot look at, has had plenty of time).
    writer_gone = process_is_gone(record["host"], record["pid"]) or age > STALE_JOURNAL_SECONDS
    if not writer_gone and record["pid"] != os.getpid():
        return []
    staged = [(Path(t) if t else None, Path(p)) for t, p in record["files"]]
    if record["step"] == "replacing":
        done = _replace_all(staged)
    else:
        done = []
        for tmp, _ in staged:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
    journal.unlink(missing_ok=True)
    return done


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
