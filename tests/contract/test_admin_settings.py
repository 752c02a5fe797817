"""The settings objects of instance administration, through dataikuapi's accessors: what each sets is saved
by DSS and read back by a fresh handle (connection usage and readability, code env container and conda
settings on design and automation nodes, user properties and per-user credentials, users' definitions)."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from dataikuapi import DSSClient
from dataikuapi.utils import DataikuException

from tests.conftest import AGAINST_REAL_DSS

sim_only = pytest.mark.skipif(AGAINST_REAL_DSS, reason="needs the simulator's automation node")


def uid(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def fs_conn(dss: DSSClient) -> Iterator[str]:
    name = uid("fs")
    dss.create_connection(name, "Filesystem", {"root": "/tmp/settings"})
    yield name
    with contextlib.suppress(DataikuException):
        dss.get_connection(name).delete()


@pytest.fixture
def login(dss: DSSClient) -> Iterator[str]:
    name = uid("user")
    dss.create_user(name, "pw-1", "Settings")
    yield name
    with contextlib.suppress(DataikuException):
        dss.get_user(name).delete()


def test_connection_knowledge_banks_and_readability(dss: DSSClient, fs_conn: str) -> None:
    settings = dss.get_connection(fs_conn).get_settings()
    assert settings.allow_knowledge_banks is True
    settings.allow_knowledge_banks = False
    settings.details_readability.set_readability(False, "data_team", "readers")
    settings.save()
    again = dss.get_connection(fs_conn).get_settings()
    assert again.allow_knowledge_banks is False
    assert again.details_readability.allowed_groups == ["data_team", "readers"]
    assert again.details_readability.readable_by == "ALLOWED"


@pytest.fixture(params=["design", pytest.param("automation", marks=sim_only)])
def code_env(request: pytest.FixtureRequest, dss: DSSClient) -> Iterator[Any]:
    """A code env of each kind of node, its settings of that node's class."""
    client = dss if request.param == "design" else request.getfixturevalue("sim").client("automation")
    name = uid("py")
    client.create_code_env("PYTHON", name, "DESIGN_MANAGED" if request.param == "design" else "AUTOMATION_SINGLE")
    yield client.get_code_env("PYTHON", name)
    client.get_code_env("PYTHON", name).delete()


def test_code_env_container_settings_round_trip(code_env: Any) -> None:
    settings = code_env.get_settings()
    assert settings.get_built_for_all_container_confs() is False and settings.get_built_container_confs() == []
    assert settings.built_for_all_spark_kubernetes_confs() is False
    assert settings.get_built_spark_kubernetes_confs() == []
    assert settings.get_cache_busting_location() == "AFTER_START_DOCKERFILE"
    assert settings.get_dockerfile_fragment("dockerfileAtEnd") == ""
    assert settings.get_container_runtime_additions() == []
    settings.set_built_container_confs("k8s_small", "k8s_gpu")
    settings.set_built_spark_kubernetes_confs(all=True)
    settings.set_cache_busting_location("BEFORE_PACKAGES_INSTALL")
    settings.set_dockerfile_fragment("RUN echo built", "dockerfileAtEnd")
    settings.add_container_runtime_addition("CUDA_SUPPORT_FOR_TORCH2_WITH_PYPI_NVIDIA_PACKAGES")
    settings.save()
    again = code_env.get_settings()
    assert type(again) is type(settings)
    assert again.get_built_container_confs() == ["k8s_small", "k8s_gpu"]
    assert again.get_built_for_all_container_confs() is False
    assert again.built_for_all_spark_kubernetes_confs() is True
    assert again.get_cache_busting_location() == "BEFORE_PACKAGES_INSTALL"
    assert again.get_dockerfile_fragment("dockerfileAtEnd") == "RUN echo built"
    assert again.get_container_runtime_additions() == [{"type": "CUDA_SUPPORT_FOR_TORCH2_WITH_PYPI_NVIDIA_PACKAGES"}]


def test_code_env_conda_spec_round_trip(dss: DSSClient) -> None:
    name = uid("py")
    dss.create_code_env("PYTHON", name, "DESIGN_MANAGED")
    try:
        settings = dss.get_code_env("PYTHON", name).get_settings()
        assert settings.get_required_conda_spec() == ""
        settings.set_required_conda_spec("numpy=1.26", "pandas")
        settings.save()
        again = dss.get_code_env("PYTHON", name).get_settings()
        assert again.get_required_conda_spec(as_list=True) == ["numpy=1.26", "pandas"]
    finally:
        dss.get_code_env("PYTHON", name).delete()


def test_user_properties_and_credentials_round_trip(dss: DSSClient, login: str) -> None:
    settings = dss.get_user(login).get_settings()
    assert settings.creation_date is not None
    assert settings.user_properties == {} and settings.admin_properties == {}
    settings.user_properties["team"] = "risk"
    settings.admin_properties["cost_center"] = "42"
    settings.set_basic_connection_credential("pg_prod", "jane", "conn-secret")
    settings.set_basic_plugin_credential("snow", "creds", "preset", "login", "jane", "plugin-secret")
    settings.set_oauth2_plugin_credential("gdrive", "oauth", "preset", "token", "refresh-secret")
    settings.save()
    again = dss.get_user(login).get_settings()
    assert again.user_properties == {"team": "risk"} and again.admin_properties == {"cost_center": "42"}
    credentials = again.get_raw()["credentials"]
    plugin = json.dumps(["PLUGIN", "snow", "creds", "preset", "login"])[1:-1]
    oauth = json.dumps(["PLUGIN", "gdrive", "oauth", "preset", "token"])[1:-1]
    assert set(credentials) == {"pg_prod", plugin, oauth}
    assert credentials["pg_prod"]["user"] == "jane" and credentials["pg_prod"]["password"] != "conn-secret"
    assert "refresh-secret" not in json.dumps(credentials)  # never handed back in clear
    again.remove_connection_credential("pg_prod")
    again.remove_plugin_credential("snow", "creds", "preset", "login")
    again.save()
    assert set(dss.get_user(login).get_settings().get_raw()["credentials"]) == {oauth}


def test_user_definition_round_trip(dss: DSSClient, login: str) -> None:
    user = dss.get_user(login)
    definition = user.get_definition()  # deprecated for get_settings, still served
    assert definition["login"] == login and definition["displayName"] == "Settings"
    definition["displayName"] = "Renamed"
    user.set_definition(definition)
    assert dss.get_user(login).get_settings().get_raw()["displayName"] == "Renamed"
