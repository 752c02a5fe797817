"""Every state backend for the state tests: `backend` runs a test on the local folder, S3 and Git alike.

S3 is moto's HTTP server on a loopback port, a real S3 API over the wire through boto3: `s3_endpoint` gives each
test a fresh bucket on one server per session, and fake credentials in the environment, so no test can reach real
AWS.

moto checks S3 preconditions (If-Match, If-None-Match) and then writes, without a lock between the two:
under concurrent requests two conditional writers can both pass the check, and concurrent overwrites of a
key can crash moto with a 500. S3 itself evaluates a conditional write atomically. The server here handles
one request at a time so that it behaves like S3 on that point and concurrency tests test our code, not moto.
"""

from __future__ import annotations

import functools
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import boto3
import pytest
from moto.server import ThreadedMotoServer

from dataiku_iac.config.models import StateSettings
from dataiku_iac.state.backends import open_blobs
from dataiku_iac.state.blobs import BlobStore
from tests.gitrepos import make_repo

REGION = "us-east-1"
FAKE_KEY = "testing"
BACKENDS = ["local", "s3", "git"]


class S3Endpoint(NamedTuple):
    url: str
    bucket: str


def _one_request_at_a_time(app: Callable[..., Iterable[bytes]]) -> Callable[..., list[bytes]]:
    lock = threading.Lock()

    def serialized(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with lock:
            result = app(environ, start_response)
            try:
                return [b"".join(result)]
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()

    return serialized


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    # werkzeug reads `server.app` again for every request, so wrapping it once serializes them all.
    wsgi = server._server
    assert wsgi is not None
    wsgi.app = _one_request_at_a_time(wsgi.app)
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def fake_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials only; no profile, config file, endpoint override or instance metadata to fall back on."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                 "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def s3_endpoint(moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> S3Endpoint:
    """The moto server's URL and a fresh, empty bucket on it."""
    fake_aws_env(monkeypatch, tmp_path)
    bucket = f"dss-iac-test-{uuid.uuid4().hex[:12]}"
    s3_client(moto_url).create_bucket(Bucket=bucket)
    return S3Endpoint(moto_url, bucket)


@functools.cache
def s3_client(url: str) -> Any:
    """A plain boto3 client on the test server, to look at buckets the way a user's AWS console would.

    Cached: making a boto3 client parses botocore's service models, a good part of a second.
    """
    return boto3.session.Session().client("s3", endpoint_url=url, region_name=REGION,
                                          aws_access_key_id=FAKE_KEY, aws_secret_access_key=FAKE_KEY)


# -- every backend -------------------------------------------------------------------------------------------

@dataclass
class Backend:
    """Where one backend keeps the state of a test; `open()` is what each run of dss-iac does."""

    name: str
    settings: StateSettings
    root: Path
    opened: list[BlobStore] = field(default_factory=list)

    def open(self) -> BlobStore:
        blobs = open_blobs(self.settings, self.root)
        self.opened.append(blobs)
        return blobs

    def close(self) -> None:
        for blobs in self.opened:
            close = getattr(blobs, "close", None)  # the Git store's long-lived `git cat-file` processes
            if close is not None:
                close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "s3":
        s3 = request.getfixturevalue("s3_endpoint")  # moto starts only for the S3 cases
        settings_ = StateSettings(backend="s3", bucket=s3.bucket, region=REGION, endpoint_url=s3.url)
    elif request.param == "git":
        make_repo(tmp_path / "state.git", bare=True)
        settings_ = StateSettings(backend="git", repo="state.git")
    else:
        settings_ = StateSettings(backend="local")
    where = Backend(request.param, settings_, tmp_path)
    yield where
    where.close()
