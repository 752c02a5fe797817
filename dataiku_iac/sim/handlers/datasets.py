"""Datasets: create (plain and managed), list, settings, schema, metadata, delete and rename.

A project record keeps `datasets[name]` = the whole settings document (DSS_API.md §2.2). Metadata is
a view over that same document (tags, descriptions, checklists, custom metadata), as in DSS where
both calls edit one object. Helpers at the top are shared with managed folders and recipe creation.
"""

from __future__ import annotations

import copy
from typing import Any

from ..context import Ctx
from ..engine import storage
from ..errors import SimError, bad_request
from ..routing import route
from ._common import already_exists, check_name, copy_doc, fill_defaults, sort_tags
from .projects import touch
from .zones import remove_from_flow, rename_object

# Types the client treats as files-based or SQL (dataset.py _FS_TYPES/_SQL_TYPES); HTTP is files-like.
FS_TYPES = frozenset({"Filesystem", "UploadedFiles", "FilesInFolder", "HDFS", "S3", "Azure", "GCS", "FTP", "SCP",
                      "SFTP", "HTTP"})
SQL_TYPES = frozenset({"JDBC", "PostgreSQL", "MySQL", "Vertica", "Snowflake", "Redshift", "Greenplum", "Teradata",
                       "Oracle", "SQLServer", "SAPHANA", "Netezza", "BigQuery", "Athena", "hiveserver2", "Synapse",
                       "FabricWarehouse", "Databricks", "DatabricksLakebase", "ClickHouse"})
# Connection types whose managed datasets are files; an SSH connection stores as SCP unless told otherwise.
MANAGED_FS_TYPES = {"Filesystem": "Filesystem", "HDFS": "HDFS", "S3": "S3", "GCS": "GCS", "Azure": "Azure",
                    "FTP": "FTP", "SSH": "SCP"}
COLUMN_TYPES = frozenset({"string", "int", "bigint", "smallint", "tinyint", "float", "double", "boolean", "date",
                          "dateonly", "datetimenotz", "array", "map", "object", "geopoint", "geometry"})

_CSV_BASE: dict[str, Any] = {
    "charset": "utf8", "separator": "\t", "quoteChar": "\"", "escapeChar": "\\", "arrayMapFormat": "json",
    "dateSerializationFormat": "ISO", "skipRowsBeforeHeader": 0, "parseHeaderRow": False, "skipRowsAfterHeader": 0,
    "normalizeBooleans": False, "normalizeDoubles": True, "probableNumberOfRecords": 0,
}
# The format presets of DSS_API.md §2.3 (recipe.py with_new_output): id -> (formatType, formatParams).
FORMAT_OPTIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "CSV_ESCAPING_NOGZIP_FORHIVE": ("csv", {**_CSV_BASE, "style": "escape_only_no_quote", "quoteChar": "",
                                            "compress": ""}),
    "CSV_UNIX_GZIP": ("csv", {**_CSV_BASE, "style": "unix", "compress": "gz"}),
    "CSV_EXCEL_GZIP": ("csv", {**_CSV_BASE, "style": "excel", "separator": ",", "escapeChar": "",
                               "parseHeaderRow": True, "compress": "gz"}),
    "CSV_EXCEL_GZIP_BIGQUERY": ("csv", {**_CSV_BASE, "style": "excel", "separator": ",", "escapeChar": "",
                                        "parseHeaderRow": True, "compress": "gz"}),
    "CSV_NOQUOTING_NOGZIP_FORPIG": ("csv", {**_CSV_BASE, "style": "unix", "quoteChar": "", "escapeChar": "",
                                            "compress": ""}),
    "PARQUET_HIVE": ("parquet", {"parquetLowerCaseIdentifiers": False, "parquetCompressionMethod": "SNAPPY",
                                 "parquetFlavor": "HIVE", "parquetBlockSizeMB": 128}),
    "AVRO": ("avro", {}),
    "ORC": ("orc", {}),
}
DEFAULT_FORMAT_OPTION = "CSV_ESCAPING_NOGZIP_FORHIVE"

