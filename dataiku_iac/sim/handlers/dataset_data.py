"""Dataset data: read rows (`iter_rows`), upload files, clear, detect the format, build info.

The rows come from the dataset's real files (engine.storage); the reply of `GET .../data/` is the
`tsv-excel-noheader` stream that dataikuapi's CSV reader parses with the schema.
"""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path
from typing import Any

import duckdb

from ..context import Ctx, Raw
from ..engine import storage
from ..engine.storage import DataError, Location
from ..engine.table import Session, dss_type, format_value, literal
from ..errors import bad_request
from ..routing import route
from .datasets import get_dataset
from .instance import future_reply


def location_of(ctx: Ctx, doc: dict[str, Any]) -> Location:
    return storage.locate(doc, ctx.store.coll("connections"), ctx.node.data_home)


def dataset_location(ctx: Ctx, project_key: str, name: str) -> Location:
    return location_of(ctx, get_dataset(ctx, ctx.project(project_key), name))


def _check_no_partitions(ctx: Ctx) -> None:
    wanted = [p for p in ctx.req.param_list("partitions") if p not in ("", "NP", "ALL")]
    if wanted:
        raise bad_request("The simulator does not read partitions: the dataset is read whole")


@route("GET", "/projects/{project_key}/datasets/{name}/data")
def read_data(ctx: Ctx, project_key: str, name: str) -> Raw:
    fmt = ctx.req.param("format") or "tsv-excel-noheader"
    if fmt not in ("tsv-excel-noheader", "tsv-excel-header"):
        raise bad_request(f"Data format {fmt} is not served by the simulator (tsv-excel-noheader, tsv-excel-header)")
    _check_no_partitions(ctx)
    location = dataset_location(ctx, project_key, name)
    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t", quotechar='"', doublequote=True, lineterminator="\n")
    with Session() as session:
        columns = session.load("data", location)
        types = {c["name"]: c.get("type", "string") for c in columns}
        wanted = ctx.req.param_list("columns") or [c["name"] for c in columns]
        unknown = [c for c in wanted if c not in types]
        if unknown:
            raise bad_request(f"Dataset {name} has no column {unknown[0]}")
        if fmt == "tsv-excel-header":
            writer.writerow(wanted)
        for row in session.rows("data", wanted):
            writer.writerow(["" if v is None else format_value(v, types[c]) for v, c in zip(row, wanted, strict=True)])
    return Raw(out.getvalue().encode("utf-8"), "text/tab-separated-values; charset=utf-8")


@route("GET", "/projects/{project_key}/datasets/{name}/finish-streaming")
def finish_streaming(ctx: Ctx, project_key: str, name: str) -> dict[str, Any]:
    # The whole stream was sent in one reply: nothing can have failed after it.
    get_dataset(ctx, ctx.project(project_key), name)
    return {}


@route("DELETE", "/projects/{project_key}/datasets/{name}/data")
def clear_data(ctx: Ctx, project_key: str, name: str) -> dict[str, Any]:
    _check_no_partitions(ctx)
    storage.clear(dataset_location(ctx, project_key, name))
    return {}


def _uploaded(ctx: Ctx, project_key: str, name: str) -> Location:
    doc = get_dataset(ctx, ctx.project(project_key), name)
    if doc.get("type") != "UploadedFiles":
        raise bad_request(f"Dataset {name} is not an uploaded files dataset")
    return location_of(ctx, doc)


@route("POST", "/projects/{project_key}/datasets/{name}/uploaded/files")
def upload_file(ctx: Ctx, project_key: str, name: str) -> dict[str, Any]:
    location = _uploaded(ctx, project_key, name)
    filename, content = ctx.req.files().get("file", ("", b""))
    base = Path(filename).name
    if not base or base.startswith((".", "_")):
        raise bad_request(f"Invalid upload file name '{filename}'")
    location.folder.mkdir(parents=True, exist_ok=True)
    staged = location.folder / f".{base}.upload"
    staged.write_bytes(content)
    staged.replace(location.folder / base)
    return {}


