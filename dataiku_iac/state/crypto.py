"""Encryption of state at rest (AES-256-GCM), and the refusal to read encrypted state without a key.

Stored form of an encrypted blob, one JSON document:

    {"format": ENVELOPE, "version": 1, "key_id": "<8 hex>", "nonce": "<b64, 12 bytes>", "ciphertext": "<b64>"}

`key_id` is the first 8 hex digits of SHA-256(key): it names the key without revealing it, so a wrong key is
reported as such instead of as corruption. The header (format, version, key_id) is authenticated with the
ciphertext, so editing any of it fails authentication like editing the ciphertext does.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import secrets
import string
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, StateError
from .blobs import BlobConflict

if TYPE_CHECKING:
    from .store import Codec, StateStore

ENVELOPE = "dss-iac-encrypted-state"
ENVELOPE_VERSION = 1
KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # the GCM standard nonce; random per write, so a key can seal ~2^32 writes safely


def is_encrypted(data: bytes) -> bool:
    head = data.lstrip()[:200]
    return head.startswith(b"{") and ENVELOPE.encode() in head


class _RefuseEncrypted:
    """No key configured: plain state is read as is; encrypted state is a clear error, not garbage."""

    def encode(self, data: bytes) -> bytes:
        return data

    def decode(self, data: bytes, where: str) -> bytes:
        if is_encrypted(data):
            try:
                kid = json.loads(data).get("key_id", "?")
            except (ValueError, AttributeError):
                kid = "?"  # a damaged envelope is still encrypted state: the missing key is the first problem
            raise StateError(f"{where} is encrypted (key {kid}) but the workspace sets no "
                             "state.encryption_key_env: set it to the variable holding the key")
        return data


def refuse_encrypted() -> _RefuseEncrypted:
    return _RefuseEncrypted()


# -- keys --------------------------------------------------------------------------------------------------------
def generate_key() -> str:
    """A fresh random AES-256 key, base64-encoded: the value to put in the key's environment variable."""
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


def parse_key(text: str, var_name: str) -> bytes:
    """32 bytes from base64 (standard or URL-safe, padding optional) or from 64 hex digits."""
    text = text.strip()
    if len(text) == 2 * KEY_BYTES and all(c in string.hexdigits for c in text):
        return bytes.fromhex(text)
    b64 = text.replace("-", "+").replace("_", "/")
    try:
        key = base64.b64decode(b64 + "=" * (-len(b64) % 4), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        # Never echo the value: it may be a real key with a typo.
        raise ConfigError(f"the environment variable {var_name} does not hold an AES-256 key ({len(text)} "
                          f"characters): expected {KEY_BYTES} bytes in base64 (44 characters) or 64 hex characters")
    return key


def codec_from_env(var_name: str, environ: Mapping[str, str] | None = None) -> AesGcmCodec:
    """The codec of the key held by the environment variable `var_name` (from `environ`, default os.environ)."""
    value = (os.environ if environ is None else environ).get(var_name, "")
    if not value.strip():
        raise ConfigError(f"state encryption is on (state.encryption_key_env) but the environment variable "
                          f"{var_name} is not set: set it to the state key ({KEY_BYTES} bytes in base64)")
    return AesGcmCodec(parse_key(value, var_name), var_name)


# -- the codec ---------------------------------------------------------------------------------------------------
def _aesgcm(key: bytes) -> Any:
    # Imported here: workspaces without encryption never need the package.
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError:
        raise ConfigError("state encryption needs the 'cryptography' package: "
                          "pip install 'cryptography>=42'") from None
    return AESGCM(key)


def _header(key_id_: str) -> dict[str, Any]:
    return {"format": ENVELOPE, "version": ENVELOPE_VERSION, "key_id": key_id_}


def _associated_data(header: Mapping[str, Any]) -> bytes:
    return json.dumps(dict(header), sort_keys=True, separators=(",", ":")).encode()


class AesGcmCodec:
    """AES-256-GCM with a fresh random nonce per write; `source` names where the key came from, for messages."""

    def __init__(self, key: bytes, source: str) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"an AES-256 key is {KEY_BYTES} bytes, not {len(key)}")
        self._aead = _aesgcm(key)
        self.key_id = key_id(key)
        self.source = source

    def encode(self, data: bytes) -> bytes:
        header = _header(self.key_id)
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, data, _associated_data(header))
        doc = {**header, "nonce": base64.b64encode(nonce).decode("ascii"),
               "ciphertext": base64.b64encode(sealed).decode("ascii")}
        return (json.dumps(doc, indent=1) + "\n").encode()

    def decode(self, data: bytes, where: str) -> bytes:
        if not is_encrypted(data):
            raise StateError(f"{where} is not encrypted; state encryption is on (key in {self.source}) and plaintext "
                             "state is refused: if it is your state from before encryption was turned on, encrypt "
                             "it with `dss-iac state encrypt`")
        doc = self._envelope(data, where)
        if doc["key_id"] != self.key_id:
            raise StateError(f"{where} is encrypted with key {doc['key_id']} but {self.source} holds key "
                             f"{self.key_id}: set {self.source} to the key with id {doc['key_id']}")
        from cryptography.exceptions import InvalidTag

        try:
            return self._aead.decrypt(doc["nonce"], doc["ciphertext"], _associated_data(_header(doc["key_id"])))
        except InvalidTag:
            raise StateError(f"{where}: authentication failed: the file was modified or the key is wrong") from None

    @staticmethod
    def _envelope(data: bytes, where: str) -> dict[str, Any]:
        """The envelope's fields, nonce and ciphertext decoded; anything malformed is a one-line StateError."""
        def damaged(what: str) -> StateError:
            return StateError(f"{where}: the encrypted state is damaged ({what}); it may be truncated or edited")

        try:
            doc = json.loads(data)
        except ValueError:
            raise damaged("not valid JSON") from None
        if not isinstance(doc, dict) or doc.get("format") != ENVELOPE:
            raise damaged(f"no \"format\": \"{ENVELOPE}\"")
        version = doc.get("version")
        if isinstance(version, int) and version > ENVELOPE_VERSION:
            raise StateError(f"{where} is encrypted in envelope version {version}, newer than this dss-iac "
                             f"understands ({ENVELOPE_VERSION}); upgrade dss-iac")
        if version != ENVELOPE_VERSION:
            raise damaged(f"envelope version {version!r}")
        if not isinstance(doc.get("key_id"), str):
            raise damaged("no key_id")
        out = {"key_id": doc["key_id"]}
        for field in ("nonce", "ciphertext"):
            try:
                out[field] = base64.b64decode(doc[field], validate=True)
            except (KeyError, TypeError, ValueError):
                raise damaged(f"{field} is missing or not base64") from None
        if len(out["nonce"]) != NONCE_BYTES:
            raise damaged(f"the nonce is {len(out['nonce'])} bytes, not {NONCE_BYTES}")
        return out


