"""Encryption of state at rest: nothing readable without the key, a wrong key or an edit is a clear error,
plaintext is refused once encryption is on, and keys rotate without losing a concurrent write."""

from __future__ import annotations

import base64
import hashlib
import json
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dataiku_iac.config.models import StateSettings
from dataiku_iac.errors import ConfigError, StateError
from dataiku_iac.state.backends import open_store
from dataiku_iac.state.blobs import Expect, LocalBlobStore, version_of
from dataiku_iac.state.crypto import (
    ENVELOPE,
    AesGcmCodec,
    codec_from_env,
    encrypt_existing,
    generate_key,
    is_encrypted,
    refuse_encrypted,
    rotate,
)
from dataiku_iac.state.model import ResourceState, State
from dataiku_iac.state.store import Codec, Plain, StateStore

CANARY = "canary-7f3a9c1e-do-not-store-in-clear"
VAR = "DSS_IAC_TEST_STATE_KEY"
KEY_1 = base64.b64encode(bytes(range(32))).decode()
KEY_2 = bytes(range(100, 132)).hex()  # the hex spelling is accepted too


def codec(key: str) -> AesGcmCodec:
    return codec_from_env(VAR, {VAR: key})


def one_line(e: pytest.ExceptionInfo[Exception]) -> str:
    message = str(e.value)
    assert "\n" not in message
    return message


def write_serials(store: StateStore, count: int) -> State:
    """`count` successive applies, each keeping the canary in a resource's fields."""
    state = store.load()
    for i in range(count):
        state.resources[f"project.P{i}"] = ResourceState("project", f"P{i}", {"description": CANARY, "i": i})
        state.stamp("tester@host")
        store.commit(state, "apply")
    return state


def stored_blobs(blobs: LocalBlobStore, env: str = "dev") -> dict[str, bytes]:
    """The current state and every backup of `env`, as stored."""
    keys = [f"{env}/state.json", *blobs.list(f"{env}/backups")]
    return {key: got[0] for key in keys if (got := blobs.get(key)) is not None}


def reads_with(data: bytes, candidate: Codec) -> bool:
    try:
        candidate.decode(data, "blob")
    except StateError:
        return False
    return True


@pytest.fixture
def blobs(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "state")


# -- round trip and what is stored ---------------------------------------------------------------------------------
def test_round_trip_through_the_state_store(blobs: LocalBlobStore) -> None:
    written = write_serials(StateStore(blobs, "dev", codec=codec(KEY_1), keep=3), 5)
    reader = StateStore(blobs, "dev", codec=codec(KEY_1), keep=3)
    state = reader.read()
    assert state is not None and state.to_dict() == written.to_dict()
    assert [h.serial for h in reader.history()] == [3, 4, 5]
    assert reader.backup(4).resources["project.P3"].fields == {"description": CANARY, "i": 3}


def test_no_stored_blob_contains_the_plaintext(blobs: LocalBlobStore) -> None:
    written = write_serials(StateStore(blobs, "dev", codec=codec(KEY_1), keep=3), 5)
    stored = stored_blobs(blobs)
    assert len(stored) == 4  # the current state and three backups
    for key, data in stored.items():
        assert CANARY.encode() not in data, key
        assert written.lineage.encode() not in data, key
        assert b"project.P0" not in data, key


def test_envelope_is_the_documented_json_with_a_fresh_nonce_per_write(blobs: LocalBlobStore) -> None:
    c = codec(KEY_1)
    first, second = (json.loads(c.encode(b"same state")) for _ in range(2))
    key = base64.b64decode(KEY_1)
    for doc in (first, second):
        assert set(doc) == {"format", "version", "key_id", "nonce", "ciphertext"}
        assert (doc["format"], doc["version"]) == (ENVELOPE, 1)
        assert doc["key_id"] == hashlib.sha256(key).hexdigest()[:8] == c.key_id
        assert len(base64.b64decode(doc["nonce"])) == 12
    assert first["nonce"] != second["nonce"] and first["ciphertext"] != second["ciphertext"]


