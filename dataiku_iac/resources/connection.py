"""DSS connections, per environment: type, params (typed for the common types), usage and details readability.

Managed fields: type (the YAML name: `S3` for DSS's `EC2`), description, params (an open map: DSS fills in params
of its own, only the keys the file sets are compared), usable_by (ALL, or the allowed groups), details_readable_by
(ALL, NONE, or groups), allow_write, allow_managed_datasets, allow_managed_folders.

Secrets (passwords, keys, tokens: whatever key DSS keeps secret) are write-only: the file may only give them as
`${env:NAME}` (a literal is a validation error), DSS hands them back blanked or encrypted, and the state keeps a
keyed fingerprint of what was written, so a changed value in the environment plans an update and a blanked read
never does (plan/diff.py).

`type` cannot change in place (DSS refuses): a change plans a replace.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .base import CONNECTION, Desired, ImportContext, Remote, nonempty
from .context import EnvContext
from .instance_base import InstanceKind

if TYPE_CHECKING:
    from dataikuapi import DSSClient

    from .address import Address


class _Params(BaseModel):
    """Params of a typed connection: the keys below are checked; DSS's other params pass as written."""

    model_config = ConfigDict(extra="allow", frozen=True)


_SECRET = "use ${env:NAME}: a secret is never written in a file"


class FilesystemParams(_Params):
    root: str = Field(description="the folder on the DSS host")


class _DatabaseParams(_Params):
    host: str = Field(description="database host")
    db: str = Field(description="database name")
    user: str = ""
    password: str = Field(default="", description=_SECRET)


class PostgreSQLParams(_DatabaseParams):
    port: int = 5432


class SnowflakeParams(_Params):
    host: str = Field(description="account host, e.g. acme.eu-west-1.snowflakecomputing.com")
    db: str = Field(description="database name")
    warehouse: str = ""
    role: str = ""
    user: str = ""
    password: str = Field(default="", description=_SECRET)


class S3Params(_Params):
    bucket: str = Field(default="", description="bucket (empty: any bucket the credentials reach)")
    regionOrEndpoint: str = ""
    chroot: str = Field(default="", description="path prefix every dataset of the connection stays under")
    credentialsMode: Literal["KEYPAIR", "ENVIRONMENT", "STS_ASSUME_ROLE", "DEFAULT"] = "KEYPAIR"
    accessKey: str = Field(default="", description="access key id (not a secret)")
    secretKey: str = Field(default="", description=_SECRET)


class HDFSParams(_Params):
    root: str = Field(description="the HDFS path, e.g. /user/dataiku")
    namingRule: dict[str, Any] = Field(default_factory=dict)


class SQLServerParams(_DatabaseParams):
    port: int = 1433


class OracleParams(_Params):
    host: str = Field(description="database host")
    port: int = 1521
    sid: str = Field(default="", description="the SID, or")
    serviceName: str = Field(default="", description="the service name")
    user: str = ""
    password: str = Field(default="", description=_SECRET)


class BigQueryParams(_Params):
    projectId: str = Field(description="the GCP project")
    defaultDataset: str = ""
    authType: Literal["KEYPAIR", "OAUTH", "ENVIRONMENT"] = "KEYPAIR"
    privateKey: str = Field(default="", description=f"the service account key (JSON); {_SECRET}")


# The connection types whose params are typed, by their YAML name.
TYPED: dict[str, type[_Params]] = {
    "Filesystem": FilesystemParams, "PostgreSQL": PostgreSQLParams, "Snowflake": SnowflakeParams, "S3": S3Params,
    "HDFS": HDFSParams, "SQLServer": SQLServerParams, "Oracle": OracleParams, "BigQuery": BigQueryParams,
}
# Other DSS connection types, taken with their params as written (open).
OPEN = ("Redshift", "MySQL", "Greenplum", "Vertica", "Teradata", "Synapse", "Databricks", "Athena", "DB2",
        "SAPHANA", "Netezza", "Trino", "JDBC", "Azure", "GCS", "FTP", "SSH", "HTTP", "MongoDB", "ElasticSearch",
        "Cassandra", "Kafka", "SharePointOnline")
# Where DSS names the type differently (DSS calls S3 connections "EC2", and SFTP/SCP ones "SSH").
DSS_TYPE = {"S3": "EC2"}
_YAML_TYPE = {v: k for k, v in DSS_TYPE.items()}
ConnectionType = Literal[tuple(TYPED) + OPEN]  # type: ignore[valid-type]

Groups = Literal["all"] | list[str]