# -- rewriting a whole environment: key rotation and first encryption ------------------------------------------------
Recode = Callable[[bytes, str], bytes | None]  # stored bytes, where -> new stored bytes, or None to leave as is


def rotate(store: StateStore, old: Codec, new: Codec) -> int:
    """Re-encrypt the current state and every backup from `old` to `new`; return how many blobs were rewritten.

    Blobs that already decode with `new` are left alone, so a rotation stopped by a conflict resumes when run again.
    """
    def recode(data: bytes, where: str) -> bytes | None:
        try:
            plain = old.decode(data, where)
        except StateError as not_old:
            try:
                new.decode(data, where)
            except StateError:
                raise not_old from None
            return None  # rewritten by an earlier, interrupted rotation
        return new.encode(plain)

    return _rewrite_all(store, recode)


def encrypt_existing(store: StateStore, codec: Codec) -> int:
    """Encrypt an environment's plaintext state and backups with `codec`; return how many blobs were rewritten.

    Blobs already encrypted must be under `codec`'s key (they are left alone); another key is an error.
    """
    def recode(data: bytes, where: str) -> bytes | None:
        if is_encrypted(data):
            codec.decode(data, where)  # raises for another key or a damaged blob
            return None
        return codec.encode(data)

    return _rewrite_all(store, recode)


def _recode_lines(data: bytes, where: str, recode: Recode) -> bytes | None:
    """A journal log: one base64 record per line, each recoded on its own."""
    lines = [base64.b64decode(line) for line in data.splitlines() if line.strip()]
    recoded = [recode(line, where) for line in lines]
    if all(r is None for r in recoded):
        return None
    return b"".join(base64.b64encode(r if r is not None else line) + b"\n" for r, line in zip(recoded, lines,
                                                                                          strict=True))


def _rewrite_all(store: StateStore, recode: Recode) -> int:
    """Apply `recode` to every backup, then to the current state, each with compare-and-swap.

    The current state goes last so that, until every backup is done, it still reads with the old codec: a rotation
    that stops half-way leaves a workspace that works with the old key, and each blob is whole under one key.
    The current state's version is taken before anything else, so a write by any other run during the rewrite
    makes the final swap fail instead of being overwritten.
    """
    blobs = store.blobs
    current = blobs.get(store.key)
    done: set[str] = set()

    def rewrite(key: str, got: tuple[bytes, str] | None) -> int:
        done.add(key)
        if got is None:
            return 0  # a backup pruned since it was listed
        data = _recode_lines(got[0], store.where(key), recode) if key.endswith(".jsonl") else \
            recode(got[0], store.where(key))
        if data is None:
            return 0
        try:
            blobs.put(key, data, expect=got[1])
        except BlobConflict:
            raise StateError(f"{store.where(key)} was changed by another run while the state of '{store.env}' was "
                             "being re-encrypted; nothing was overwritten: run the command again when that run is "
                             "over (it resumes where it stopped)") from None
        return 1

    def backups() -> int:
        # Backups and the journal of an interrupted apply: every blob that holds resource fields.
        keys = [store.backup_key(s) for s in store.backup_serials()] + blobs.list(f"{store.env}/journal")
        return sum(rewrite(key, blobs.get(key)) for key in keys if key not in done)

    count = backups() + rewrite(store.key, current)
    # A run that wrote the state just before `current` was read stores its backup right after: catch it too.
    return count + backups()
