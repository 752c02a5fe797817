"""Datasets: external ones (SQL tables, files) and managed ones (DSS stores the data in a connection).

Managed fields: type, managed, connection (physical, after remapping), params (open: DSS adds its own
keys, such as a managed dataset's path), format and format_params (open), schema, tags, description.
`type` and `managed` cannot change in place (DSS has no call to turn a dataset into another type).
`connection`, `format` and `schema` are compared only when the config sets them: an empty schema in the
config means "DSS owns the schema" (a recipe's build writes it), not "no columns".
`data_quality` (open, by test name): the DSS data quality rules made from the dataset's `tests`, when it declares
them (testing/dq_rules.py); rules made in DSS are never touched.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator

from ..config.models import Strict
from ..config.testing_models import WAIVERS_HELP, DataTest, Waivers
from ..testing.dq_rules import managed_rules, rules_of, write_rules
from . import _shapes
from ._flow import absent_as_none, describe, merge_open, physical_connection, tag_set
from .address import Address
from .base import CONNECTION, Desired, ImportContext, Kind, Listed, Remote, nonempty, version_number
from .passthrough import merged, without

if TYPE_CHECKING:
    from dataikuapi import DSSClient
    from dataikuapi.dss.project import DSSProject

    from ..config.loader import ProjectSource
    from .context import EnvContext

# Config `format` -> the DSS format preset a managed dataset is created with (DSS_API.md §2.3). Other
# formats are created with DSS's default preset, then get their formatType written by the settings save.
# A dataset type and the connection type that holds it, where the names differ (DSS calls S3 "EC2").
CONNECTION_TYPE = {"S3": "EC2", "SCP": "SSH", "SFTP": "SSH", "FilesInFolder": None, "UploadedFiles": None}
FORMAT_OPTIONS = {"csv": "CSV_ESCAPING_NOGZIP_FORHIVE", "parquet": "PARQUET_HIVE", "avro": "AVRO", "orc": "ORC"}


class Column(Strict):
    """One column of a dataset schema."""

    name: str = Field(description="column name")
    type: str = Field(description="DSS storage type: string, bigint, int, double, boolean, date...")
    comment: str = Field(default="", description="column description")


class Dataset(Strict):
    """A dataset. External ones point at existing data (`params` says where); managed ones (`managed: true`) are
    stored by DSS in the connection and written by a recipe."""

    type: str = Field(description="DSS dataset type: PostgreSQL, Snowflake, Filesystem, S3...")
    connection: str | None = Field(default=None, description="logical connection, remapped per environment")
    managed: bool = Field(default=False, description="`true`: DSS owns the data and picks where to store it in the "
                                                     "connection; a recipe writes it")
    params: dict[str, Any] = Field(default_factory=dict, description="type-specific params (table, schema, path...)")
    format: str | None = Field(default=None, description="file-based datasets: csv, parquet...")
    format_params: dict[str, Any] = Field(default_factory=dict, description="file-based datasets: format settings "
                                                                            "(separator, parseHeaderRow...)")
    schema_: list[Column] = Field(default_factory=list, alias="schema", description="the columns; omit to let DSS "
                                                                                    "(or the recipe that writes the "
                                                                                    "dataset) own them")
    tags: list[str] = Field(default_factory=list, description="dataset tags")
    description: str = Field(default="", description="dataset description")
    tests: list[DataTest] = Field(
        default_factory=list, description="data tests, applied as DSS data quality rules and run by `dss-iac test "
                                          "-e ENV`; when declared (even empty), authoritative over the rules dss-iac "
                                          "made; when left out, DSS's rules are left alone")
    waivers: Waivers = Field(default_factory=dict, description=WAIVERS_HELP)

    @field_validator("tests")
    @classmethod
    def _unique_test_names(cls, v: list[DataTest]) -> list[DataTest]:
        seen: set[str] = set()
        for test in v:
            if test.test_name in seen:
                raise ValueError(f"two data tests are named '{test.test_name}': give one a `name`")
            seen.add(test.test_name)
        return v


class DatasetKind(Kind):
    name = "dataset"
    model = Dataset
    adoptable = frozenset({"description", "tags", "params", "format_params", "format", "connection", "type", "managed"})
    unadoptable = {"data_quality": "DSS's rules come from the dataset's `tests`, and no rule maps back to a test"}
    reshaped = {"schema": _shapes.schema}
    template = {"type": "Filesystem", "managed": True, "format": "csv"}
    collection = "datasets"
    rank = 40
    replace_drops_dependents = True  # DSS drops the recipes that read or write it
    remapped = {"connection": CONNECTION}
    replace_on = frozenset({"type", "managed"})
    open_maps = frozenset({"params", "format_params", "data_quality"})

    def desired(self, source: ProjectSource, env: EnvContext) -> list[Desired]:
        key = source.key
        return [_desired(source, Address("dataset", key, name), ds, env)
                for name, ds in sorted(source.spec.datasets.items())]

    listed = True
    versioned = True  # every settings, schema, metadata and data quality rule save bumps it (tests/contract)

    def names_used(self, entry: Any) -> list[tuple[tuple[str, ...], str, str]]:
        # `connection` is its own field; a connection written inside params is taken as the logical name too.
        if entry.connection is None and entry.params.get("connection") is not None:
            return [(("params", "connection"), CONNECTION, str(entry.params["connection"]))]
        return super().names_used(entry)

    def instance_type(self, entry: Any) -> tuple[str | None, str | None]:
        return CONNECTION_TYPE.get(entry.type, entry.type), entry.type

    def config_entry(self, name: str | None, fields: dict[str, Any], ctx: ImportContext) -> Any:
        f = fields
        # A managed dataset's storage details (path, format options) are DSS's choice: left to DSS.
        return nonempty({
            "type": f["type"], "managed": f["managed"] or None, "connection": ctx.connection(f["connection"]),
            "params": None if f["managed"] else f["params"], "format": f["format"],
            "format_params": None if f["managed"] else f["format_params"],
            "schema": [nonempty(c) | {"name": c["name"], "type": c["type"]} for c in f["schema"]],
            "tags": f["tags"], "description": f["description"]})

    def listing(self, project: DSSProject) -> list[Listed]:
        return [Listed(str(d["name"]), str(d["name"]), version_number(d), d)
                for d in map(dict, project.list_datasets())]

    def read(self, client: DSSClient, address: Address, remote_id: str | None) -> Remote | None:
        dataset = client.get_project(address.project).get_dataset(address.name)
        settings = absent_as_none(dataset.get_settings)
        if settings is None:
            return None
        raw = settings.get_raw()
        return Remote(str(address.name), fields_of(raw), raw)

    def create(self, client: DSSClient, desired: Desired) -> str:
        f, name = desired.fields, str(desired.address.name)
        project = client.get_project(desired.address.project)
        if f["managed"]:
            # Managed: DSS picks the storage location (path or table) from the connection.
            fmt = f.get("format")
            builder = project.new_managed_dataset(name).with_store_into(
                f["connection"], type_option_id=f["type"], format_option_id=FORMAT_OPTIONS.get(fmt) if fmt else None)
            dataset = builder.create()
        else:
            params = dict(f["params"])
            if f.get("connection") is not None:
                params["connection"] = f["connection"]
            if "table" in params and "query" not in params:
                params.setdefault("mode", "table")  # what create_sql_table_dataset sends; DSS reads the table
            dataset = project.create_dataset(name, f["type"], params=params, formatType=f.get("format"),
                                             formatParams=dict(f["format_params"]))
        # Schema, tags and description are not part of the creation call: one read-merge-write sets them.
        self._save(dataset, dataset.get_settings().get_raw(), f)
        return name

    def update(self, client: DSSClient, desired: Desired, remote: Remote) -> None:
        dataset = client.get_project(desired.address.project).get_dataset(str(desired.address.name))
        raw = copy.deepcopy(remote.raw) if isinstance(remote.raw, dict) else dataset.get_settings().get_raw()
        self._save(dataset, raw, desired.fields, desired.removed)

    def delete(self, client: DSSClient, address: Address, remote_id: str) -> None:
        # Keep the data: dss-iac never drops data by default.
        client.get_project(address.project).get_dataset(remote_id).delete(drop_data=False)

    # Passthrough (resources/passthrough.py): the settings document without its name, project key and version tags.
    server_made = frozenset({"versionTag", "creationTag", "projectKey", "name"})
    document_help = "the dataset's settings document (type, params, formatType, schema...), without its name"

    def document(self, remote: Remote) -> dict[str, Any] | None:
        return without(remote.raw, self.server_made)

    def write_document(self, client: DSSClient, address: Address, document: dict[str, Any],
                       remote: Remote | None) -> str:
        from dataikuapi.dss.dataset import DSSDatasetSettings

        project, name = client.get_project(address.project), str(address.name)
        if remote is None:
            dataset = project.create_dataset(name, str(document.get("type")), params=dict(document.get("params") or {}),
                                             formatType=document.get("formatType"),
                                             formatParams=dict(document.get("formatParams") or {}))
            raw = dataset.get_settings().get_raw()
        else:
            dataset, raw = project.get_dataset(name), copy.deepcopy(remote.raw)
        DSSDatasetSettings(dataset, merged(raw, document)).save()
        return name

    @staticmethod
    def _save(dataset: Any, raw: dict[str, Any], fields: dict[str, Any],
              removed: Mapping[str, tuple[str, ...]] | None = None) -> None:
        from dataikuapi.dss.dataset import DSSDatasetSettings

        DSSDatasetSettings(dataset, merge(raw, fields, removed or {})).save()


def _desired(source: ProjectSource, address: Address, ds: Dataset, env: EnvContext) -> Desired:
    params = {k: v for k, v in ds.params.items() if k != "connection"}
    # `connection` is its own field; a connection written inside params is taken as the logical name too.
    logical = ds.connection if ds.connection is not None else ds.params.get("connection")
    fields: dict[str, Any] = {"type": ds.type, "managed": ds.managed, "params": params,
                              "format_params": dict(ds.format_params), "tags": tag_set(ds.tags),
                              "description": ds.description}
    if ds.managed and logical is None:
        raise source.file.error("a managed dataset needs a `connection` to store its data in",
                                ("datasets", str(address.name)))
    notes: dict[str, str] = {}
    if logical is not None:
        fields["connection"], notes = physical_connection(env, str(logical))
    if ds.format is not None:
        fields["format"] = ds.format
    if ds.schema_:
        fields["schema"] = [{"name": c.name, "type": c.type, "comment": c.comment} for c in ds.schema_]
    if "tests" in ds.model_fields_set:
        fields["data_quality"] = rules_of(list(ds.tests))
    return Desired(address, fields, (Address("project", address.project),), notes)


def fields_of(raw: dict[str, Any]) -> dict[str, Any]:
    """The managed fields of a dataset settings document, in the shape `desired` produces."""
    params = dict(raw.get("params") or {})
    connection = params.pop("connection", None)
    columns = (raw.get("schema") or {}).get("columns") or []
    rules = managed_rules((raw.get("metricsChecks") or {}).get("checks"))
    return ({"data_quality": rules} if rules else {}) | {
        "type": raw.get("type"),
        "managed": bool(raw.get("managed", False)),
        "connection": connection,
        "params": params,
        "format": raw.get("formatType"),
        "format_params": dict(raw.get("formatParams") or {}),
        "schema": [{"name": c.get("name"), "type": c.get("type"), "comment": c.get("comment") or ""}
                   for c in columns],
        "tags": tag_set(raw.get("tags")),
        "description": raw.get("description") or "",
    }


def merge(raw: dict[str, Any], fields: dict[str, Any], removed: Mapping[str, tuple[str, ...]]) -> dict[str, Any]:
    """Write the managed fields into a settings document; everything else in it is kept as DSS sent it.

    `params` and `format_params` are open maps: the config's keys are set, the keys it dropped (`removed`)
    are taken out, and DSS's own keys stay.
    """
    raw["type"] = fields["type"]
    raw["managed"] = fields["managed"]
    params = merge_open(raw.setdefault("params", {}), fields["params"], removed.get("params", ()))
    if fields.get("connection") is not None:
        params["connection"] = fields["connection"]
    if fields.get("format") is not None:
        raw["formatType"] = fields["format"]
    merge_open(raw.setdefault("formatParams", {}), fields["format_params"], removed.get("format_params", ()))
    if "schema" in fields:
        schema = raw.setdefault("schema", {})
        schema["columns"] = _columns(schema.get("columns") or [], fields["schema"])
    if "data_quality" in fields or removed.get("data_quality"):
        write_rules(raw.setdefault("metricsChecks", {}), fields.get("data_quality", {}),
                    removed.get("data_quality", ()), authoritative=False)
    describe(raw, fields)
    return raw


def _columns(current: list[dict[str, Any]], wanted: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The wanted columns, each keeping what DSS holds about a column of that name (maxLength, meaning...)."""
    by_name = {c.get("name"): c for c in current if isinstance(c, dict)}
    out = []
    for w in wanted:
        col = {**by_name.get(w["name"], {}), "name": w["name"], "type": w["type"]}
        if w["comment"]:
            col["comment"] = w["comment"]
        else:
            col.pop("comment", None)
        out.append(col)
    return out
