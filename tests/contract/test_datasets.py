"""Datasets, through dataikuapi only."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import pytest
from dataikuapi import DSSClient
from dataikuapi.dss.dataset import FSLikeDatasetSettings, SQLDatasetSettings
from dataikuapi.utils import DataikuException

from tests.conftest import AGAINST_REAL_DSS

MANAGED_CONN = "filesystem_managed"


@pytest.fixture
def sql_connection(dss: DSSClient) -> Iterator[str]:
    """A PostgreSQL connection of the test's own (nothing connects to it)."""
    name = "pg_" + uuid.uuid4().hex[:8]
    conn = dss.create_connection(name, "PostgreSQL", params={"host": "db.example.com", "port": 5432, "db": "dwh",
                                                            "user": "etl", "defaultSchema": "analytics"})
    yield name
    with contextlib.suppress(DataikuException):
        conn.delete()


def _fs_dataset(project, name: str = "customers"):
    return project.create_fslike_dataset(name, "Filesystem", MANAGED_CONN, "/data/customers")


# -- creation ---------------------------------------------------------------------------------------------

def test_fslike_dataset_is_created_listed_and_typed(project) -> None:
    ds = _fs_dataset(project)
    assert ds.exists()
    settings = ds.get_settings()
    assert isinstance(settings, FSLikeDatasetSettings)
    raw = settings.get_raw()
    assert raw["projectKey"] == project.project_key
    assert raw["name"] == "customers"
    assert raw["type"] == "Filesystem"
    assert raw["managed"] is False
    assert raw["params"]["connection"] == MANAGED_CONN
    assert raw["params"]["path"] == "/data/customers"
    assert raw["schema"] == {"columns": [], "userModified": False}
    assert raw["partitioning"]["dimensions"] == []
    assert raw["versionTag"]["versionNumber"] == 0
    items = project.list_datasets()
    assert [i.name for i in items] == ["customers"]
    assert items[0].type == "Filesystem"
    assert items[0].connection == MANAGED_CONN
    assert [d.name for d in project.list_datasets(as_type="objects")] == ["customers"]


def test_sql_table_dataset(project, sql_connection: str) -> None:
    ds = project.create_sql_table_dataset("orders", "PostgreSQL", sql_connection, "orders", "sales")
    settings = ds.get_settings()
    assert isinstance(settings, SQLDatasetSettings)
    params = settings.get_raw_params()
    assert params["connection"] == sql_connection
    assert params["mode"] == "table"
    assert (params["table"], params["schema"]) == ("orders", "sales")
    assert "formatType" not in settings.get_raw()


def test_s3_and_upload_and_generic_create(project) -> None:
    project.create_s3_dataset("raw_s3", MANAGED_CONN, "/in", bucket="landing")
    assert project.get_dataset("raw_s3").get_settings().get_raw_params()["bucket"] == "landing"
    project.create_upload_dataset("uploaded")
    assert project.get_dataset("uploaded").get_settings().type == "UploadedFiles"
    project.create_dataset("csvs", "Filesystem", params={"connection": MANAGED_CONN, "path": "/x"},
                           formatType="csv", formatParams={"separator": ";"})
    raw = project.get_dataset("csvs").get_settings().get_raw()
    assert (raw["formatType"], raw["formatParams"]) == ("csv", {"separator": ";"})


def test_filesystem_dataset_shortcut(project) -> None:
    ds = project.create_filesystem_dataset("landing", "filesystem_managed", "/landing/in")
    raw = ds.get_settings().get_raw()
    assert raw["type"] == "Filesystem" and raw["params"]["path"] == "/landing/in"
    assert raw["params"]["connection"] == "filesystem_managed"