class Connection(BaseModel):
    """A DSS connection of the environment's instance."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: ConnectionType = Field(  # type: ignore[valid-type]
        description=f"connection type; params typed for {', '.join(TYPED)}; open for {', '.join(OPEN)}")
    description: str = Field(default="", description="shown in DSS's connection list")
    params: dict[str, Any] = Field(default_factory=dict, description="the type's params (DSS names); secrets "
                                                                     "(password, secretKey, privateKey, token...) "
                                                                     "only as ${env:NAME}")
    usable_by: Groups = Field(default="all", description="`all`, or the groups allowed to use it")
    details_readable_by: Literal["all", "none"] | list[str] = Field(
        default="none", description="who may read its details (host, user...): `all`, `none`, or groups")
    allow_write: bool = Field(default=True, description="datasets may write to it (false: read-only)")
    allow_managed_datasets: bool = Field(default=True, description="managed datasets may be stored in it")
    allow_managed_folders: bool = Field(default=True, description="managed folders may be stored in it")

    @field_validator("params")
    @classmethod
    def _typed_params(cls, v: dict[str, Any], info: Any) -> dict[str, Any]:
        model = TYPED.get(info.data.get("type", ""))
        if model is None:
            return v
        try:
            model.model_validate(v)
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(x) for x in first["loc"])
            raise ValueError(f"{info.data['type']} connection param '{where}': {first['msg']}") from None
        return v


def _groups(value: Any) -> Any:
    return "all" if value == "all" else sorted(set(value))


def fields_of(raw: dict[str, Any]) -> dict[str, Any]:
    readability = raw.get("detailsReadability") or {}
    readable = str(readability.get("readableBy", "NONE"))
    return {
        "type": _YAML_TYPE.get(raw.get("type", ""), raw.get("type", "")),
        "description": raw.get("description", "") or "",
        "params": dict(raw.get("params") or {}),
        "usable_by": "all" if raw.get("usableBy", "ALL") == "ALL" else sorted(set(raw.get("allowedGroups") or [])),
        "details_readable_by": (sorted(set(readability.get("allowedGroups") or [])) if readable == "ALLOWED"
                                else readable.lower()),
        "allow_write": bool(raw.get("allowWrite", True)),
        "allow_managed_datasets": bool(raw.get("allowManagedDatasets", True)),
        "allow_managed_folders": bool(raw.get("allowManagedFolders", True)),
    }


def merge(raw: dict[str, Any], fields: dict[str, Any], removed: tuple[str, ...] = ()) -> dict[str, Any]:
    """`fields` written into a connection document just read (its other keys and params kept)."""
    raw["description"] = fields["description"]
    params = raw.setdefault("params", {})
    for key in removed:
        params.pop(key, None)
    params.update(fields["params"])
    usable = fields["usable_by"]
    raw["usableBy"], raw["allowedGroups"] = ("ALL", []) if usable == "all" else ("ALLOWED", list(usable))
    readable = fields["details_readable_by"]
    raw["detailsReadability"] = ({"readableBy": readable.upper(), "allowedGroups": []} if isinstance(readable, str)
                                 else {"readableBy": "ALLOWED", "allowedGroups": list(readable)})
    raw["allowWrite"] = fields["allow_write"]
    raw["allowManagedDatasets"] = fields["allow_managed_datasets"]
    raw["allowManagedFolders"] = fields["allow_managed_folders"]
    return raw


class ConnectionKind(InstanceKind):
    name = "connection"
    model = Connection
    section = "connections"
    rank = -30  # before the projects that use it, deleted after them
    replace_on = frozenset({"type"})
    open_maps = frozenset({"params"})
    adoptable = frozenset({"description", "usable_by", "details_readable_by", "allow_write", "allow_managed_datasets",
                           "allow_managed_folders"})
    template = {"type": "Filesystem", "params": {"root": ""}}

    def fields_of_entry(self, name: str, entry: Any, env: EnvContext) -> dict[str, Any]:
        return {"type": entry.type, "description": entry.description, "params": dict(entry.params),
                "usable_by": _groups(entry.usable_by), "details_readable_by":
                    entry.details_readable_by if isinstance(entry.details_readable_by, str)
                    else sorted(set(entry.details_readable_by)),
                "allow_write": entry.allow_write, "allow_managed_datasets": entry.allow_managed_datasets,
                "allow_managed_folders": entry.allow_managed_folders}

    def used_by(self, client: Any, name: str, managed: set[str]) -> list[str]:
        """The datasets of projects not in `managed` whose params name the connection: one listing per project."""
        out = []
        for key in client.list_project_keys():
            if key in managed:
                continue
            for ds in client.get_project(key).list_datasets():
                if (ds.get("params") or {}).get("connection") == name:
                    out.append(f"dataset {key}.{ds['name']}")
        return out

    def groups_named(self, fields: Any) -> list[str]:
        return [g for key in ("usable_by", "details_readable_by") if isinstance(fields[key], list) for g in fields[key]]

    def provides(self, fields: Any) -> tuple[str, str | None] | None:
        return CONNECTION, DSS_TYPE.get(fields["type"], fields["type"])

    def fetch(self, client: DSSClient, name: str) -> dict[str, Any]:
        return dict(client.get_connection(name).get_definition())

    def normalise(self, raw: dict[str, Any]) -> dict[str, Any]:
        return fields_of(raw)

    def create(self, client: DSSClient, desired: Desired) -> str:
        name, f = str(desired.address.name), desired.fields
        client.create_connection(name, DSS_TYPE.get(f["type"], f["type"]), dict(f["params"]),
                                 description=f["description"])
        conn = client.get_connection(name)
        conn.set_definition(merge(conn.get_definition(), f))
        return name

    def update(self, client: DSSClient, desired: Desired, remote: Remote) -> None:
        conn = client.get_connection(str(desired.address.name))
        conn.set_definition(merge(conn.get_definition(), desired.fields, desired.removed.get("params", ())))

    def delete(self, client: DSSClient, address: Address, remote_id: str) -> None:
        client.get_connection(remote_id).delete()

    def list_all(self, client: DSSClient) -> list[str]:
        return sorted(client.list_connections())

    def config_entry(self, name: str | None, fields: dict[str, Any], ctx: ImportContext | None) -> Any:
        out = {"type": fields["type"], **nonempty({"description": fields["description"],
                                                   "params": fields["params"]})}
        for key, default in (("usable_by", "all"), ("details_readable_by", "none"), ("allow_write", True),
                             ("allow_managed_datasets", True), ("allow_managed_folders", True)):
            if fields[key] != default:
                out[key] = fields[key]
        return out
