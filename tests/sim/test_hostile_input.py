"""Hostile and odd input never breaks a simulator node: it is refused with a DSS error, and the node keeps
serving every later request as before (issue 11, point 4)."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from dataikuapi import DSSClient
from dataikuapi.utils import DataikuException
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dataiku_iac.sim import SimOptions, Simulator
from dataiku_iac.sim.handlers.bundles_archive import build_archive
from tests.conftest import NON_ADMIN_KEY

LONG_KEY = "A" * 300


@pytest.fixture
def persisted(tmp_path: Path) -> Iterator[Simulator]:
    with Simulator(data_dir=tmp_path, user_keys={NON_ADMIN_KEY: "alice"}) as sim:
        yield sim


def _auth(sim: Simulator) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{sim.api_key}:".encode()).decode()}


def _raw(sim: Simulator, request: bytes, *, shut_write: bool = False, timeout: float = 10.0) -> bytes:
    """Send raw bytes to the design node; everything it answers until it closes the connection."""
    host, port = sim.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(request)
        if shut_write:
            s.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    return reply


def _status_and_error(reply: bytes) -> tuple[int, dict]:
    head, _, body = reply.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(body)


# -- project keys ---------------------------------------------------------------------------------------------------
def test_an_overlong_project_key_is_refused_and_the_node_keeps_serving(persisted: Simulator, tmp_path: Path) -> None:
    client = persisted.client()
    with pytest.raises(DataikuException, match=r"BadRequestException: Invalid project key .*longer than 128"):
        client.create_project(LONG_KEY, "too long", "admin")
    # Before the fix every later request of the node failed with a 500 until restart.
    assert client.list_project_keys() == []
    client.create_project("AFTER", "after", "admin")
    assert client.list_project_keys() == ["AFTER"]
    persisted.stop()
    with Simulator(data_dir=tmp_path) as again:
        assert again.client().list_project_keys() == ["AFTER"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.one_of(st.text(max_size=300), st.text(alphabet="AZaz09_", min_size=100, max_size=300)))
@example(key="../../etc/passwd")
@example(key=".")
@example(key="A" * 128)
@example(key="A" * 129)
@example(key="nul\x00byte")
def test_any_project_key_is_created_or_refused_with_a_400(persisted: Simulator, key: str) -> None:
    client = persisted.client()
    before = client.list_project_keys()
    try:
        client.create_project(key, "any", "admin")
    except DataikuException as e:
        assert str(e).startswith("com.dataiku.dip.exceptions.BadRequestException: Invalid project key")
        assert client.list_project_keys() == before
    else:
        assert key in client.list_project_keys()
        client.get_project(key).delete()
    data_dir = persisted.data_dir
    assert data_dir is not None
    assert {p.name for p in data_dir.iterdir()} <= {".lock", "design", "automation", "govern"}


def test_a_bundle_naming_an_overlong_project_key_is_refused(persisted: Simulator, tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    archive.write_bytes(build_archive({"bundleId": "v1", "projectKey": LONG_KEY}, {"metadata": {}}))
    auto = persisted.client(node="automation")
    with pytest.raises(DataikuException, match="Invalid project key"):
        auto.create_project_from_bundle_archive(io.BytesIO(archive.read_bytes()))
    with pytest.raises(DataikuException, match="Invalid project key"):
        auto.create_project_from_bundle_local_archive(str(archive))
    assert auto.list_project_keys() == []
    auto.create_project("STILL_FINE", "fine", "admin")
    assert auto.list_project_keys() == ["STILL_FINE"]


# -- writes the disk refuses ----------------------------------------------------------------------------------------
def _refuse_rows_of(node_dir: Path, owner: str) -> sqlite3.Connection:
    """The node's database refuses (as a full disk would) to store any row of `owner` until the trigger goes."""
    db = sqlite3.connect(node_dir / "store.db", isolation_level=None)
    db.execute(f"CREATE TRIGGER refuse BEFORE INSERT ON docs WHEN NEW.owner = '{owner}' "
               "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END")
    return db