@pytest.mark.skipif(AGAINST_REAL_DSS, reason="a sample dataset needs its plugin installed on the DSS")
def test_sample_dataset_from_a_plugin(project) -> None:
    ds = project.create_sample_dataset("titanic", "sample-datasets", "titanic", version="1.0")
    raw = ds.get_settings().get_raw()
    assert raw["type"] == "Sample_sample-datasets_titanic"
    assert raw["params"] == {"pluginId": "sample-datasets", "sampleName": "titanic", "version": "1.0"}


def test_managed_dataset_defaults(project) -> None:
    ds = project.new_managed_dataset("scored").with_store_into(MANAGED_CONN).create()
    raw = ds.get_settings().get_raw()
    assert raw["managed"] is True
    assert raw["type"] == "Filesystem"
    assert raw["params"]["connection"] == MANAGED_CONN
    assert raw["params"]["path"] == "${projectKey}/scored"  # variables stay unexpanded
    assert raw["formatType"] == "csv"


def test_managed_dataset_format_option(project) -> None:
    ds = project.new_managed_dataset("facts").with_store_into(MANAGED_CONN, format_option_id="PARQUET_HIVE").create()
    assert ds.get_settings().get_raw()["formatType"] == "parquet"


def test_managed_dataset_on_sql_connection(project, sql_connection: str) -> None:
    ds = project.new_managed_dataset("agg").with_store_into(sql_connection).create()
    raw = ds.get_settings().get_raw()
    assert raw["type"] == "PostgreSQL"
    assert raw["managed"] is True
    assert raw["params"]["connection"] == sql_connection
    assert raw["params"]["mode"] == "table"
    assert raw["params"]["table"] == "${projectKey}_agg"


def test_managed_dataset_copies_partitioning(project) -> None:
    src = _fs_dataset(project, "events")
    settings = src.get_settings()
    settings.add_discrete_partitioning_dimension("country")
    settings.save()
    helper = project.new_managed_dataset("events_copy").with_store_into(MANAGED_CONN)
    ds = helper.with_copy_partitioning_from("events").create()
    assert ds.get_settings().get_raw()["partitioning"]["dimensions"] == [{"name": "country", "type": "value"}]


def test_managed_dataset_overwrite_recreates(project) -> None:
    _fs_dataset(project, "target")
    project.new_managed_dataset("target").with_store_into(MANAGED_CONN).create(overwrite=True)
    assert project.get_dataset("target").get_settings().get_raw()["managed"] is True


@pytest.mark.parametrize("creation", [
    {"connectionId": "no_such_connection"},
    {"connectionId": MANAGED_CONN, "specificSettings": {"formatOptionId": "NO_SUCH_FORMAT"}},
    {"connectionId": MANAGED_CONN, "partitioningOptionId": "copy:dataset:missing"},
    {"connectionId": MANAGED_CONN, "partitioningOptionId": "by-magic"},
    {},
])
def test_managed_dataset_bad_creation_settings_are_refused(dss: DSSClient, project, creation: dict) -> None:
    with pytest.raises(DataikuException):
        dss._perform_json("POST", f"/projects/{project.project_key}/datasets/managed",
                          body={"name": "refused", "creationSettings": creation})
    assert not project.get_dataset("refused").exists()


def test_unknown_connection_is_refused(project) -> None:
    with pytest.raises(DataikuException, match="no_such_connection"):
        project.create_fslike_dataset("orphan", "Filesystem", "no_such_connection", "/x")
    assert not project.get_dataset("orphan").exists()


def test_files_in_missing_folder_is_refused(project) -> None:
    with pytest.raises(DataikuException):
        project.create_dataset("from_files", "FilesInFolder", params={"folderSmartId": "NOPE1234"})
    assert not project.get_dataset("from_files").exists()


def test_duplicate_name_is_refused(project) -> None:
    _fs_dataset(project, "dup")
    with pytest.raises(DataikuException, match="already exists"):
        _fs_dataset(project, "dup")
    with pytest.raises(DataikuException, match="already exists"):
        project.new_managed_dataset("dup").with_store_into(MANAGED_CONN).create()
    assert project.get_dataset("dup").get_settings().get_raw()["managed"] is False