# What every flow object (dataset or folder) carries once DSS has stored it.
FLOW_OBJECT_DEFAULTS: dict[str, Any] = {
    "tags": [],
    "description": "",
    "shortDesc": "",
    "checklists": {"checklists": []},
    "customMeta": {"kv": {}},
    "customFields": {},
    "partitioning": {"ignoreNonMatchingFile": False, "considerMissingRequestedPartitionsAsEmpty": False,
                     "dimensions": []},
    "flowOptions": {"virtualizable": False, "rebuildBehavior": "NORMAL", "crossProjectBuildBehavior": "DEFAULT"},
    "metrics": {"probes": [], "engineConfig": {}, "displayedState": {"columns": [], "metrics": []}},
    "metricsChecks": {"runOnBuild": False, "checks": [], "displayedState": {"checks": []}},
}
DATASET_DEFAULTS: dict[str, Any] = {
    **FLOW_OBJECT_DEFAULTS,
    "managed": False,
    "featureGroup": False,
    "params": {},
    "formatParams": {},
    "schema": {"columns": [], "userModified": False},
    "readWriteOptions": {"preserveOrder": False, "writeBuckets": 1, "forceSingleOutputFile": False,
                         "defaultReadOrdering": {"enabled": False, "rules": []}},
    "dkuProperties": [],
}


# -- helpers shared with folders and recipes ---------------------------------------------------------------

def connection(ctx: Ctx, name: Any) -> dict[str, Any]:
    """A connection of this node (instance collection), or a DSS-style not-found error."""
    if not isinstance(name, str) or not name:
        raise bad_request("A connection name is required")
    conn = ctx.store.coll("connections").get(name)
    if conn is None:
        raise ctx.not_found(f"Connection {name} does not exist")
    return conn


def normalise_flow_object(ctx: Ctx, doc: dict[str, Any], defaults: dict[str, Any],
                          old: dict[str, Any] | None) -> dict[str, Any]:
    """Checks and normalisation common to dataset and folder saves: whole document in, DSS form out."""
    for key, kind in (("params", dict), ("tags", list), ("partitioning", dict)):
        if doc.get(key) is not None and not isinstance(doc[key], kind):
            raise bad_request(f"'{key}' must be a JSON {'object' if kind is dict else 'list'}")
    dims = (doc.get("partitioning") or {}).get("dimensions")
    if dims is not None and not (isinstance(dims, list) and all(isinstance(d, dict) and d.get("name")
                                                                for d in dims)):
        raise bad_request("Each partitioning dimension needs a name")
    fill_defaults(doc, defaults)
    return ctx.bump_version(sort_tags(doc), old)


def dataset_not_found(ctx: Ctx, name: str) -> SimError:
    return ctx.not_found(f"Dataset {name} was not found")


def get_dataset(ctx: Ctx, record: dict[str, Any], name: str) -> dict[str, Any]:
    doc = record.setdefault("datasets", {}).get(name)
    if doc is None:
        raise dataset_not_found(ctx, name)
    return doc


def check_schema(schema: Any) -> dict[str, Any]:
    """A dataset schema: every column names itself and has a DSS storage type."""
    if not isinstance(schema, dict) or not isinstance(schema.get("columns", []), list):
        raise bad_request("A schema is an object with a 'columns' list")
    for col in schema.get("columns", []):
        if not isinstance(col, dict) or not isinstance(col.get("name"), str) or not col["name"]:
            raise bad_request("Each schema column needs a name")
        if col.get("type") not in COLUMN_TYPES:
            raise bad_request(f"Column '{col['name']}' has an invalid type: {col.get('type')}")
    return fill_defaults(schema, {"columns": [], "userModified": False})


def _check_name_free(record: dict[str, Any], name: str) -> None:
    if name in record.setdefault("datasets", {}):
        raise already_exists("Dataset", name)


def _check_references(ctx: Ctx, record: dict[str, Any], params: dict[str, Any]) -> None:
    """A new dataset must point at things that exist: its connection, upload connection, source folder."""
    for key in ("connection", "uploadConnection"):
        if params.get(key):
            connection(ctx, params[key])
    folder = params.get("folderSmartId")
    if isinstance(folder, str) and "." not in folder and folder not in record.get("managedFolders", {}):
        raise ctx.not_found(f"Managed folder {folder} does not exist in project {record['projectKey']}")


