"""The simulator as an HTTP server: transport, auth, bad input, knobs, accounting."""

from __future__ import annotations

import base64
import json
import socket

import pytest
import requests
from dataikuapi import DSSClient
from dataikuapi.utils import DataikuException

from dataiku_iac.sim import SimOptions, Simulator
from tests.conftest import NON_ADMIN_KEY


def _auth(sim: Simulator) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{sim.api_key}:".encode()).decode()}


def test_each_node_reports_its_type(sim: Simulator) -> None:
    assert sim.client().get_instance_info().raw["nodeType"] == "DESIGN"
    assert sim.client(node="automation").get_instance_info().raw["nodeType"] == "AUTOMATION"
    assert sim.govern_client().get_instance_info().raw["nodeType"] == "GOVERN"


def test_more_automation_nodes_can_be_declared() -> None:
    with Simulator(automation_nodes=["staging", "prod"], govern=False) as sim:
        assert sim.node_urls() == {"design": sim.base_url, "staging": sim.base_url + "/staging",
                                   "prod": sim.base_url + "/prod"}
        assert sim.client(node="prod").get_instance_info().raw["nodeType"] == "AUTOMATION"


def test_design_node_points_at_govern(sim: Simulator) -> None:
    ref = sim.client()._perform_json("GET", "/admin/get-govern-node-ref")
    assert ref["enabled"] is True
    assert ref["nodeUrl"] == sim.url("govern")
    gov = sim.client().get_govern_client()
    assert gov.get_instance_info().raw["nodeType"] == "GOVERN"


def test_public_api_alias_serves_the_same_api(sim: Simulator) -> None:
    a = requests.get(sim.base_url + "/public/api/instance-info", headers=_auth(sim), timeout=5)
    b = requests.get(sim.base_url + "/dip/publicapi/instance-info", headers=_auth(sim), timeout=5)
    assert a.status_code == b.status_code == 200
    assert a.json()["nodeType"] == b.json()["nodeType"] == "DESIGN"


@pytest.mark.parametrize("key", [None, "wrong-key"])
def test_missing_or_wrong_key_is_401_with_a_dss_error(sim: Simulator, key: str | None) -> None:
    headers = {} if key is None else {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}
    r = requests.get(sim.base_url + "/dip/publicapi/projects/", headers=headers, timeout=5)
    assert r.status_code == 401
    assert r.json()["errorType"].endswith("UnauthorizedException")
    with pytest.raises(DataikuException, match="UnauthorizedException"):
        DSSClient(sim.base_url, "wrong-key").list_project_keys()


def test_bearer_token_authenticates(sim: Simulator) -> None:
    client = DSSClient(sim.base_url, jwt_bearer_token=sim.api_key)
    assert client.get_auth_info()["authIdentifier"] == "admin"


def test_non_admin_key_gets_a_permission_error_on_admin_endpoints(sim: Simulator) -> None:
    alice = sim.client(api_key=NON_ADMIN_KEY)
    assert alice.get_auth_info()["authIdentifier"] == "alice"
    with pytest.raises(DataikuException, match="not an administrator"):
        alice._perform_json("GET", "/admin/get-govern-node-ref")


def test_unknown_path_and_wrong_method_are_json_errors(sim: Simulator) -> None:
    r = requests.get(sim.base_url + "/dip/publicapi/no/such/endpoint", headers=_auth(sim), timeout=5)
    assert r.status_code == 404 and "errorType" in r.json()
    r = requests.patch(sim.base_url + "/dip/publicapi/instance-info", headers=_auth(sim), timeout=5)
    assert r.status_code == 405 and "GET" in r.json()["message"]
    r = requests.get(sim.base_url + "/not-dss", timeout=5)
    assert r.status_code == 404 and "errorType" in r.json()


def test_malformed_json_is_a_400_and_changes_nothing(sim: Simulator, project) -> None:
    url = f"{sim.base_url}/dip/publicapi/projects/{project.project_key}/variables/"
    r = requests.put(url, data=b'{"standard": {', headers=_auth(sim), timeout=5)
    assert r.status_code == 400
    assert r.json()["message"].startswith("Malformed JSON")
    assert project.get_variables() == {"standard": {}, "local": {}}


def test_a_json_body_on_a_get_is_accepted(sim: Simulator) -> None:
    r = requests.get(sim.base_url + "/dip/publicapi/instance-info", data=b'{"extension":"py"}',
                     headers=_auth(sim), timeout=5)
    assert r.status_code == 200


def test_oversized_body_is_refused_and_the_server_keeps_serving() -> None:
    with Simulator(options=SimOptions(max_body_bytes=1024), govern=False) as sim:
        r = requests.post(sim.base_url + "/dip/publicapi/projects/", data=b"x" * 4096, headers=_auth(sim), timeout=5)
        assert r.status_code == 413
        assert "errorType" in r.json()
        assert sim.client().list_project_keys() == []


def test_garbage_on_the_socket_does_not_stop_the_server(sim: Simulator) -> None:
    host, port = sim.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(b"\x00\x01NOT HTTP\r\n\r\n")
        s.recv(1024)
    assert sim.client().get_instance_info().raw["nodeType"] == "DESIGN"


def test_wrong_json_shape_is_a_400(sim: Simulator, project) -> None:
    url = f"{sim.base_url}/dip/publicapi/projects/{project.project_key}/variables/"
    r = requests.put(url, data=json.dumps([1, 2]), headers=_auth(sim), timeout=5)
    assert r.status_code == 400
    assert project.get_variables() == {"standard": {}, "local": {}}


def test_handler_crash_answers_a_dss_500_and_keeps_serving(sim: Simulator, project, monkeypatch) -> None:
    from dataiku_iac.sim.handlers import projects

    def broken(record: dict) -> dict:
        raise KeyError("simulated bug")

    monkeypatch.setattr(projects, "summary", broken)
    r = requests.get(f"{sim.base_url}/dip/publicapi/projects/{project.project_key}", headers=_auth(sim), timeout=5)
    assert r.status_code == 500
    assert "Traceback" not in r.text and r.json()["errorType"] == "java.lang.RuntimeException"
    monkeypatch.undo()
    assert project.get_summary()["projectKey"] == project.project_key


def test_strict_mode_answers_not_found_with_404() -> None:
    with Simulator(options=SimOptions(realistic_errors=False), govern=False) as sim:
        r = requests.get(sim.base_url + "/dip/publicapi/projects/NOPE", headers=_auth(sim), timeout=5)
        assert r.status_code == 404
    with Simulator(govern=False) as sim:
        r = requests.get(sim.base_url + "/dip/publicapi/projects/NOPE", headers=_auth(sim), timeout=5)
        assert r.status_code == 500  # what real DSS does for many missing objects
        assert "NOPE" in r.json()["message"]