@pytest.mark.parametrize("bad_name", ["has space", "dot.ted", "dash-ed", ""])
def test_invalid_name_is_refused(project, bad_name: str) -> None:
    with pytest.raises(DataikuException):
        _fs_dataset(project, bad_name)
    with pytest.raises(DataikuException):
        project.new_managed_dataset(bad_name).with_store_into(MANAGED_CONN).create()
    assert project.list_datasets() == []


def test_missing_type_is_refused(dss: DSSClient, project) -> None:
    with pytest.raises(DataikuException):
        dss._perform_json("POST", f"/projects/{project.project_key}/datasets/", body={"name": "untyped"})
    assert not project.get_dataset("untyped").exists()


# -- settings ---------------------------------------------------------------------------------------------

def test_settings_are_whole_documents_and_keep_unknown_fields(project) -> None:
    ds = _fs_dataset(project)
    settings = ds.get_settings()
    settings.tags = ["pii", "gold", "pii"]
    settings.description = "All customers"
    settings.short_description = "customers"
    settings.set_csv_format(separator=";")
    settings.add_time_partitioning_dimension("day")
    settings.set_partitioning_file_pattern("/%Y/%M/%D/.*")
    settings.add_raw_schema_column({"name": "id", "type": "bigint"})
    settings.get_raw()["iacSentinel"] = {"kept": True}
    settings.save()
    raw = ds.get_settings().get_raw()
    assert raw["tags"] == ["gold", "pii"]  # a set, returned sorted
    assert raw["description"] == "All customers"
    assert raw["shortDesc"] == "customers"
    assert raw["formatType"] == "csv"
    assert raw["formatParams"]["separator"] == ";"
    assert raw["partitioning"]["dimensions"] == [{"name": "day", "type": "time", "params": {"period": "DAY"}}]
    assert raw["partitioning"]["filePathPattern"] == "/%Y/%M/%D/.*"
    assert raw["schema"]["columns"] == [{"name": "id", "type": "bigint"}]
    assert raw["iacSentinel"] == {"kept": True}
    assert raw["versionTag"]["versionNumber"] == 1
    assert raw["creationTag"] == settings.get_raw()["creationTag"]


def test_save_fills_defaults_back_and_keeps_identity(project) -> None:
    ds = _fs_dataset(project)
    settings = ds.get_settings()
    raw = settings.get_raw()
    for key in ("partitioning", "flowOptions", "tags", "schema"):
        raw.pop(key)
    raw["name"] = "hijacked"
    raw["projectKey"] = "ELSEWHERE"
    settings.save()
    back = ds.get_settings().get_raw()
    assert back["name"] == "customers"
    assert back["projectKey"] == project.project_key
    assert back["partitioning"]["dimensions"] == []
    assert back["tags"] == []
    assert back["schema"]["columns"] == []
    assert "rebuildBehavior" in back["flowOptions"]
    assert not project.get_dataset("hijacked").exists()


def test_connection_and_table_setters(project, sql_connection: str) -> None:
    fs = _fs_dataset(project)
    settings = fs.get_settings()
    settings.set_connection_and_path("filesystem_folders", "/moved")
    settings.save()
    assert fs.get_settings().get_raw_params()["path"] == "/moved"
    sql = project.create_sql_table_dataset("t", "PostgreSQL", sql_connection, "a", "s")
    sql_settings = sql.get_settings()
    sql_settings.set_table(sql_connection, "other_schema", "b")
    sql_settings.save()
    assert sql.get_settings().get_raw_params()["table"] == "b"


def test_definition_calls_still_work(project) -> None:
    ds = _fs_dataset(project)
    with pytest.warns(DeprecationWarning):
        definition = ds.get_definition()
    definition["description"] = "through set_definition"
    with pytest.warns(DeprecationWarning):
        reply = ds.set_definition(definition)
    assert isinstance(reply, dict)
    assert ds.get_settings().description == "through set_definition"


