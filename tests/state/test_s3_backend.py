"""The S3 state backend against moto's HTTP server: the BlobStore contract, state, leases, concurrency, errors."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataiku_iac.config.models import StateSettings
from dataiku_iac.errors import LockError, StateError
from dataiku_iac.state.backends import open_store
from dataiku_iac.state.blobs import ABSENT, BlobConflict
from dataiku_iac.state.crypto import generate_key
from dataiku_iac.state.lease import Lease, Leases
from dataiku_iac.state.model import ResourceState, State
from dataiku_iac.state.s3 import S3BlobStore
from dataiku_iac.state.store import StateStore

from .conftest import S3Endpoint, s3_client

KEY = "dev/state.json"
Blob = tuple[bytes, str] | None


def etag_of(blob: Blob) -> str | None:
    return None if blob is None else blob[1]


def content_of(blob: Blob) -> bytes | None:
    return None if blob is None else blob[0]


def store_on(ep: S3Endpoint, prefix: str = "dss-iac") -> S3BlobStore:
    return S3BlobStore(ep.bucket, prefix=prefix, endpoint_url=ep.url)


def run_together(*jobs: Callable[[], object]) -> list[object]:
    """Run the jobs on threads released at the same instant; each result is its return value or its exception."""
    start = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = jobs[i]()
        except Exception as e:
            results[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


# -- the BlobStore contract ----------------------------------------------------------------------------------
def test_get_put_delete_list_round_trip_under_the_prefix(s3_endpoint: S3Endpoint) -> None:
    blobs = store_on(s3_endpoint)
    assert blobs.location == f"s3://{s3_endpoint.bucket}/dss-iac"
    assert blobs.get(KEY) is None
    v1 = blobs.put(KEY, b"one", expect=ABSENT)
    assert blobs.get(KEY) == (b"one", v1)
    blobs.put("dev/backups/0000000001.json", b"b1")
    blobs.put("dev/backups2/x.json", b"not a backup")
    blobs.put("prod/state.json", b"p")
    assert blobs.list("dev/backups") == ["dev/backups/0000000001.json"]  # a folder, not a string prefix
    assert blobs.list("dev") == ["dev/backups/0000000001.json", "dev/backups2/x.json", KEY]
    assert blobs.list("") == [*blobs.list("dev"), "prod/state.json"]
    assert blobs.list("nothing-here") == []
    # The objects sit under the prefix in the bucket, where a user looking at the bucket finds them.
    raw = s3_client(s3_endpoint.url).get_object(Bucket=s3_endpoint.bucket, Key="dss-iac/dev/state.json")
    assert raw["Body"].read() == b"one"
    blobs.delete(KEY, expect=v1)
    assert blobs.get(KEY) is None
    blobs.delete(KEY)  # an absent key is fine without expectations
    blobs.delete(KEY, expect=ABSENT)


def test_stores_with_other_prefixes_do_not_see_each_other(s3_endpoint: S3Endpoint) -> None:
    team_a, team_b, root = store_on(s3_endpoint, "team-a/"), store_on(s3_endpoint, "team-b"), store_on(s3_endpoint, "")
    team_a.put(KEY, b"a")
    assert team_b.get(KEY) is None
    assert team_b.list("") == []
    assert root.location == f"s3://{s3_endpoint.bucket}"
    assert root.list("") == ["team-a/dev/state.json"]
    assert team_a.location == f"s3://{s3_endpoint.bucket}/team-a"


def test_version_conflicts_leave_the_stored_value_alone(s3_endpoint: S3Endpoint) -> None:
    blobs = store_on(s3_endpoint)
    v1 = blobs.put(KEY, b"one", expect=ABSENT)
    with pytest.raises(BlobConflict, match="changed since it was read"):
        blobs.put(KEY, b"again", expect=ABSENT)
    v2 = blobs.put(KEY, b"two", expect=v1)
    assert v2 != v1
    with pytest.raises(BlobConflict):
        blobs.put(KEY, b"stale", expect=v1)
    with pytest.raises(BlobConflict):
        blobs.delete(KEY, expect=v1)
    with pytest.raises(BlobConflict):
        blobs.delete(KEY, expect=ABSENT)
    assert blobs.get(KEY) == (b"two", v2)
    blobs.delete(KEY, expect=v2)
    # Once deleted, a version of it no longer matches anything: writing or deleting with it is a conflict.
    with pytest.raises(BlobConflict):
        blobs.put(KEY, b"zombie", expect=v2)
    with pytest.raises(BlobConflict):
        blobs.delete(KEY, expect=v2)
    assert blobs.get(KEY) is None
    assert blobs.put(KEY, b"anything") and blobs.put(KEY, b"overwrite")  # None: unconditional
    assert content_of(blobs.get(KEY)) == b"overwrite"


def test_invalid_keys_are_refused_before_any_request(s3_endpoint: S3Endpoint) -> None:
    blobs = store_on(s3_endpoint)
    for key in ("/dev/state.json", "dev/../prod/state.json", ""):
        with pytest.raises(ValueError, match="invalid state key"):
            blobs.put(key, b"x")


# -- concurrency and lost updates ---------------------------------------------------------------------------
def test_two_concurrent_state_writers_exactly_one_wins(s3_endpoint: S3Endpoint) -> None:
    # Two stores with clients of their own, as two CI jobs would have; one round per environment.
    one, two, reader = store_on(s3_endpoint), store_on(s3_endpoint), store_on(s3_endpoint)
    for round_ in range(10):
        env = f"env{round_}"
        first, second = StateStore(one, env), StateStore(two, env)
        states = [first.load(), second.load()]  # both read before either writes
        for i, s in enumerate(states):
            s.resources[f"project.p{i}"] = ResourceState("project", f"P{i}", {})
            s.stamp(f"writer{i}")
        results = run_together(partial(first.write, states[0]), partial(second.write, states[1]))
        errors = [r for r in results if isinstance(r, Exception)]
        assert len(errors) == 1, results
        assert isinstance(errors[0], StateError)
        assert str(errors[0]) == (f"the state of '{env}' at s3://{s3_endpoint.bucket}/dss-iac/{env}/state.json was "
                                  "changed by another run since it was read; nothing was overwritten: run the "
                                  "command again")
        winner = results.index(None)
        stored = StateStore(reader, env).read()
        assert stored is not None and list(stored.resources) == [f"project.p{winner}"]


def test_concurrent_read_modify_write_loops_never_lose_an_increment(s3_endpoint: S3Endpoint) -> None:
    writers, increments = 4, 15

    def add_one_each_time() -> int:
        blobs, conflicts = store_on(s3_endpoint), 0
        for _ in range(increments):
            while True:
                got = blobs.get("counter")
                try:
                    if got is None:
                        blobs.put("counter", b"1", expect=ABSENT)
                    else:
                        blobs.put("counter", str(int(got[0]) + 1).encode(), expect=got[1])
                    break
                except BlobConflict:
                    conflicts += 1
        return conflicts

    conflicts = run_together(*[add_one_each_time] * writers)
    assert content_of(store_on(s3_endpoint).get("counter")) == str(writers * increments).encode()
    assert all(isinstance(n, int) for n in conflicts), conflicts
    assert sum(n for n in conflicts if isinstance(n, int)) > 0  # the writers did collide; each collision was caught


WRITERS = 2
ops = st.lists(st.tuples(st.integers(0, WRITERS - 1), st.sampled_from(["read", "put", "delete"]),
                         st.sampled_from([b"a", b"b", b"c"])), min_size=4, max_size=20)


@pytest.fixture
def blobs(s3_endpoint: S3Endpoint) -> S3BlobStore:
    return store_on(s3_endpoint)


# The fixture's store is shared by the examples: each example works on a key of its own.
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=ops)
def test_stale_or_fresh_versions_never_lose_an_acknowledged_write(blobs: S3BlobStore, ops: list) -> None:
    """Writers put and delete with whatever version they last saw.

    A write that succeeds was based on the latest acknowledged value (nothing acknowledged was overwritten
    unseen); a write based on the latest version always succeeds; a refused write changes nothing.
    """
    key = f"h/{uuid.uuid4().hex}.json"
    current: Blob = None  # the latest acknowledged value and its version
    seen: list[Blob] = [None] * WRITERS
    for writer, op, data in ops:
        if op == "read":
            seen[writer] = blobs.get(key)
            assert seen[writer] == current
            continue
        expect = etag_of(seen[writer]) or ABSENT
        fresh = etag_of(seen[writer]) == etag_of(current)
        try:
            if op == "put":
                version = blobs.put(key, data, expect=expect)
            else:
                blobs.delete(key, expect=expect)
        except BlobConflict:
            assert not fresh
            assert blobs.get(key) == current
            continue
        # Success: the writer had seen the latest acknowledged content (an ETag names a content).
        assert content_of(seen[writer]) == content_of(current)
        current = (data, version) if op == "put" else None
        seen[writer] = current
        assert blobs.get(key) == current


class LossyProxy:
    """An HTTP proxy in front of moto that can lose the answer of one request after moto has applied it.

    That is what a timeout or a 5xx after the fact looks like to boto3, which then sends the request again.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.removeprefix("http://")
        self.lose_next: str | None = None  # HTTP method whose next answer gets lost
        self.on_loss: Callable[[], None] = lambda: None
        self.lost = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _relay(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                conn = http.client.HTTPConnection(proxy.upstream, timeout=10)
                conn.request(self.command, self.path, body, dict(self.headers.items()))
                answer = conn.getresponse()
                payload = answer.read()
                conn.close()
                if proxy.lose_next == self.command:
                    proxy.lose_next, proxy.lost = None, proxy.lost + 1
                    proxy.on_loss()
                    status, headers = 500, [("Content-Type", "application/xml")]
                    payload = b"<Error><Code>InternalError</Code><Message>lost</Message></Error>"
                else:
                    status = answer.status
                    headers = [(k, v) for k, v in answer.getheaders()
                               if k.lower() not in ("content-length", "transfer-encoding", "connection")]
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_PUT = do_DELETE = do_HEAD = do_POST = _relay

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LossyProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def lossy(s3_endpoint: S3Endpoint) -> Iterator[tuple[LossyProxy, S3BlobStore]]:
    with LossyProxy(s3_endpoint.url) as proxy:
        yield proxy, S3BlobStore(s3_endpoint.bucket, endpoint_url=proxy.url)


def test_a_conditional_write_whose_answer_was_lost_is_not_reported_as_a_conflict(lossy) -> None:
    proxy, blobs = lossy
    v1 = blobs.put(KEY, b"one", expect=ABSENT)
    proxy.lose_next = "PUT"
    v2 = blobs.put(KEY, b"two", expect=v1)  # applied, answer lost; the retry meets our own write
    assert proxy.lost == 1
    assert blobs.get(KEY) == (b"two", v2)
    proxy.lose_next = "PUT"
    v3 = blobs.put("dev/lock.json", b"lease", expect=ABSENT)
    assert proxy.lost == 2 and blobs.get("dev/lock.json") == (b"lease", v3)
    proxy.lose_next = "DELETE"
    blobs.delete(KEY, expect=v2)
    assert proxy.lost == 3 and blobs.get(KEY) is None


def test_a_lost_answer_followed_by_another_writer_is_still_a_conflict(lossy, s3_endpoint: S3Endpoint) -> None:
    proxy, blobs = lossy
    v1 = blobs.put(KEY, b"one", expect=ABSENT)
    other = store_on(s3_endpoint)
    proxy.lose_next = "PUT"
    proxy.on_loss = lambda: other.put(KEY, b"theirs", expect=etag_of(other.get(KEY)))
    with pytest.raises(BlobConflict):
        blobs.put(KEY, b"mine", expect=v1)
    assert content_of(blobs.get(KEY)) == b"theirs"


# -- StateStore on S3 ----------------------------------------------------------------------------------------
def test_state_round_trip_backups_and_history_on_s3(s3_endpoint: S3Endpoint, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DSS_IAC_TEST_STATE_KEY", generate_key())
    settings_ = StateSettings(backend="s3", bucket=s3_endpoint.bucket, prefix="teams/data", region="us-east-1",
                              endpoint_url=s3_endpoint.url, keep_backups=3,
                              encryption_key_env="DSS_IAC_TEST_STATE_KEY")
    store = open_store(settings_, tmp_path, "dev")
    assert isinstance(store.blobs, S3BlobStore)
    assert store.read() is None
    state = store.load()
    for n in range(1, 6):
        state.resources[f"project.p{n}"] = ResourceState("project", f"P{n}", {"name": f"secret-free {n}"})
        state.stamp(f"user{n}@ci")
        store.commit(state, "apply")
    again = open_store(settings_, tmp_path, "dev").read()
    assert again is not None and again.to_dict() == state.to_dict()
    assert store.backup_serials() == [3, 4, 5]
    assert [(h.serial, h.who, h.resources) for h in store.history()] == [(3, "user3@ci", 3), (4, "user4@ci", 4),
                                                                         (5, "user5@ci", 5)]
    assert store.backup(4).serial == 4
    with pytest.raises(StateError, match=r"no backup of serial 2 for 'dev' \(kept: 3, 4, 5\)"):
        store.backup(2)
    raw = s3_client(s3_endpoint.url)
    stored = raw.get_object(Bucket=s3_endpoint.bucket, Key="teams/data/dev/state.json")["Body"].read()
    assert b"secret-free" not in stored and b"dss-iac-encrypted-state" in stored  # encrypted at rest
    listed = raw.list_objects_v2(Bucket=s3_endpoint.bucket, Prefix="teams/data/dev/backups/")
    assert [o["Key"] for o in listed["Contents"]] == [f"teams/data/dev/backups/{n:010d}.json" for n in (3, 4, 5)]


def test_a_corrupted_state_object_names_the_backup_on_s3(s3_endpoint: S3Endpoint) -> None:
    store = StateStore(store_on(s3_endpoint), "dev")
    state = State(environment="dev")
    state.stamp("me")
    store.commit(state, "apply")
    s3_client(s3_endpoint.url).put_object(Bucket=s3_endpoint.bucket, Key="dss-iac/dev/state.json", Body=b'{"trunc')
    with pytest.raises(StateError) as err:
        StateStore(store_on(s3_endpoint), "dev").read()
    where = f"s3://{s3_endpoint.bucket}/dss-iac/dev"
    assert str(err.value).startswith(f"{where}/state.json: state is not valid JSON")
    assert f"The last backup is {where}/backups/0000000001.json (serial 1)" in str(err.value)


# -- leases on S3 ----------------------------------------------------------------------------------------------
def test_two_acquirers_one_wins_and_the_other_is_told_who_holds_the_lock(s3_endpoint: S3Endpoint) -> None:
    def leases() -> Leases:
        return Leases(store_on(s3_endpoint), "dev/lock.json", "dev", ttl=60)

    a, b = leases(), leases()
    results = run_together(lambda: a.acquire("apply"), lambda: b.acquire("apply"))
    won = [r for r in results if isinstance(r, Lease)]
    lost = [r for r in results if isinstance(r, LockError)]
    assert len(won) == 1 and len(lost) == 1, results
    message = str(lost[0])
    assert f"lock {won[0].id} held by {won[0].who}" in message
    assert f"dss-iac state unlock -e dev {won[0].id}" in message
    assert "\n" not in message
    assert leases().holder() == won[0]
    renewed = a.renew(won[0])
    assert renewed.id == won[0].id and renewed.expires >= won[0].expires
    assert b.release(won[0].id) is True
    assert leases().holder() is None
    assert a.acquire("plan").operation == "plan"  # free again


def test_a_lease_whose_holder_stopped_renewing_is_taken_over(s3_endpoint: S3Endpoint) -> None:
    blobs = store_on(s3_endpoint)
    # A holder on another machine (so its pid cannot be checked here) whose lease ran out a minute ago.
    dead = Lease("0123abcd4567", "ci@runner-7", 4242, "runner-7.example", "apply", "2026-01-01T00:00:00+00:00",
                 time.time() - 60)
    blobs.put("dev/lock.json", dead.to_bytes(), expect=ABSENT)
    leases = Leases(blobs, "dev/lock.json", "dev", ttl=60)
    mine = leases.acquire("apply")
    assert leases.holder() == mine and mine.id != dead.id
    with pytest.raises(LockError, match="the state lock 0123abcd4567 of 'dev' was taken away"):
        Leases(store_on(s3_endpoint), "dev/lock.json", "dev").renew(dead)
    with pytest.raises(LockError, match=f"held by lock {mine.id}, not 0123abcd4567"):
        leases.release(dead.id)


# -- errors a user can meet -------------------------------------------------------------------------------------
def assert_one_line(err: pytest.ExceptionInfo[StateError], *parts: str) -> None:
    message = str(err.value)
    assert "\n" not in message
    for part in parts:
        assert part in message, message


def test_a_missing_bucket_is_named_with_what_to_do(s3_endpoint: S3Endpoint) -> None:
    blobs = S3BlobStore("no-such-state-bucket", endpoint_url=s3_endpoint.url)
    for call in (lambda: blobs.get(KEY), lambda: blobs.put(KEY, b"x", expect=ABSENT), lambda: blobs.list("dev")):
        with pytest.raises(StateError) as err:
            call()
        assert_one_line(err, "'no-such-state-bucket'", "does not exist", s3_endpoint.url,
                        "create it, or fix state.bucket in dss-iac.yaml")


def test_missing_credentials_are_a_clear_error(s3_endpoint: S3Endpoint, monkeypatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(StateError) as err:
        store_on(s3_endpoint).get(KEY)
    assert_one_line(err, f"no usable AWS credentials to reach S3 bucket '{s3_endpoint.bucket}'",
                    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")


def test_an_unreachable_endpoint_is_a_clear_error(s3_endpoint: S3Endpoint) -> None:
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    blobs = S3BlobStore("state-bucket", endpoint_url=url)
    with pytest.raises(StateError) as err:
        blobs.put(KEY, b"x", expect=ABSENT)
    assert_one_line(err, f"cannot reach the S3 endpoint {url} for bucket 'state-bucket'", "state.endpoint_url")


def test_an_unusable_endpoint_url_is_a_clear_error() -> None:
    with pytest.raises(StateError) as err:
        S3BlobStore("state-bucket", endpoint_url="not a url")
    assert_one_line(err, "state.endpoint_url 'not a url'", "https://")


def test_the_core_does_not_import_boto3_until_an_s3_store_is_made() -> None:
    code = ("import sys, dataiku_iac.state.backends, dataiku_iac.state.s3, dataiku_iac.cli.main; "
            "print('boto3' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "False"
