"""One environment's state on a blob store: current state, backups, history, lease, and the journal.

    <env>/state.json            the current state (checksummed, optionally encrypted)
    <env>/backups/<serial>.json the last `keep` serials, for `state history` and `state restore`
    <env>/lock.json             the lease of the run that may write
    <env>/journal/<n>.json      intents and results of the apply in progress (crash recovery)
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import StateError
from .blobs import ABSENT, BlobConflict, BlobStore, Expect
from .lease import DEFAULT_TTL, Leases
from .model import State

DEFAULT_KEEP = 10


class Codec(Protocol):
    """Turns state bytes into stored bytes and back (identity, or encryption)."""

    def encode(self, data: bytes) -> bytes: ...

    def decode(self, data: bytes, where: str) -> bytes: ...


class Plain:
    def encode(self, data: bytes) -> bytes:
        return data

    def decode(self, data: bytes, where: str) -> bytes:
        return data


@dataclass(frozen=True)
class HistoryEntry:
    serial: int
    who: str
    when: str
    commit: str
    resources: int


class StateStore:
    def __init__(self, blobs: BlobStore, env: str, *, codec: Codec | None = None, keep: int = DEFAULT_KEEP,
                 lock_ttl: float = DEFAULT_TTL) -> None:
        self.blobs = blobs
        self.env = env
        self.codec = codec or Plain()
        self.keep = keep
        self.leases = Leases(blobs, f"{env}/lock.json", env, lock_ttl)
        self._version: Expect = ABSENT  # what this store last read or wrote: the next write expects it

    @property
    def key(self) -> str:
        return f"{self.env}/state.json"

    def where(self, key: str | None = None) -> str:
        return f"{self.blobs.location}/{key or self.key}"

    # -- reading ------------------------------------------------------------------------------
    def _decode(self, data: bytes, key: str) -> State:
        state = State.from_bytes(self.codec.decode(data, self.where(key)), self.where(key))
        if state.environment != self.env:
            raise StateError(f"{self.where(key)} holds the state of environment '{state.environment}', "
                             f"not '{self.env}'")
        return state

    def read(self) -> State | None:
        got = self.blobs.get(self.key)
        if got is None:
            self._version = ABSENT
            return None
        data, version = got
        try:
            state = self._decode(data, self.key)
        except StateError as e:
            raise StateError(f"{e}{self._restore_hint()}") from None
        self._version = version
        return state

    def load(self) -> State:
        return self.read() or State(environment=self.env)

    def _restore_hint(self) -> str:
        serials = self.backup_serials()
        if not serials:
            return ""
        last = serials[-1]
        return (f". The last backup is {self.where(self.backup_key(last))} (serial {last}): restore it with "
                f"`dss-iac state restore -e {self.env} {last}`")

    # -- writing ------------------------------------------------------------------------------
    def write(self, state: State) -> None:
        """Store `state` if nobody else wrote since this store read it; keep it as a backup too."""
        data = self.codec.encode(state.to_json())
        try:
            self._version = self.blobs.put(self.key, data, expect=self._version)
        except BlobConflict:
            raise StateError(f"the state of '{self.env}' at {self.where()} was changed by another run since it "
                             "was read; nothing was overwritten: run the command again") from None
        self.blobs.put(self.backup_key(state.serial), data)
        for old in self.backup_serials()[: -self.keep]:
            self.blobs.delete(self.backup_key(old))

    def replace(self, state: State) -> None:
        """Write `state` over whatever is stored, damaged or not (restore, push --force): still atomic."""
        got = self.blobs.get(self.key)
        self._version = ABSENT if got is None else got[1]
        self.write(state)

    # -- backups and history --------------------------------------------------------------------
    def backup_key(self, serial: int) -> str:
        return f"{self.env}/backups/{serial:010d}.json"

    def backup_serials(self) -> list[int]:
        out = []
        for key in self.blobs.list(f"{self.env}/backups"):
            stem = key.rsplit("/", 1)[-1].removesuffix(".json")
            if stem.isdigit():
                out.append(int(stem))
        return sorted(out)

    def backup(self, serial: int) -> State:
        key = self.backup_key(serial)
        got = self.blobs.get(key)
        if got is None:
            kept = ", ".join(str(s) for s in self.backup_serials()) or "none"
            raise StateError(f"no backup of serial {serial} for '{self.env}' (kept: {kept})")
        return self._decode(got[0], key)

    def history(self) -> list[HistoryEntry]:
        entries = []
        for serial in self.backup_serials():
            s = self.backup(serial)
            entries.append(HistoryEntry(s.serial, s.updated_by, s.updated_at, s.workspace_commit, len(s.resources)))
        return entries

    # -- journal ----------------------------------------------------------------------------------
    def journal_append(self, seq: int, record: dict[str, Any]) -> None:
        # Results carry resource fields: they are encrypted like the state itself.
        data = self.codec.encode(json.dumps(record).encode())
        append = getattr(self.blobs, "append_line", None)
        if append is not None:  # one file, one fsync'd line per record (local folders)
            append(f"{self.env}/journal/log.jsonl", base64.b64encode(data))
        else:  # one object per record (S3, Git): no read-modify-write of a shared object
            self.blobs.put(f"{self.env}/journal/{seq:08d}.json", data)

    def journal(self) -> list[dict[str, Any]]:
        out = []
        for key in self.blobs.list(f"{self.env}/journal"):
            got = self.blobs.get(key)
            if got is None:
                continue
            chunks = [base64.b64decode(line) for line in got[0].splitlines() if line.strip()] \
                if key.endswith(".jsonl") else [got[0]]
            for chunk in chunks:
                try:
                    out.append(json.loads(self.codec.decode(chunk, self.where(key))))
                except (ValueError, binascii.Error, StateError):
                    # A record torn by a crash. Losing it is safe: an intent without its result is
                    # re-checked in DSS, which is the truth about what was done.
                    continue
        return out

    def journal_clear(self) -> None:
        for key in self.blobs.list(f"{self.env}/journal"):
            self.blobs.delete(key)


StoreFactory = Callable[[str], StateStore]