def _rows(node_dir: Path) -> list[tuple[str, str, str, str]]:
    with contextlib.closing(sqlite3.connect(node_dir / "store.db")) as db:
        return db.execute("SELECT owner, part, item, doc FROM docs ORDER BY owner, part, item").fetchall()


def test_a_write_the_disk_refuses_leaves_the_node_as_it_was(persisted: Simulator, tmp_path: Path) -> None:
    client = persisted.client()
    db = _refuse_rows_of(tmp_path / "design", "BLOCKED")
    with pytest.raises(DataikuException, match=r"java.io.IOException: I/O error"):
        client.create_project("BLOCKED", "blocked", "admin")
    assert client.list_project_keys() == []  # not half-created in memory
    db.execute("DROP TRIGGER refuse")
    db.close()
    client.create_project("BLOCKED", "blocked", "admin")
    assert client.list_project_keys() == ["BLOCKED"]


def test_a_request_changing_two_documents_writes_both_or_neither(persisted: Simulator, tmp_path: Path) -> None:
    # Exporting a bundle changes the project and the instance (its export counter): the project's rows refused,
    # the instance's (written first, in the same transaction) must not stay changed.
    project = persisted.client().create_project("TWO", "two", "admin")
    node_dir = tmp_path / "design"
    before = _rows(node_dir)
    db = _refuse_rows_of(node_dir, "TWO")
    with pytest.raises(DataikuException, match="IOException"):
        project.export_bundle("v1")
    assert _rows(node_dir) == before
    assert project.list_exported_bundles()["bundles"] == []
    db.execute("DROP TRIGGER refuse")
    db.close()
    project.export_bundle("v1")
    assert [b["bundleId"] for b in project.list_exported_bundles()["bundles"]] == ["v1"]
    assert _rows(node_dir) != before


# -- archivePath: a server-side file ---------------------------------------------------------------------------------
def test_archive_path_tells_a_non_admin_nothing_about_the_servers_files(persisted: Simulator,
                                                                        tmp_path: Path) -> None:
    existing = tmp_path / "exists.zip"
    existing.write_bytes(b"not a zip")
    alice = persisted.client(node="automation", api_key=NON_ADMIN_KEY)
    answers = []
    for path in (str(existing), str(tmp_path / "missing.zip"), "/etc/passwd"):
        with pytest.raises(DataikuException) as e:
            alice.create_project_from_bundle_local_archive(path)
        answers.append(str(e.value).replace(path, "PATH"))
    assert len(set(answers)) == 1
    assert answers[0] == ("com.dataiku.dip.exceptions.UnauthorizedException: Action forbidden: user alice is not "
                          "an administrator")
    # The admin still learns whether the file is there, as on DSS.
    admin = persisted.client(node="automation")
    with pytest.raises(DataikuException, match="FileNotFoundException"):
        admin.create_project_from_bundle_local_archive(str(tmp_path / "missing.zip"))


def test_importing_from_an_archive_path_needs_an_admin_too(persisted: Simulator, tmp_path: Path) -> None:
    persisted.client(node="automation").create_project("TARGET", "target", "admin")
    alice = persisted.client(node="automation", api_key=NON_ADMIN_KEY).get_project("TARGET")
    for path in ("/etc/passwd", str(tmp_path / "missing.zip")):
        with pytest.raises(DataikuException, match="not an administrator"):
            alice.import_bundle_from_archive(path)


# -- malformed HTTP ---------------------------------------------------------------------------------------------------
POST = b"POST /dip/publicapi/projects/ HTTP/1.1\r\nHost: x\r\n"
CHUNKED = POST + b"Transfer-Encoding: chunked\r\n\r\n"


