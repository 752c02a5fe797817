"""The S3 state backend against moto's HTTP server: prefixes, lost answers, the bucket's layout, errors.

The BlobStore contract, state, leases and concurrency: test_blob_conformance.py, on every backend."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from dataiku_iac.config.models import StateSettings
from dataiku_iac.errors import StateError
from dataiku_iac.state.backends import open_store
from dataiku_iac.state.blobs import ABSENT, BlobConflict
from dataiku_iac.state.crypto import generate_key
from dataiku_iac.state.model import ResourceState
from dataiku_iac.state.s3 import S3BlobStore

from .conftest import S3Endpoint, s3_client

KEY = "dev/state.json"
Blob = tuple[bytes, str] | None


def etag_of(blob: Blob) -> str | None:
    return None if blob is None else blob[1]


def content_of(blob: Blob) -> bytes | None:
    return None if blob is None else blob[0]


def store_on(ep: S3Endpoint, prefix: str = "dss-iac") -> S3BlobStore:
    return S3BlobStore(ep.bucket, prefix=prefix, endpoint_url=ep.url)


# -- what only S3 has (the BlobStore contract itself: test_blob_conformance.py) ------------------------------------
def test_stores_with_other_prefixes_do_not_see_each_other(s3_endpoint: S3Endpoint) -> None:
    team_a, team_b, root = store_on(s3_endpoint, "team-a/"), store_on(s3_endpoint, "team-b"), store_on(s3_endpoint, "")
    team_a.put(KEY, b"a")
    # The objects sit under the prefix in the bucket, where a user looking at the bucket finds them.
    raw = s3_client(s3_endpoint.url).get_object(Bucket=s3_endpoint.bucket, Key="team-a/dev/state.json")
    assert raw["Body"].read() == b"a"
    assert team_b.get(KEY) is None
    assert team_b.list("") == []
    assert root.location == f"s3://{s3_endpoint.bucket}"
    assert root.list("") == ["team-a/dev/state.json"]
    assert team_a.location == f"s3://{s3_endpoint.bucket}/team-a"


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
def test_the_state_its_backups_and_history_lie_under_the_prefix_encrypted(s3_endpoint: S3Endpoint, monkeypatch,
                                                                           tmp_path: Path) -> None:
    monkeypatch.setenv("DSS_IAC_TEST_STATE_KEY", generate_key())
    settings_ = StateSettings(backend="s3", bucket=s3_endpoint.bucket, prefix="teams/data", region="us-east-1",
                              endpoint_url=s3_endpoint.url, keep_backups=3,
                              encryption_key_env="DSS_IAC_TEST_STATE_KEY")
    store = open_store(settings_, tmp_path, "dev")
    assert isinstance(store.blobs, S3BlobStore)
    state = store.load()
    for n in range(1, 5):
        state.resources[f"project.p{n}"] = ResourceState("project", f"P{n}", {"name": f"secret-free {n}"})
        state.stamp(f"user{n}@ci")
        store.commit(state, "apply")
    raw = s3_client(s3_endpoint.url)
    stored = raw.get_object(Bucket=s3_endpoint.bucket, Key="teams/data/dev/state.json")["Body"].read()
    assert b"secret-free" not in stored and b"dss-iac-encrypted-state" in stored  # encrypted at rest
    listed = raw.list_objects_v2(Bucket=s3_endpoint.bucket, Prefix="teams/data/dev/")
    assert [o["Key"] for o in listed["Contents"]] == [
        *(f"teams/data/dev/backups/{n:010d}.json" for n in (2, 3, 4)), "teams/data/dev/history.json",
        "teams/data/dev/state.json"]


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
