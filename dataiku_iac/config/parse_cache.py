"""What the project files parsed to, kept between runs (as dbt's partial parsing keeps its manifest).

Parsing YAML is three quarters of loading a large workspace (2 s of CPU for 400 files); reading what a file parsed
to last time, as JSON, takes a few milliseconds. An entry is used only for the very text it was parsed from (its
SHA-256, so an edit, however small, is parsed again), only by the dss-iac that wrote it (the parser's own source
is part of the key), and only when signed with this user's key: a cache written by anyone else would make dss-iac
apply values no reviewer saw in the YAML, so it is ignored. Validation, the digest and every error position still
come from the files themselves. The cache lives in the user's cache folder, never in the workspace, so loading
(and `validate`) writes nothing there and nothing of it can be committed:

    $XDG_CACHE_HOME/dss-iac/parsed/<SHA-256 of the workspace's path>.jsonl   (~/.cache when XDG_CACHE_HOME is unset)
        a header line, then one line per file:
        MAC <tab> SHA-256 of the text <tab> name (JSON) <tab> value count <tab> data (JSON)

Only project files are kept (never dss-iac.yaml or instance files, the files that may name secrets), as written
(`${env:...}` references unresolved). A missing, damaged, foreign or stale cache costs the parse it would have
saved, nothing else; a cache that cannot be written is not written. Small workspaces (under `MIN_CACHED_BYTES` of
project files) are parsed every time: they parse faster than a cache file is worth keeping.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Any

import orjson

from .. import __version__
from .._fs import atomic_write

MIN_CACHED_BYTES = 64 << 10
_HEADER = b"dss-iac parse cache 1"


def _parser_version() -> bytes:
    """The dss-iac version and the source of the parser: a parser changed in any way starts a new cache."""
    from . import yamlio

    text = b""
    with contextlib.suppress(OSError, TypeError):
        text = Path(str(yamlio.__file__)).read_bytes()
    return f"{__version__}\0".encode() + hashlib.sha256(text).digest()


def _user_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")) / "dss-iac"


def _key_file() -> Path:
    return _user_cache() / "parse-cache.key"


def cache_file(root: Path) -> Path:
    """Where the cache of the workspace at `root` is kept: in the user's cache folder, one file per workspace."""
    return _user_cache() / "parsed" / f"{hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:32]}.jsonl"


def _machine_key() -> bytes | None:
    """This user's key for signing entries (made on first use, readable by this user alone); None when it can be
    neither read nor made, and then nothing is cached."""
    path = _key_file()
    try:
        key = path.read_bytes()
        if len(key) == 32:
            return key
    except OSError:
        pass
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = secrets.token_bytes(32)
        fd = os.open(path.with_name(f".{path.name}.{os.getpid()}.tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key)
        os.replace(path.with_name(f".{path.name}.{os.getpid()}.tmp"), path)
        return path.read_bytes()  # another process may have made its own in between: theirs won, use it
    except OSError:
        return None


class ParseCache:
    """The cache of one workspace for one load: `get` what a text parsed to, `put` what a new one did, then `save`."""

    def __init__(self, root: Path, key: bytes | None = None) -> None:
        self.path = cache_file(root)
        self._key = key
        self.version = _parser_version()
        self._old: dict[str, tuple[bytes, bytes]] = {}  # name -> (SHA-256 hex, the whole line)
        self._kept: dict[str, bytes] = {}  # name -> the line to write back (a new one: its body, signed at save)
        self._new: set[str] = set()
        if self.path.is_file():
            self._read()

    @property
    def key(self) -> bytes | None:
        if self._key is None:
            self._key = _machine_key()
        return self._key

    def _mac(self, body: bytes) -> bytes:
        assert self.key is not None
        return hmac.new(self.key, self.version + b"\0" + body, hashlib.sha256).hexdigest().encode()

    def _read(self) -> None:
        try:
            data = self.path.read_bytes()
        except OSError:
            return
        lines = data.split(b"\n")
        if lines[0] != _HEADER or self.key is None:
            return
        for line in lines[1:]:
            mac, sep, body = line.partition(b"\t")
            if not sep or not hmac.compare_digest(mac, self._mac(body)):
                continue  # damaged, or signed by another key or another dss-iac
            digest, _, rest = body.partition(b"\t")
            name, _, _ = rest.partition(b"\t")
            with contextlib.suppress(ValueError):
                self._old[orjson.loads(name)] = (digest, line)

    def get(self, name: str, text: str) -> tuple[Any, int] | None:
        """What `text` (the file `name`) parsed to and its value count, when the cache holds it for that very text."""
        found = self._old.get(name)
        if found is None or found[0] != _sha(text):
            return None
        try:
            _, _, _, count, data = found[1].split(b"\t", 4)
            parsed = (orjson.loads(data), int(count))
        except ValueError:
            return None
        self._kept[name] = found[1]
        return parsed

    def put(self, name: str, text: str, data: Any, count: int) -> None:
        """Keep what `text` parsed to, unless JSON cannot hold it exactly (keys that are not text, NaN...)."""
        try:
            encoded = orjson.dumps(data)
            if orjson.loads(encoded) != data:
                return
        except (TypeError, orjson.JSONDecodeError):
            return
        self._kept[name] = b"\t".join([_sha(text), orjson.dumps(name), str(count).encode(), encoded])
        self._new.add(name)

    def save(self, project_bytes: int) -> None:
        """Write the entries of this load's files (those of files gone or changed are dropped), if any changed and
        the project files add up to `MIN_CACHED_BYTES` (`project_bytes`: their size)."""
        if project_bytes < MIN_CACHED_BYTES or not (self._new or set(self._kept) != set(self._old)):
            return
        if self.key is None:
            return
        lines = [self._mac(line) + b"\t" + line if name in self._new else line
                 for name, line in sorted(self._kept.items())]
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path, b"\n".join([_HEADER, *lines]) + b"\n")


def _sha(text: str) -> bytes:
    return hashlib.sha256(text.encode()).hexdigest().encode()