@pytest.mark.parametrize("request_bytes, message", [
    (CHUNKED + b"ZZZ\r\nabc\r\n0\r\n\r\n", "invalid chunk size"),
    (CHUNKED + b"-3\r\nabc\r\n0\r\n\r\n", "invalid chunk size"),
    (CHUNKED + b"3\r\nabcdef\r\n0\r\n\r\n", "longer than its announced size"),
    (CHUNKED + b"1" * 10000 + b"\r\n", "chunk size line too long"),
    (CHUNKED + b"10\r\nabc", "cut short"),
    (CHUNKED + b"3\r\nabc\r\n0\r\n" + b"X-Trailer: 1\r\n" * 200, "too many trailer lines"),
    (POST + b"Content-Length: -5\r\n\r\n", "Invalid Content-Length"),
    (POST + b"Content-Length: +5\r\n\r\nhello", "Invalid Content-Length"),
    (POST + b"Content-Length: 1_0\r\n\r\nhellohello", "Invalid Content-Length"),
    (POST + b"Content-Length: 50\r\n\r\nshort", "cut short: 5 of 50 bytes"),
], ids=["bad-hex", "negative-size", "chunk-overrun", "endless-size-line", "chunk-cut-short", "endless-trailers",
        "negative-length", "signed-length", "underscored-length", "body-cut-short"])
def test_a_malformed_body_is_a_400_dss_error_and_the_node_keeps_serving(
        sim: Simulator, capfd: pytest.CaptureFixture[str], request_bytes: bytes, message: str) -> None:
    reply = _raw(sim, request_bytes, shut_write=True)
    status, error = _status_and_error(reply)
    assert status == 400
    assert error["errorType"] == "com.dataiku.dip.exceptions.BadRequestException"
    assert message in error["message"]
    assert b"Connection: close" in reply
    assert "Traceback" not in capfd.readouterr().err
    assert sim.client().get_instance_info().raw["nodeType"] == "DESIGN"


def test_json_nested_too_deeply_is_a_400(sim: Simulator, capfd: pytest.CaptureFixture[str]) -> None:
    body = b"[" * 200_000 + b"]" * 200_000
    r = requests.post(f"{sim.base_url}/dip/publicapi/projects/", data=body, headers=_auth(sim), timeout=10)
    assert r.status_code == 400
    assert r.json()["message"] == "Malformed JSON body: nested too deeply"
    assert "Traceback" not in capfd.readouterr().err


def test_a_body_that_stops_arriving_is_let_go() -> None:
    with Simulator(options=SimOptions(idle_timeout_s=0.3), govern=False) as sim:
        reply = _raw(sim, POST + b"Content-Length: 100\r\n\r\nonly ten b")  # and then silence
        status, error = _status_and_error(reply)
        assert status == 408
        assert error["errorType"] == "com.dataiku.dip.exceptions.RequestTimeoutException"
        assert sim.client().list_project_keys() == []


def test_an_idle_connection_is_closed_rather_than_held_forever() -> None:
    with Simulator(options=SimOptions(idle_timeout_s=0.3), govern=False) as sim:
        assert _raw(sim, b"") == b""  # the server closes the silent connection


@pytest.mark.parametrize("request_bytes, status", [
    (b"BREW /dip/publicapi/projects/ HTTP/1.1\r\nHost: x\r\n\r\n", 501),
    (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n", 414),
    (b"GET / HTTP/1.1\r\n" + b"X-H: v\r\n" * 150 + b"\r\n", 431),
], ids=["unknown-method", "endless-request-line", "too-many-headers"])
def test_http_level_refusals_are_dss_json_errors(sim: Simulator, request_bytes: bytes, status: int) -> None:
    got, error = _status_and_error(_raw(sim, request_bytes))
    assert got == status
    assert set(error) == {"errorType", "message", "detailedMessage", "code"}
    assert sim.client().get_instance_info().raw["nodeType"] == "DESIGN"


def test_nothing_a_request_sends_reaches_the_file_system_outside_the_data_dir(persisted: Simulator,
                                                                              tmp_path: Path) -> None:
    client = persisted.client()
    for key in ("..", "../outside", "a/b", "%2e%2e"):
        r = requests.post(f"{persisted.base_url}/dip/publicapi/projects/", json={"projectKey": key, "name": "x"},
                          headers=_auth(persisted), timeout=5)
        assert r.status_code == 400
    assert not (tmp_path / "outside.json").exists() and not (tmp_path.parent / "outside.json").exists()
    assert client.list_project_keys() == []
    assert isinstance(DSSClient(persisted.base_url, persisted.api_key).get_auth_info(), dict)