def test_invalid_settings_are_refused(project) -> None:
    ds = _fs_dataset(project)
    settings = ds.get_settings()
    settings.get_raw()["tags"] = "not-a-list"
    with pytest.raises(DataikuException):
        settings.save()
    settings = ds.get_settings()
    settings.get_raw()["schema"]["columns"] = [{"name": "x", "type": "varchar(12)"}]
    with pytest.raises(DataikuException, match="type"):
        settings.save()
    assert ds.get_settings().get_raw()["versionTag"]["versionNumber"] == 0


# -- schema and metadata ---------------------------------------------------------------------------------

def test_schema_round_trip(project) -> None:
    ds = _fs_dataset(project)
    schema = {"columns": [{"name": "id", "type": "bigint"}, {"name": "email", "type": "string", "comment": "pii"}]}
    ds.set_schema(schema)
    got = ds.get_schema()
    assert got["columns"] == schema["columns"]
    assert got["userModified"] is False
    assert ds.get_settings().schema_columns == schema["columns"]
    assert project.list_datasets()[0].get_column("email")["comment"] == "pii"


@pytest.mark.parametrize("schema", [
    {"columns": [{"name": "id"}]},
    {"columns": [{"type": "string"}]},
    {"columns": [{"name": "id", "type": "number"}]},
    {"columns": "id"},
])
def test_invalid_schema_is_refused(project, schema: dict) -> None:
    ds = _fs_dataset(project)
    with pytest.raises(DataikuException):
        ds.set_schema(schema)
    assert ds.get_schema()["columns"] == []


def test_metadata_is_a_view_of_the_settings(project) -> None:
    ds = _fs_dataset(project)
    meta = ds.get_metadata()
    assert meta["label"] == "customers"
    assert meta["tags"] == []
    assert meta["custom"] == {"kv": {}}
    meta["tags"] = ["b", "a"]
    meta["description"] = "from metadata"
    meta["custom"]["kv"]["owner"] = "data-team"
    ds.set_metadata(meta)
    assert ds.get_metadata()["custom"]["kv"] == {"owner": "data-team"}
    settings = ds.get_settings()
    assert settings.tags == ["a", "b"]
    assert settings.description == "from metadata"
    assert settings.get_raw()["versionTag"]["versionNumber"] == 1


def test_invalid_metadata_is_refused(project) -> None:
    ds = _fs_dataset(project)
    with pytest.raises(DataikuException):
        ds.set_metadata({"tags": "x"})
    assert ds.get_metadata()["tags"] == []


# -- listing ------------------------------------------------------------------------------------------------

def test_list_filters_by_tags(project) -> None:
    for name, tags in (("a", ["gold"]), ("b", ["silver"]), ("c", [])):
        ds = _fs_dataset(project, name)
        settings = ds.get_settings()
        settings.tags = tags
        settings.save()
    assert [d.name for d in project.list_datasets(tags=["gold"])] == ["a"]
    assert sorted(d.name for d in project.list_datasets(tags=["gold", "silver"])) == ["a", "b"]
    assert [d.name for d in project.list_datasets(tags=["bronze"])] == []
    assert len(project.list_datasets(tags=[])) == 3


def test_list_includes_exposed_datasets_on_request(dss: DSSClient, project, project_key: str) -> None:
    other = dss.create_project(project_key + "_SRC", "Source", dss.get_auth_info()["authIdentifier"])
    try:
        _fs_dataset(other, "shared_ds")
        settings = other.get_settings()
        settings.add_exposed_object("DATASET", "shared_ds", project.project_key)
        settings.save()
        assert project.list_datasets() == []
        shared = project.list_datasets(include_shared=True)
        assert [(d["projectKey"], d.name) for d in shared] == [(other.project_key, "shared_ds")]
    finally:
        other.delete()


# -- delete, rename, not found ---------------------------------------------------------------------------------