def _copied_partitioning(ctx: Ctx, record: dict[str, Any], option: Any) -> dict[str, Any] | None:
    """partitioningOptionId: none, or "copy:dataset:<name>" / "copy:folder:<id>" (dataset.py:1329)."""
    if option in (None, "", "NP"):
        return None
    parts = option.split(":", 2) if isinstance(option, str) else []
    if len(parts) != 3 or parts[0] != "copy" or parts[1] not in ("dataset", "folder"):
        raise bad_request(f"Invalid partitioningOptionId: {option}")
    if parts[1] == "dataset":
        source = get_dataset(ctx, record, parts[2])
    else:
        source = record.get("managedFolders", {}).get(parts[2])
        if source is None:
            raise ctx.not_found(f"Managed folder {parts[2]} does not exist in project {record['projectKey']}")
    return copy.deepcopy(source.get("partitioning"))


def _format(option: Any) -> tuple[str, dict[str, Any]]:
    option = option or DEFAULT_FORMAT_OPTION
    if option not in FORMAT_OPTIONS:
        raise bad_request(f"Unknown format option: {option} (expected one of {', '.join(FORMAT_OPTIONS)})")
    format_type, params = FORMAT_OPTIONS[option]
    return format_type, copy.deepcopy(params)


def build_managed_dataset(ctx: Ctx, record: dict[str, Any], name: Any, settings: Any) -> dict[str, Any]:
    """The settings document of a new managed dataset, validated but not stored yet.

    `settings` is the client's creationSettings {connectionId, typeOptionId?, specificSettings{formatOptionId?},
    partitioningOptionId?}. Recipe creation (createOutputDataset) uses this too.
    """
    name = check_name(name, "dataset")
    _check_name_free(record, name)
    if not isinstance(settings, dict):
        raise bad_request("creationSettings must be a JSON object")
    conn_name = settings.get("connectionId")
    conn = connection(ctx, conn_name)
    if not conn.get("allowManagedDatasets", True):
        raise bad_request(f"Connection {conn_name} does not allow managed datasets")
    conn_type = conn.get("type", "")
    specific = settings.get("specificSettings") or {}
    doc: dict[str, Any] = {"projectKey": record["projectKey"], "name": name, "managed": True}
    if conn_type in SQL_TYPES:
        doc["type"] = settings.get("typeOptionId") or conn_type
        conn_params = conn.get("params") or {}
        doc["params"] = {"connection": conn_name, "mode": "table", "table": "${projectKey}_" + name,
                         "schema": conn_params.get("defaultSchema", ""), "catalog": conn_params.get("defaultCatalog"),
                         "tableCreationMode": "auto", "notReadyIfEmpty": False}
    elif conn_type in MANAGED_FS_TYPES:
        doc["type"] = settings.get("typeOptionId") or MANAGED_FS_TYPES[conn_type]
        doc["params"] = {"connection": conn_name, "path": "${projectKey}/" + name, "notReadyIfEmpty": False,
                         "filesSelectionRules": {"mode": "ALL", "excludeRules": [], "includeRules": [],
                                                 "explicitFiles": []}}
        doc["formatType"], doc["formatParams"] = _format(specific.get("formatOptionId"))
    else:
        raise bad_request(f"Connection {conn_name} (type {conn_type}) cannot store managed datasets")
    partitioning = _copied_partitioning(ctx, record, settings.get("partitioningOptionId"))
    if partitioning is not None:
        doc["partitioning"] = partitioning
    return normalise_flow_object(ctx, doc, DATASET_DEFAULTS, None)


def insert_dataset(ctx: Ctx, record: dict[str, Any], doc: dict[str, Any]) -> None:
    """Store a new dataset; it lands in the default zone by being listed in no zone."""
    record.setdefault("datasets", {})[doc["name"]] = doc
    touch(ctx, record)