@route("GET", "/projects/{project_key}/datasets/{name}/uploaded/files")
def list_uploaded(ctx: Ctx, project_key: str, name: str) -> list[dict[str, Any]]:
    location = _uploaded(ctx, project_key, name)
    return [{"path": "/" + str(f.relative_to(location.folder)), "size": f.stat().st_size,
             "lastModified": int(f.stat().st_mtime * 1000)} for f in location.files()]


# -- format detection ----------------------------------------------------------------------------------------

def _detect(location: Location, infer_types: bool) -> dict[str, Any]:
    files = location.files()
    if not files:
        return {"ok": False, "type": None, "message": "The dataset has no files"}
    first = files[0]
    con = duckdb.connect()
    try:
        if first.suffix == ".parquet":
            rows = con.execute(f"DESCRIBE SELECT * FROM read_parquet({literal(str(first))})").fetchall()
            columns = [{"name": r[0], "type": dss_type(str(r[1]))} for r in rows]
            return {"ok": True, "type": "parquet", "params": {"parquetCompressionMethod": "SNAPPY"},
                    "schemaDetection": {"newSchema": {"columns": columns, "userModified": False}}}
        sniff = con.execute("SELECT Delimiter, Quote, HasHeader, Columns FROM "
                            f"sniff_csv({literal(str(first))})").fetchone()
    except duckdb.Error as e:
        return {"ok": False, "type": None, "message": f"Format detection failed: {str(e).splitlines()[0]}"}
    finally:
        con.close()
    assert sniff is not None
    delimiter, quote_char, has_header, detected = sniff
    columns = [{"name": c["name"], "type": dss_type(str(c["type"])) if infer_types else "string"} for c in detected]
    params = {"style": "excel", "charset": "utf8", "separator": delimiter,
              "quoteChar": quote_char if quote_char and quote_char != "(empty)" else '"', "escapeChar": "\\",
              "parseHeaderRow": bool(has_header), "skipRowsBeforeHeader": 0, "skipRowsAfterHeader": 0,
              "compress": "gz" if first.suffix == ".gz" else "", "arrayMapFormat": "json",
              "dateSerializationFormat": "ISO", "normalizeBooleans": False, "normalizeDoubles": True}
    return {"ok": True, "type": "csv", "params": params,
            "schemaDetection": {"newSchema": {"columns": columns, "userModified": False}}}


@route("POST", "/projects/{project_key}/datasets/{name}/actions/testAndDetectSettings/fsLike")
def test_and_detect(ctx: Ctx, project_key: str, name: str) -> dict[str, Any]:
    body = ctx.req.json_object()
    doc = get_dataset(ctx, ctx.project(project_key), name)
    try:
        location = location_of(ctx, {**doc, "formatType": "csv", "formatParams": {}})
        result = {"connectionOK": True, "format": _detect(location, bool(body.get("inferStorageTypes")))}
    except DataError as e:
        result = {"connectionOK": False, "connectionErrorMsg": e.message, "format": {"ok": False}}
    return future_reply(ctx, result)


# -- build info ---------------------------------------------------------------------------------------------

def record_build(ctx: Ctx, record: dict[str, Any], name: str, start_ms: int, success: bool, job_id: str) -> None:
    """What `get_info()` reports of a dataset's last build (called by jobs, under the store's lock)."""
    status = record.setdefault("datasetStatus", {}).setdefault(name, {})
    status["lastBuild"] = {"buildStartTime": start_ms, "buildEndTime": int(time.time() * 1000),
                           "buildSuccess": success, "jobId": job_id}
    ctx.store.mark(record["projectKey"])


@route("GET", "/projects/{project_key}/datasets/{name}/info")
def dataset_info(ctx: Ctx, project_key: str, name: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    doc = get_dataset(ctx, record, name)
    info: dict[str, Any] = {"dataset": doc}
    last = ((record.get("datasetStatus") or {}).get(name) or {}).get("lastBuild")
    if last:
        info["lastBuild"] = dict(last)
    return info