def test_delete(project) -> None:
    ds = _fs_dataset(project)
    ds.delete()
    assert not ds.exists()
    assert project.list_datasets() == []
    _fs_dataset(project)  # the name is free again
    project.get_dataset("customers").delete(drop_data=True)
    assert not project.get_dataset("customers").exists()


def test_missing_dataset_is_not_found(project) -> None:
    ds = project.get_dataset("ghost")
    assert not ds.exists()
    for call in (ds.get_settings, ds.get_schema, ds.get_metadata, ds.delete):
        with pytest.raises(DataikuException, match="Dataset ghost was not found"):
            call()
    with pytest.raises(DataikuException, match="ghost"):
        ds.set_schema({"columns": []})
    with pytest.raises(DataikuException, match="ghost"):
        ds.rename("ghost2")


def test_unknown_project_is_an_error(dss: DSSClient) -> None:
    project = dss.get_project("NO_SUCH_PROJECT_DS")
    with pytest.raises(DataikuException, match="NO_SUCH_PROJECT_DS"):
        project.list_datasets()
    with pytest.raises(DataikuException, match="NO_SUCH_PROJECT_DS"):
        _fs_dataset(project)


def test_rename(project) -> None:
    ds = _fs_dataset(project)
    settings = ds.get_settings()
    settings.tags = ["kept"]
    settings.save()
    ds.rename("clients")
    assert ds.name == "clients"
    assert not project.get_dataset("customers").exists()
    raw = project.get_dataset("clients").get_settings().get_raw()
    assert raw["name"] == "clients"
    assert raw["tags"] == ["kept"]
    assert raw["versionTag"]["versionNumber"] == 2
    assert [d.name for d in project.list_datasets()] == ["clients"]


def test_rename_errors(dss: DSSClient, project) -> None:
    _fs_dataset(project, "one")
    _fs_dataset(project, "two")
    with pytest.raises(DataikuException, match="oldName"):
        dss._perform_empty("POST", f"/projects/{project.project_key}/actions/renameDataset", body={"newName": "x"})
    with pytest.raises(DataikuException, match="already exists"):
        project.get_dataset("one").rename("two")
    with pytest.raises(DataikuException):
        project.get_dataset("one").rename("not valid")
    assert sorted(d.name for d in project.list_datasets()) == ["one", "two"]


def test_rename_updates_exposed_objects(project) -> None:
    _fs_dataset(project, "pub")
    settings = project.get_settings()
    settings.add_exposed_object("DATASET", "pub", "CONSUMER")
    settings.save()
    project.get_dataset("pub").rename("pub2")
    objects = project.get_settings().get_raw()["exposedObjects"]["objects"]
    assert [o["localName"] for o in objects] == ["pub2"]


# -- datasets in the flow (recipes) --------------------------------------------------------------------------

def _sync(project, source: str, target: str):
    return project.new_recipe("sync", f"sync_{target}").with_input(source).with_output(target).create()


def test_rename_updates_recipe_references(project) -> None:
    _fs_dataset(project, "src")
    _fs_dataset(project, "mid")
    _fs_dataset(project, "out")
    _sync(project, "src", "mid")
    _sync(project, "mid", "out")
    project.get_dataset("mid").rename("middle")
    first = project.get_recipe("sync_mid").get_settings()
    second = project.get_recipe("sync_out").get_settings()
    assert first.get_flat_output_refs() == ["middle"]
    assert second.get_flat_input_refs() == ["middle"]
    assert first.get_recipe_raw_definition()["versionTag"]["versionNumber"] == 1


def test_delete_removes_the_recipes_using_the_dataset(project) -> None:
    for name in ("src", "mid", "out"):
        _fs_dataset(project, name)
    _sync(project, "src", "mid")
    _sync(project, "mid", "out")
    project.get_dataset("mid").delete()
    assert project.list_recipes() == []
    assert sorted(d.name for d in project.list_datasets()) == ["out", "src"]