def _normalise_dataset(ctx: Ctx, project_key: str, name: str, doc: dict[str, Any],
                       old: dict[str, Any] | None) -> dict[str, Any]:
    if not isinstance(doc.get("type"), str) or not doc["type"]:
        raise bad_request("A dataset needs a type")
    if doc.get("schema") is not None:
        check_schema(doc["schema"])
    if doc.get("formatType") is None:
        doc.pop("formatType", None)  # only files-based datasets with a known format have one
    doc["projectKey"], doc["name"] = project_key, name  # server-owned identity
    return normalise_flow_object(ctx, doc, DATASET_DEFAULTS, old)


def _shared_into(ctx: Ctx, project_key: str) -> list[dict[str, Any]]:
    """Datasets other projects expose to this one (their settings' exposedObjects)."""
    out = []
    for key, other in sorted(ctx.store.projects.items()):
        if key == project_key:
            continue
        for obj in ((other.get("settings") or {}).get("exposedObjects") or {}).get("objects") or []:
            targets = {r.get("targetProject") for r in obj.get("rules") or []}
            doc = (other.get("datasets") or {}).get(obj.get("localName"))
            if obj.get("type") == "DATASET" and project_key in targets and doc is not None:
                out.append(doc)
    return out


# -- endpoints ---------------------------------------------------------------------------------------------

@route("GET", "/projects/{project_key}/datasets/")
def list_datasets(ctx: Ctx, project_key: str) -> list[dict[str, Any]]:
    record = ctx.project(project_key)
    docs = [doc for _, doc in sorted(record.setdefault("datasets", {}).items())]
    if ctx.req.bool_param("foreign"):
        docs += _shared_into(ctx, project_key)
    wanted = set(ctx.req.param_list("tags"))
    if wanted:
        docs = [d for d in docs if wanted & set(d.get("tags") or [])]
    return [copy_doc(d) for d in docs]


