"""Projects, through dataikuapi only."""

from __future__ import annotations

import pytest
from dataikuapi import DSSClient
from dataikuapi.utils import DataikuException

from tests.conftest import AGAINST_REAL_DSS, NON_ADMIN_KEY


def test_create_list_and_summary(dss: DSSClient, project_key: str) -> None:
    p = dss.create_project(project_key, "Churn prediction", "admin", description="why", tags=["ml", "demo"])
    try:
        assert project_key in dss.list_project_keys()
        summary = p.get_summary()
        assert summary["projectKey"] == project_key
        assert summary["name"] == "Churn prediction"
        listed = next(x for x in dss.list_projects() if x["projectKey"] == project_key)
        assert listed["tags"] == ["demo", "ml"]  # tags come back sorted
        assert "versionTag" in listed
    finally:
        p.delete()
    assert project_key not in dss.list_project_keys()


def test_duplicate_key_is_refused(dss: DSSClient, project) -> None:
    with pytest.raises(DataikuException, match="already exists"):
        dss.create_project(project.project_key, "again", "admin")


@pytest.mark.parametrize("bad_key", ["has space", "dot.ted", "dash-ed", ""])
def test_invalid_key_is_refused(dss: DSSClient, bad_key: str) -> None:
    with pytest.raises(DataikuException):
        dss.create_project(bad_key, "bad", "admin")
    assert bad_key not in dss.list_project_keys()


def test_an_overlong_key_is_refused_and_the_node_keeps_serving(dss: DSSClient, project) -> None:
    with pytest.raises(DataikuException):
        dss.create_project("K" * 300, "too long", "admin")
    keys = dss.list_project_keys()  # the refused request broke nothing
    assert "K" * 300 not in keys and project.project_key in keys
    assert project.get_summary()["projectKey"] == project.project_key


def test_unknown_project_is_an_error(dss: DSSClient) -> None:
    with pytest.raises(DataikuException, match="NO_SUCH_PROJECT"):
        dss.get_project("NO_SUCH_PROJECT").get_summary()


def test_settings_are_whole_documents_and_keep_unknown_fields(project) -> None:
    settings = project.get_settings()
    settings.set_python_code_env("py311_ml")
    settings.add_exposed_object("DATASET", "customers", "OTHER")
    settings.get_raw()["settings"]["flowBuildSettings"]["iacSentinel"] = "kept"
    settings.save()
    raw = project.get_settings().get_raw()
    assert raw["settings"]["codeEnvs"]["python"] == {
        "mode": "EXPLICIT_ENV", "useBuiltinEnv": False, "envName": "py311_ml"}
    assert raw["exposedObjects"]["objects"] == [
        {"type": "DATASET", "localName": "customers", "rules": [{"targetProject": "OTHER"}]}]
    assert raw["settings"]["flowBuildSettings"]["iacSentinel"] == "kept"


def test_settings_defaults_are_filled_in(project) -> None:
    raw = project.get_settings().get_raw()
    raw.pop("bundleExporterSettings", None)
    project.client._perform_empty("PUT", f"/projects/{project.project_key}/settings", body=raw)
    assert "exportOptions" in project.get_settings().get_raw()["bundleExporterSettings"]


def test_metadata_round_trip_sorts_tags(project) -> None:
    meta = project.get_metadata()
    meta["label"] = "Renamed"
    meta["tags"] = ["zeta", "alpha", "zeta"]
    meta["custom"]["kv"]["team"] = "risk"
    project.set_metadata(meta)
    again = project.get_metadata()
    assert again["tags"] == ["alpha", "zeta"]
    assert again["custom"]["kv"] == {"team": "risk"}
    assert project.get_summary()["name"] == "Renamed"


def test_tag_definitions(project) -> None:
    project.set_tags({"tags": {"ml": {"color": "#ff0000"}}})
    assert project.get_tags()["tags"] == {"ml": {"color": "#ff0000"}}


def test_variables(project) -> None:
    assert project.get_variables() == {"standard": {}, "local": {}}
    project.set_variables({"standard": {"threshold": "0.5"}, "local": {"env": "dev"}})
    project.update_variables({"extra": 1})
    assert project.get_variables() == {"standard": {"threshold": "0.5", "extra": 1}, "local": {"env": "dev"}}


def test_permissions_are_authoritative(project) -> None:
    perms = project.get_permissions()
    perms["permissions"] = [{"group": "data_team", "readProjectContent": True, "writeProjectContent": True}]
    project.set_permissions(perms)
    got = project.get_permissions()["permissions"]
    assert len(got) == 1
    assert got[0]["group"] == "data_team"
    assert got[0]["readProjectContent"] and got[0]["writeProjectContent"]
    assert got[0]["admin"] is False  # flags not sent are explicit falses
    perms["permissions"] = []
    project.set_permissions(perms)
    assert project.get_permissions()["permissions"] == []


def test_version_tag_bumps_on_each_save(project) -> None:
    before = project.get_summary()["versionTag"]["versionNumber"]
    project.set_variables({"standard": {"a": 1}, "local": {}})
    project.set_variables({"standard": {"a": 2}, "local": {}})
    assert project.get_summary()["versionTag"]["versionNumber"] == before + 2


@pytest.mark.skipif(AGAINST_REAL_DSS, reason="the non-admin key exists only on the simulator")
def test_non_admin_cannot_delete_a_project(sim, project) -> None:
    alice = sim.client(api_key=NON_ADMIN_KEY)
    with pytest.raises(DataikuException, match="not an administrator"):
        alice.get_project(project.project_key).delete()
    assert project.project_key in sim.client().list_project_keys()


@pytest.mark.skipif(AGAINST_REAL_DSS, reason="the non-admin key exists only on the simulator")
def test_write_access_to_the_content_is_not_enough_to_delete_a_project(sim, project) -> None:
    """Project permissions: Admin lets a group do anything on the project, deleting it included; writing its
    content does not. (alice is in the data_team group.)"""
    alice = sim.client(api_key=NON_ADMIN_KEY).get_project(project.project_key)
    perms = project.get_permissions()
    perms["permissions"] = [{"group": "data_team", "readProjectContent": True, "writeProjectContent": True}]
    project.set_permissions(perms)
    alice.create_dataset("by_alice", "Filesystem", params={"connection": "filesystem_managed", "path": "/a"})
    with pytest.raises(DataikuException, match="UnauthorizedException"):
        alice.delete()
    assert project.project_key in sim.client().list_project_keys()
    perms["permissions"][0]["admin"] = True
    project.set_permissions(perms)
    alice.delete()
    assert project.project_key not in sim.client().list_project_keys()


@pytest.mark.skipif(AGAINST_REAL_DSS, reason="the non-admin key exists only on the simulator")
def test_the_owner_of_a_project_may_delete_it(sim, project_key: str) -> None:
    alice = sim.client(api_key=NON_ADMIN_KEY)
    alice.create_project(project_key, "Alice's", "alice").delete()
    assert project_key not in sim.client().list_project_keys()
