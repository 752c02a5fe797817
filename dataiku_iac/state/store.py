"""One environment's state on a blob store: current state, history, backups, lease, and the journal.

    <env>/state.json            the current state (checksummed, optionally encrypted); every write bumps its serial
    <env>/history.json          one entry per state-changing command (apply, destroy, import, state rm...), the last
                                `keep`: serial, time, user, command, counts, workspace commit; no resource data
    <env>/backups/<serial>.json the state as each of those commands left it, for `state restore`
    <env>/lock.json             the lease of the run that may write
    <env>/journal/<n>.json      intents and results of the apply in progress (crash recovery)

An apply writes the state several times as its operations complete (its journal makes each step durable);
history and backups are kept per command, so `keep` counts commands, not writes.
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
from .model import Changes, State

DEFAULT_KEEP = 50
# Attempts at updating history.json when another writer moved it in between (only a lease breaker can).
_HISTORY_ATTEMPTS = 5


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
    """One state-changing command: the serial it left, when, by whom, and what it changed."""

    serial: int
    when: str
    who: str
    command: str  # "" for a backup kept by an older dss-iac, which recorded no command
    added: int
    changed: int
    destroyed: int
    resources: int
    commit: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def of(cls, state: State, command: str, changes: Changes) -> HistoryEntry:
        return cls(state.serial, state.updated_at, state.updated_by, command, changes.added, changes.changed,
                   changes.destroyed, len(state.resources), state.workspace_commit)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> HistoryEntry:
        return cls(int(d["serial"]), str(d.get("when", "")), str(d.get("who", "")), str(d.get("command", "")),
                   int(d.get("added", 0)), int(d.get("changed", 0)), int(d.get("destroyed", 0)),
                   int(d.get("resources", 0)), str(d.get("commit", "")))


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
        """Store `state` if nobody else wrote since this store read it (no history entry: see `checkpoint`)."""
        data = self.codec.encode(state.to_json())
        try:
            self._version = self.blobs.put(self.key, data, expect=self._version)
        except BlobConflict:
            raise StateError(f"the state of '{self.env}' at {self.where()} was changed by another run since it "
                             "was read; nothing was overwritten: run the command again") from None

    def commit(self, state: State, command: str, changes: Changes | None = None) -> HistoryEntry:
        """Write `state` as the end of `command`: stored, backed up and listed in the history."""
        self.write(state)
        return self.checkpoint(state, command, changes)

    def replace(self, state: State, command: str) -> HistoryEntry:
        """Commit `state` over whatever is stored, damaged or not (restore, push --force): still atomic."""
        got = self.blobs.get(self.key)
        self._version = ABSENT if got is None else got[1]
        return self.commit(state, command)

    def checkpoint(self, state: State, command: str, changes: Changes | None = None) -> HistoryEntry:
        """Keep `state`, the state just written, as the result of `command`: its backup and its history entry;
        entries and backups beyond the last `keep` commands go. `changes` defaults to the difference with the
        previous entry's backup."""
        if changes is None:
            serials = [s for s in self.backup_serials() if s < state.serial]
            changes = Changes.between(self._backup_or_none(serials[-1]) if serials else None, state)
        entry = HistoryEntry.of(state, command, changes)
        self.blobs.put(self.backup_key(state.serial), self.codec.encode(state.to_json()))
        kept = self._add_history(entry)
        for old in self.backup_serials():
            if old not in kept:
                self.blobs.delete(self.backup_key(old))
        return entry

    def _add_history(self, entry: HistoryEntry) -> set[int]:
        """Add `entry` to history.json, keep the last `keep` commands; return the serials kept."""
        for _ in range(_HISTORY_ATTEMPTS):
            got = self.blobs.get(self.history_key)
            entries = {e.serial: e for e in self._history_entries(got)}
            entries[entry.serial] = entry
            # A backup of an older dss-iac (no entry) or of a run killed before its entry counts as a command too.
            kept = set(sorted({*entries, *self.backup_serials()})[-self.keep:])
            body = [entries[s].to_dict() for s in sorted(entries) if s in kept]
            try:
                self.blobs.put(self.history_key, json.dumps(body, indent=1).encode() + b"\n",
                               expect=ABSENT if got is None else got[1])
                return kept
            except BlobConflict:
                continue
        raise StateError(f"{self.where(self.history_key)} kept changing while this run recorded serial "
                         f"{entry.serial}; the state is written: run `dss-iac state history -e {self.env}` to check")

    def latest_serial(self) -> int:
        """The highest serial this environment has used, even when the current state cannot be read: a restore or a
        push goes above it, so a plan saved against any earlier serial stays stale."""
        serials = [*self.backup_serials(), *(e.serial for e in self._history_entries(self.blobs.get(self.history_key)))]
        got = self.blobs.get(self.key)
        if got is not None:
            try:
                serials.append(self._decode(got[0], self.key).serial)
            except StateError:
                serials.append(_loose_serial(got[0]))
        return max(serials, default=0)

    # -- backups and history --------------------------------------------------------------------
    @property
    def history_key(self) -> str:
        return f"{self.env}/history.json"

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
            raise StateError(f"no backup of serial {serial} for '{self.env}' (kept: {kept}); "
                             f"`dss-iac state history -e {self.env}` lists them")
        return self._decode(got[0], key)

    def _backup_or_none(self, serial: int) -> State | None:
        try:
            return self.backup(serial)
        except StateError:
            return None

    def history(self) -> list[HistoryEntry]:
        """The kept commands, oldest first."""
        entries = {e.serial: e for e in self._history_entries(self.blobs.get(self.history_key))}
        for serial in self.backup_serials():
            if serial not in entries:  # kept by an older dss-iac, or by a run killed before its entry
                old = self._backup_or_none(serial)
                if old is not None:
                    entries[serial] = HistoryEntry.of(old, "", Changes())
        return [entries[s] for s in sorted(entries)]

    def _history_entries(self, got: tuple[bytes, str] | None) -> list[HistoryEntry]:
        if got is None:
            return []
        try:
            return [HistoryEntry.from_dict(d) for d in json.loads(got[0])]
        except (ValueError, TypeError, KeyError):
            # Damaged by hand: the backups are still listed (from their own content) and the next entry rewrites it.
            return []

    # -- journal ----------------------------------------------------------------------------------
    def journal_append(self, seq: int, record: dict[str, Any]) -> None:
        self.journal_extend([(seq, record)])

    def journal_extend(self, records: list[tuple[int, dict[str, Any]]]) -> None:
        """Append records to the journal, durable when this returns (seq, record each)."""
        # Results carry resource fields: they are encrypted like the state itself.
        encoded = [(seq, self.codec.encode(json.dumps(record).encode())) for seq, record in records]
        append = getattr(self.blobs, "append_lines", None)
        if append is not None:  # one file, the records in one fsync'd write (local folders)
            append(f"{self.env}/journal/log.jsonl", [base64.b64encode(data) for _, data in encoded])
            return
        for seq, data in encoded:  # one object per record (S3, Git): no read-modify-write of a shared object
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


def _loose_serial(data: bytes) -> int:
    """The serial of a state that does not verify (damaged, or under another key), when it can still be read."""
    try:
        doc = json.loads(data)
        return int(doc["serial"]) if isinstance(doc, dict) else 0
    except (ValueError, TypeError, KeyError):
        return 0