@route("POST", "/projects/{project_key}/datasets/")
def create_dataset(ctx: Ctx, project_key: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    body = ctx.req.json_object()
    name = check_name(body.get("name"), "dataset")
    _check_name_free(record, name)
    params = body.get("params") or {}
    if not isinstance(params, dict):
        raise bad_request("'params' must be a JSON object")
    _check_references(ctx, record, params)
    doc = _normalise_dataset(ctx, project_key, name, {**copy_doc(body), "params": params}, None)
    insert_dataset(ctx, record, doc)
    return copy_doc(doc)


@route("POST", "/projects/{project_key}/datasets/managed")
def create_managed_dataset(ctx: Ctx, project_key: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    body = ctx.req.json_object()
    doc = build_managed_dataset(ctx, record, body.get("name"), body.get("creationSettings") or {})
    insert_dataset(ctx, record, doc)
    return copy_doc(doc)


@route("GET", "/projects/{project_key}/datasets/{name}")
def get_settings(ctx: Ctx, project_key: str, name: str) -> dict[str, Any]:
    return copy_doc(get_dataset(ctx, ctx.project(project_key), name))


@route("PUT", "/projects/{project_key}/datasets/{name}")
def save_settings(ctx: Ctx, project_key: str, name: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    old = get_dataset(ctx, record, name)
    # Whole-document save: unknown fields are kept, server-owned ones (identity, version tags) win.
    record["datasets"][name] = _normalise_dataset(ctx, project_key, name, ctx.req.json_object(), old)
    touch(ctx, record)
    return {}


@route("DELETE", "/projects/{project_key}/datasets/{name}")
def delete_dataset(ctx: Ctx, project_key: str, name: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    get_dataset(ctx, record, name)
    if ctx.req.bool_param("dropData"):
        _drop_data(ctx, record["datasets"][name])
    del record["datasets"][name]
    (record.get("datasetStatus") or {}).pop(name, None)
    remove_from_flow(record, "DATASET", name)
    touch(ctx, record)
    return {}


@route("GET", "/projects/{project_key}/datasets/{name}/schema")
def get_schema(ctx: Ctx, project_key: str, name: str) -> dict[str, Any]:
    return copy_doc(get_dataset(ctx, ctx.project(project_key), name)["schema"])


@route("PUT", "/projects/{project_key}/datasets/{name}/schema")
def set_schema(ctx: Ctx, project_key: str, name: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    doc = get_dataset(ctx, record, name)
    schema = check_schema(ctx.req.json_object())
    save_part(ctx, record, doc, {"schema": schema})
    return {}


def save_part(ctx: Ctx, record: dict[str, Any], doc: dict[str, Any], changes: dict[str, Any]) -> None:
    """Partial edits (schema, metadata) are saves of the dataset too: they bump its version."""
    new = {**copy_doc(doc), **changes}
    record["datasets"][doc["name"]] = ctx.bump_version(sort_tags(new), doc)
    touch(ctx, record)


@route("GET", "/projects/{project_key}/datasets/{name}/metadata")
def get_metadata(ctx: Ctx, project_key: str, name: str) -> dict[str, Any]:
    doc = get_dataset(ctx, ctx.project(project_key), name)
    return copy_doc({
        "label": doc["name"],
        "description": doc.get("description", ""),
        "shortDesc": doc.get("shortDesc", ""),
        "tags": doc.get("tags", []),
        "checklists": doc.get("checklists", {"checklists": []}),
        "custom": doc.get("customMeta", {"kv": {}}),
        "customFields": doc.get("customFields", {}),
    })


@route("PUT", "/projects/{project_key}/datasets/{name}/metadata")
def set_metadata(ctx: Ctx, project_key: str, name: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    doc = get_dataset(ctx, record, name)
    body = ctx.req.json_object()
    if not isinstance(body.get("tags", []), list):
        raise bad_request("'tags' must be a list of strings")
    if not isinstance(body.get("custom", {}), dict):
        raise bad_request("'custom' must be a JSON object")
    changes: dict[str, Any] = {k: body[k] for k in ("description", "shortDesc", "tags", "checklists", "customFields")
                               if k in body}
    if "custom" in body:
        changes["customMeta"] = fill_defaults(body["custom"], {"kv": {}})
    save_part(ctx, record, doc, changes)
    return {}


@route("POST", "/projects/{project_key}/actions/renameDataset")
def rename_dataset(ctx: Ctx, project_key: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    body = ctx.req.json_object()
    old_name = body.get("oldName")
    if not isinstance(old_name, str) or not old_name:
        raise bad_request("renameDataset needs the 'oldName' of the dataset")
    doc = get_dataset(ctx, record, old_name)
    new_name = check_name(body.get("newName"), "dataset")
    _check_name_free(record, new_name)
    datasets = record["datasets"]
    del datasets[old_name]
    datasets[new_name] = ctx.bump_version({**doc, "name": new_name}, doc)
    if old_name in (record.get("datasetStatus") or {}):
        record["datasetStatus"][new_name] = record["datasetStatus"].pop(old_name)
    _rename_references(ctx, record, old_name, new_name)
    touch(ctx, record)
    return {}


def _drop_data(ctx: Ctx, doc: dict[str, Any]) -> None:
    """`delete(drop_data=True)`: remove the dataset's files, when the simulator holds them."""
    try:
        location = storage.locate(doc, ctx.store.coll("connections"), ctx.node.data_home)
    except storage.DataError:
        return  # no files held for this dataset type
    storage.clear(location)


def _rename_references(ctx: Ctx, record: dict[str, Any], old: str, new: str) -> None:
    """DSS renames a dataset everywhere its project names it: recipes, zones, exposed objects."""
    for entry in (record.get("recipes") or {}).values():
        recipe = entry.get("recipe") or {}
        changed = False
        for side in ("inputs", "outputs"):
            for role in (recipe.get(side) or {}).values():
                for item in (role or {}).get("items") or []:
                    if isinstance(item, dict) and item.get("ref") == old:
                        item["ref"], changed = new, True
        if changed:
            ctx.bump_version(recipe, dict(recipe))
    rename_object(record, "DATASET", old, new)
    for obj in ((record.get("settings") or {}).get("exposedObjects") or {}).get("objects") or []:
        if obj.get("type") == "DATASET" and obj.get("localName") == old:
            obj["localName"] = new