# -- refusals --------------------------------------------------------------------------------------------------------
def test_plaintext_state_is_refused_once_encryption_is_on(blobs: LocalBlobStore) -> None:
    write_serials(StateStore(blobs, "dev"), 1)
    with pytest.raises(StateError) as e:
        StateStore(blobs, "dev", codec=codec(KEY_1)).read()
    message = one_line(e)
    assert "dev/state.json is not encrypted;" in message and VAR in message
    assert "dss-iac state encrypt" in message


def test_a_wrong_key_names_both_key_ids(blobs: LocalBlobStore) -> None:
    write_serials(StateStore(blobs, "dev", codec=codec(KEY_1)), 1)
    with pytest.raises(StateError) as e:
        StateStore(blobs, "dev", codec=codec(KEY_2)).read()
    message = one_line(e)
    assert codec(KEY_1).key_id in message and codec(KEY_2).key_id in message and VAR in message


def _edit(data: bytes, field: str, change: Callable[[str], str]) -> bytes:
    doc = json.loads(data)
    doc[field] = change(doc[field])
    return json.dumps(doc).encode()


def _flip_first_byte(b64: str) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[0] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize("field", ["ciphertext", "nonce"])
def test_tampered_bytes_fail_authentication(blobs: LocalBlobStore, field: str) -> None:
    write_serials(StateStore(blobs, "dev", codec=codec(KEY_1)), 1)
    path = Path(blobs.location) / "dev" / "state.json"
    path.write_bytes(_edit(path.read_bytes(), field, _flip_first_byte))
    with pytest.raises(StateError) as e:
        StateStore(blobs, "dev", codec=codec(KEY_1)).read()
    assert "authentication failed: the file was modified or the key is wrong" in one_line(e)


def test_a_header_edited_to_name_the_readers_key_fails_authentication() -> None:
    # Swapping the key_id does not get past the key check into a wrong decryption: the header is authenticated.
    sealed = codec(KEY_1).encode(b"{}")
    forged = _edit(sealed, "key_id", lambda _: codec(KEY_2).key_id)
    with pytest.raises(StateError, match="authentication failed"):
        codec(KEY_2).decode(forged, "dev/state.json")


@settings(max_examples=300, deadline=None)
@given(position=st.integers(min_value=0), mask=st.integers(min_value=1, max_value=255))
def test_any_flipped_byte_is_refused_or_harmless(position: int, mask: int) -> None:
    # JSON whitespace and unused base64 bits may change without changing the message: then the exact
    # plaintext comes back. Any other change is a StateError, never other bytes.
    c = codec(KEY_1)
    plain = json.dumps({"description": CANARY}).encode()
    data = bytearray(c.encode(plain))
    data[position % len(data)] ^= mask
    try:
        out = c.decode(bytes(data), "dev/state.json")
    except StateError as e:
        assert "\n" not in str(e)
    else:
        assert out == plain


