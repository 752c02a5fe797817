"""Sharing across projects and project-level defaults, through dataikuapi only: exposed objects, foreign
inputs, default code envs and container execution."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import pytest
from dataikuapi import DSSClient
from dataikuapi.dss.project import DSSProject
from dataikuapi.utils import DataikuException

from tests.conftest import AGAINST_REAL_DSS

CONN = "filesystem_managed"


def make_dataset(project: DSSProject, name: str) -> None:
    project.create_dataset(name, "Filesystem", params={"connection": CONN, "path": f"/iac_tests/{name}"},
                           formatType="csv", formatParams={"separator": ","})


@pytest.fixture
def source(dss: DSSClient) -> Iterator[DSSProject]:
    key = "S" + uuid.uuid4().hex[:10].upper()
    p = dss.create_project(key, f"Source {key}", dss.get_auth_info()["authIdentifier"])
    yield p
    with contextlib.suppress(Exception):
        p.delete()


def test_exposed_dataset_feeds_a_recipe_of_the_consumer(source: DSSProject, project: DSSProject) -> None:
    make_dataset(source, "customers")
    settings = source.get_settings()
    settings.add_exposed_object("DATASET", "customers", project.project_key)
    settings.add_exposed_object("DATASET", "customers", project.project_key)  # no second rule
    settings.save()
    rules = source.get_settings().get_raw()["exposedObjects"]["objects"][0]["rules"]
    assert [r["targetProject"] for r in rules] == [project.project_key]
    shared = project.list_datasets(include_shared=True)
    assert [(d["projectKey"], d.name) for d in shared] == [(source.project_key, "customers")]
    recipe = (project.new_recipe("sync").with_input("customers", project_key=source.project_key)
              .with_new_output("local_customers", CONN).create())
    assert recipe.get_settings().get_flat_input_refs() == [f"{source.project_key}.customers"]
    # the foreign dataset stays readable through its own project
    assert source.get_dataset("customers").get_settings().get_raw()["name"] == "customers"


def test_exposure_removed_hides_the_dataset(source: DSSProject, project: DSSProject) -> None:
    make_dataset(source, "orders")
    settings = source.get_settings()
    settings.add_exposed_object("DATASET", "orders", project.project_key)
    settings.save()
    settings = source.get_settings()
    settings.get_raw()["exposedObjects"]["objects"] = []
    settings.save()
    assert project.list_datasets(include_shared=True) == []


def test_folders_expose_by_id(source: DSSProject, project: DSSProject) -> None:
    folder = source.create_managed_folder("reports", connection_name="filesystem_folders")
    settings = source.get_settings()
    settings.add_exposed_object("MANAGED_FOLDER", folder.id, project.project_key)
    settings.save()
    objects = source.get_settings().get_raw()["exposedObjects"]["objects"]
    assert objects == [{"type": "MANAGED_FOLDER", "localName": folder.id,
                        "rules": [{"targetProject": project.project_key}]}]


@pytest.mark.skipif(AGAINST_REAL_DSS, reason="the simulator's checks of exposed objects are guesses")
@pytest.mark.parametrize("bad", [
    {"type": "TABLE", "localName": "x", "rules": []},
    {"type": "DATASET", "localName": "", "rules": []},
    {"type": "DATASET", "localName": "x", "rules": [{"project": "OTHER"}]},
])
def test_malformed_exposed_objects_are_refused(project: DSSProject, bad: dict) -> None:
    settings = project.get_settings()
    settings.get_raw()["exposedObjects"]["objects"].append(bad)
    with pytest.raises(DataikuException, match="xposed object"):
        settings.save()
    assert project.get_settings().get_raw()["exposedObjects"]["objects"] == []


def test_default_code_envs_and_container(project: DSSProject) -> None:
    settings = project.get_settings()
    settings.set_python_code_env("py311")
    settings.set_r_code_env("r_base")
    settings.set_container_exec_config("k8s-small")
    settings.save()
    raw = project.get_settings().get_raw()["settings"]
    assert raw["codeEnvs"]["python"]["envName"] == "py311" and raw["codeEnvs"]["r"]["mode"] == "EXPLICIT_ENV"
    assert raw["container"] == {"containerMode": "EXPLICIT_CONTAINER", "containerConf": "k8s-small"}
    settings = project.get_settings()
    settings.set_python_code_env(None)
    settings.set_container_exec_config(None)
    settings.save()
    raw = project.get_settings().get_raw()["settings"]
    assert raw["codeEnvs"]["python"]["mode"] == "USE_BUILTIN_MODE" and raw["codeEnvs"]["python"]["useBuiltinEnv"]
    assert raw["container"]["containerMode"] == "NONE"


@pytest.mark.skipif(AGAINST_REAL_DSS, reason="the simulator's checks of code env and container modes are guesses")
def test_unknown_code_env_or_container_mode_is_refused(project: DSSProject) -> None:
    settings = project.get_settings()
    settings.get_raw()["settings"]["codeEnvs"]["python"]["mode"] = "SOMETIMES"
    with pytest.raises(DataikuException, match="code env mode must be one of"):
        settings.save()
    settings = project.get_settings()
    settings.get_raw()["settings"]["container"] = {"containerMode": "EXPLICIT_CONTAINER"}
    with pytest.raises(DataikuException, match="needs a 'containerConf'"):
        settings.save()
    assert project.get_settings().get_raw()["settings"]["container"]["containerMode"] == "INHERIT"