@pytest.mark.parametrize("damage", [lambda d: d[: len(d) // 2], lambda d: _edit(d, "nonce", lambda _: "!!"),
                                    lambda d: _edit(d, "nonce", lambda _: base64.b64encode(b"short").decode())],
                         ids=["truncated", "nonce-not-base64", "nonce-too-short"])
def test_a_damaged_envelope_is_a_one_line_error(damage: Callable[[bytes], bytes]) -> None:
    with pytest.raises(StateError) as e:
        codec(KEY_1).decode(damage(codec(KEY_1).encode(b"{}")), "dev/state.json")
    assert "dev/state.json: the encrypted state is damaged" in one_line(e)


def test_an_envelope_from_a_newer_dss_iac_asks_for_an_upgrade() -> None:
    newer = _edit(codec(KEY_1).encode(b"{}"), "version", lambda _: 2)  # type: ignore[arg-type, return-value]
    with pytest.raises(StateError) as e:
        codec(KEY_1).decode(newer, "dev/state.json")
    assert "upgrade dss-iac" in one_line(e)


@pytest.mark.parametrize("damaged", [False, True], ids=["whole", "truncated"])
def test_encrypted_state_without_a_key_configured_is_a_clear_error(blobs: LocalBlobStore, damaged: bool) -> None:
    write_serials(StateStore(blobs, "dev", codec=codec(KEY_1)), 1)
    if damaged:
        path = Path(blobs.location) / "dev" / "state.json"
        path.write_bytes(path.read_bytes()[:120])
    with pytest.raises(StateError) as e:
        StateStore(blobs, "dev", codec=refuse_encrypted()).read()
    message = one_line(e)
    assert "dev/state.json is encrypted" in message and "state.encryption_key_env" in message
    if not damaged:
        assert codec(KEY_1).key_id in message


# -- keys from the environment ----------------------------------------------------------------------------------------
def test_a_missing_variable_says_which_to_set() -> None:
    for environ in ({}, {VAR: "  "}):
        with pytest.raises(ConfigError) as e:
            codec_from_env(VAR, environ)
        assert f"environment variable {VAR} is not set" in one_line(e)


@pytest.mark.parametrize("value", [
    base64.b64encode(b"k" * 16).decode(),  # AES-128 is not enough
    bytes(range(32)).hex()[:-1],  # 63 hex digits
    "z" * 64,  # 64 characters, not hex, and not 32 bytes of base64
    "not a key at all!",
])
def test_a_malformed_key_names_the_variable_and_the_format_without_echoing_it(value: str) -> None:
    with pytest.raises(ConfigError) as e:
        codec_from_env(VAR, {VAR: value})
    message = one_line(e)
    assert VAR in message and "base64" in message and "64 hex characters" in message
    assert value not in message


def test_base64_hex_and_url_safe_spellings_of_one_key_are_the_same_key() -> None:
    raw = bytes([0xFB, 0xFF] * 16)  # '+' and '/' in standard base64, '-' and '_' in URL-safe
    spellings = [base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode().rstrip("="), raw.hex(),
                 raw.hex().upper(), f"  {base64.b64encode(raw).decode()}\n"]
    codecs = [codec(s) for s in spellings]
    sealed = codecs[0].encode(b"state")
    assert {c.key_id for c in codecs} == {codecs[0].key_id}
    assert all(c.decode(sealed, "x") == b"state" for c in codecs)


def test_generated_keys_are_fresh_and_accepted() -> None:
    keys = {generate_key() for _ in range(5)}
    assert len(keys) == 5
    for key in keys:
        assert len(base64.b64decode(key, validate=True)) == 32
        assert codec(key).decode(codec(key).encode(b"x"), "x") == b"x"


def test_a_workspace_with_encryption_key_env_encrypts_through_open_store(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VAR, KEY_1)
    store = open_store(StateSettings(encryption_key_env=VAR), tmp_path, "dev")
    write_serials(store, 2)
    stored = stored_blobs(LocalBlobStore(tmp_path / ".dss-iac" / "state"))
    assert len(stored) == 3 and all(CANARY.encode() not in data for data in stored.values())
    assert open_store(StateSettings(encryption_key_env=VAR), tmp_path, "dev").load().serial == 2
    with pytest.raises(StateError, match="is encrypted"):
        open_store(StateSettings(), tmp_path, "dev").load()


# -- rotation and migration -------------------------------------------------------------------------------------------
def test_rotation_rewrites_everything_and_the_old_key_reads_nothing(blobs: LocalBlobStore) -> None:
    old, new = codec(KEY_1), codec(KEY_2)
    written = write_serials(StateStore(blobs, "dev", codec=old, keep=3), 5)
    assert rotate(StateStore(blobs, "dev", keep=3), old, new) == 4
    for key, data in stored_blobs(blobs).items():
        assert json.loads(data)["key_id"] == new.key_id, key
        assert CANARY.encode() not in data, key
        with pytest.raises(StateError, match=f"encrypted with key {new.key_id}"):
            old.decode(data, key)
    reader = StateStore(blobs, "dev", codec=new, keep=3)
    state = reader.read()
    assert state is not None and state.to_dict() == written.to_dict()
    assert [h.serial for h in reader.history()] == [3, 4, 5]
    assert rotate(StateStore(blobs, "dev", keep=3), old, new) == 0  # nothing left to do


def test_rotating_plaintext_state_is_refused_with_the_encrypt_hint(blobs: LocalBlobStore) -> None:
    write_serials(StateStore(blobs, "dev"), 1)
    with pytest.raises(StateError, match="dss-iac state encrypt"):
        rotate(StateStore(blobs, "dev"), codec(KEY_1), codec(KEY_2))


class InterleavedBlobs(LocalBlobStore):
    """A local store where another run writes the state just before the first matching put of the rotation."""

    def __init__(self, folder: Path, when: Callable[[str], bool], other_run: Callable[[], None]) -> None:
        super().__init__(folder)
        self.when = when
        self.other_run: Callable[[], None] | None = other_run

    def put(self, key: str, data: bytes, *, expect: Expect = None) -> str:
        if self.other_run is not None and self.when(key):
            run, self.other_run = self.other_run, None
            run()
        return super().put(key, data, expect=expect)


@pytest.mark.parametrize(("when", "resumed"), [
    (lambda key: key.endswith("/0000000002.json"), 4),  # the other run prunes the backup being rewritten
    (lambda key: key.endswith("/0000000003.json"), 2),  # backup 2 is done; the other run's state and backup are not
    (lambda key: key.endswith("/state.json"), 2),  # every backup is done; the current state swap fails
], ids=["on-a-pruned-backup", "between-backups", "before-the-current-state"])
@pytest.mark.parametrize("migrate", [False, True], ids=["rotate", "encrypt-existing"])
def test_a_concurrent_write_is_never_overwritten_and_the_rewrite_resumes(
        tmp_path: Path, when: Callable[[str], bool], resumed: int, migrate: bool) -> None:
    old: Codec = Plain() if migrate else codec(KEY_1)
    new = codec(KEY_2)
    folder = tmp_path / "state"
    write_serials(StateStore(LocalBlobStore(folder), "dev", codec=old, keep=3), 4)  # backups 2, 3, 4
    other = StateStore(LocalBlobStore(folder), "dev", codec=old, keep=3)
    their_state = other.load()

    def other_run() -> None:
        their_state.resources["project.THEIRS"] = ResourceState("project", "THEIRS", {"description": CANARY})
        their_state.stamp("other@host")
        other.commit(their_state, "apply")

    interleaved = InterleavedBlobs(folder, when, other_run)

    def rewrite() -> int:
        store = StateStore(interleaved, "dev", keep=3)
        return encrypt_existing(store, new) if migrate else rotate(store, old, new)

    with pytest.raises(StateError) as e:
        rewrite()
    assert "was changed by another run while the state of 'dev' was being re-encrypted" in one_line(e)
    # The other run's write survived under the old codec; every blob is whole, under one codec or the other.
    current = StateStore(LocalBlobStore(folder), "dev", codec=old, keep=3).read()
    assert current is not None and current.serial == 5 and "project.THEIRS" in current.resources
    for key, data in stored_blobs(LocalBlobStore(folder)).items():
        under_old = not is_encrypted(data) if migrate else reads_with(data, old)
        assert under_old != reads_with(data, new), key

    assert rewrite() == resumed
    final = StateStore(LocalBlobStore(folder), "dev", codec=new, keep=3)
    state = final.read()
    assert state is not None and state.serial == 5 and "project.THEIRS" in state.resources
    assert [h.serial for h in final.history()] == [3, 4, 5]
    for key, data in stored_blobs(LocalBlobStore(folder)).items():
        assert json.loads(data)["key_id"] == new.key_id, key
        assert CANARY.encode() not in data, key


class LateBackups(LocalBlobStore):
    """A local store whose backup writes are held back until `release()`: a run slow between its two puts."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.held: list[tuple[str, bytes]] = []

    def put(self, key: str, data: bytes, *, expect: Expect = None) -> str:
        if "/backups/" in key:
            self.held.append((key, data))
            return version_of(data)
        return super().put(key, data, expect=expect)

    def release(self) -> None:
        for key, data in self.held:
            super().put(key, data)


def test_a_backup_stored_late_by_the_run_before_is_rotated_too(tmp_path: Path) -> None:
    old, new = codec(KEY_1), codec(KEY_2)
    folder = tmp_path / "state"
    write_serials(StateStore(LocalBlobStore(folder), "dev", codec=old, keep=3), 4)
    slow = LateBackups(folder)
    write_serials(StateStore(slow, "dev", codec=old, keep=3), 1)  # serial 5 is current; its backup is not stored yet
    # The rotation reads the current state and the backups, then the slow run stores its backup of serial 5.
    rotation = StateStore(InterleavedBlobs(folder, lambda key: key.endswith("/state.json"), slow.release), "dev")
    assert rotate(rotation, old, new) == 4  # (backup 2 went when the history entry of serial 5 was added)
    stored = stored_blobs(LocalBlobStore(folder))
    assert sorted(stored) == ["dev/backups/0000000003.json", "dev/backups/0000000004.json",
                              "dev/backups/0000000005.json", "dev/state.json"]
    assert all(json.loads(data)["key_id"] == new.key_id for data in stored.values())


def test_encrypt_existing_migrates_plaintext_state(blobs: LocalBlobStore) -> None:
    written = write_serials(StateStore(blobs, "dev", keep=3), 5)
    key = codec(KEY_1)
    assert encrypt_existing(StateStore(blobs, "dev", keep=3), key) == 4
    stored = stored_blobs(blobs)
    assert len(stored) == 4 and all(CANARY.encode() not in data for data in stored.values())
    state = StateStore(blobs, "dev", codec=key, keep=3).read()
    assert state is not None and state.to_dict() == written.to_dict()
    with pytest.raises(StateError, match="is encrypted"):
        StateStore(blobs, "dev", codec=refuse_encrypted()).read()
    assert encrypt_existing(StateStore(blobs, "dev", keep=3), key) == 0  # already done
    with pytest.raises(StateError) as e:
        encrypt_existing(StateStore(blobs, "dev", keep=3), codec(KEY_2))
    assert key.key_id in one_line(e)  # encrypted with another key: refused, not encrypted twice


def test_rewriting_an_environment_without_state_does_nothing(blobs: LocalBlobStore) -> None:
    assert rotate(StateStore(blobs, "dev"), codec(KEY_1), codec(KEY_2)) == 0
    assert encrypt_existing(StateStore(blobs, "dev"), codec(KEY_1)) == 0
    assert blobs.list("") == []


# -- random states -----------------------------------------------------------------------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)
resources = st.builds(ResourceState, kind=st.text(min_size=1, max_size=12), remote_id=st.text(max_size=12),
                      fields=st.dictionaries(st.text(max_size=8), json_values, max_size=5),
                      depends_on=st.lists(st.text(max_size=12), max_size=3))


@settings(max_examples=60, deadline=None)
@given(resources=st.dictionaries(st.text(min_size=1, max_size=16), resources, max_size=6),
       who=st.text(max_size=20), serials=st.integers(min_value=1, max_value=3))
def test_random_states_round_trip_encrypted(resources: dict[str, ResourceState], who: str, serials: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        blobs = LocalBlobStore(Path(folder))
        state = State("dev", resources=resources)
        writer = StateStore(blobs, "dev", codec=codec(KEY_1))
        for _ in range(serials):
            state.stamp(who)
            writer.write(state)
        back = StateStore(blobs, "dev", codec=codec(KEY_1)).read()
        assert back is not None and back.to_dict() == state.to_dict()
        assert all(data.lstrip().startswith(b'{\n "format": "' + ENVELOPE.encode())
                   for data in stored_blobs(blobs).values())


def test_the_journal_of_an_interrupted_apply_is_encrypted_too(tmp_path: Path) -> None:
    from dataiku_iac.state.blobs import LocalBlobStore
    from dataiku_iac.state.crypto import codec_from_env, generate_key
    from dataiku_iac.state.store import StateStore

    key = generate_key()
    codec = codec_from_env("K", environ={"K": key})
    store = StateStore(LocalBlobStore(tmp_path), "dev", codec=codec)
    store.journal_append(1, {"op": "done", "address": "project.P", "resource": {"fields": {"secret": "CANARY-42"}}})
    raw = next((tmp_path / "dev" / "journal").iterdir()).read_bytes()
    assert b"CANARY-42" not in raw
    assert store.journal()[0]["resource"]["fields"]["secret"] == "CANARY-42"
    new = codec_from_env("K2", environ={"K2": generate_key()})
    from dataiku_iac.state.crypto import rotate

    assert rotate(store, codec, new) == 1
    assert StateStore(LocalBlobStore(tmp_path), "dev", codec=new).journal()[0]["address"] == "project.P"
