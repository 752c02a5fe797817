"""Datasets as DuckDB tables: load a dataset's files with its DSS schema, write a query's result back as files.

DSS types map to DuckDB types; values that do not parse as their column's type read as null (as DSS shows
them invalid). DSS `date` columns are instants: they are kept in UTC and written as `...T...Z`.
"""

from __future__ import annotations

import csv
import datetime
import decimal
import math
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb

from . import storage
from .storage import DataError, Location

DUCK_TYPES = {
    "string": "VARCHAR", "int": "INTEGER", "bigint": "BIGINT", "smallint": "SMALLINT", "tinyint": "TINYINT",
    "float": "FLOAT", "double": "DOUBLE", "boolean": "BOOLEAN", "date": "TIMESTAMP", "dateonly": "DATE",
    "datetimenotz": "TIMESTAMP", "array": "VARCHAR", "map": "VARCHAR", "object": "VARCHAR",
    "geopoint": "VARCHAR", "geometry": "VARCHAR",
}
# DuckDB type (first word) -> DSS type, for schemas DSS would infer from a recipe's output.
DSS_TYPES = {
    "VARCHAR": "string", "INTEGER": "int", "BIGINT": "bigint", "HUGEINT": "bigint", "UBIGINT": "bigint",
    "UINTEGER": "bigint", "SMALLINT": "smallint", "USMALLINT": "int", "TINYINT": "tinyint", "UTINYINT": "smallint",
    "FLOAT": "float", "DOUBLE": "double", "DECIMAL": "double", "BOOLEAN": "boolean", "DATE": "dateonly",
    "TIMESTAMP": "datetimenotz", "TIMESTAMP_NS": "datetimenotz", "TIMESTAMP_MS": "datetimenotz",
    "TIMESTAMP WITH TIME ZONE": "date",
}


def quote(name: str) -> str:
    """A SQL identifier: any column name is safe in it."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: Any) -> str:
    """A SQL literal for a user-given value (strings quoted, numbers checked)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float) and math.isfinite(value):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _cast(expr: str, dss_type: str) -> str:
    if dss_type == "date":  # an instant: parse with its offset, keep it in UTC
        return f"TRY_CAST(TRY_CAST({expr} AS TIMESTAMPTZ) AS TIMESTAMP)"
    return f"TRY_CAST({expr} AS {DUCK_TYPES.get(dss_type, 'VARCHAR')})"


def dss_type(duck_type: str) -> str:
    base = duck_type.split("(")[0].strip().upper()
    return DSS_TYPES.get(base, "string")


def format_value(value: Any, dss_type_name: str = "string") -> str | None:
    """A value as DSS writes it in CSV and in the data API: booleans lower-case, instants in ISO with Z."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        text = value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}"
        return text + "Z" if dss_type_name == "date" else text
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return repr(value) if not value.is_integer() or abs(value) >= 1e16 else f"{value:.1f}"
    if isinstance(value, decimal.Decimal):
        return format_value(float(value), dss_type_name)
    return str(value)


class Session:
    """One DuckDB connection and a scratch folder, for one computation (a job activity, a metrics run)."""

    def __init__(self) -> None:
        self.con = duckdb.connect(config={"threads": 2})
        self.con.execute("SET TimeZone='UTC'")
        self._tmp = tempfile.TemporaryDirectory(prefix="dss-sim-")
        self.scratch = Path(self._tmp.name)
        self._n = 0

    def __enter__(self) -> Session:
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()
        self._tmp.cleanup()

    def _scratch_file(self, suffix: str) -> Path:
        self._n += 1
        return self.scratch / f"t{self._n}{suffix}"

    # -- reading -----------------------------------------------------------------------------------------
    def load(self, table: str, location: Location) -> list[dict[str, Any]]:
        """Create `table` from the dataset's files; return the DSS schema columns it was read with."""
        columns = list(location.columns)
        files = location.files()
        if location.format_type == "parquet":
            return self._load_parquet(table, files, columns)
        if not columns:
            header = storage.csv_header(location)
            if not header:
                raise DataError(f"Dataset {location.name} has no schema: set one, or give its CSV files a header")
            columns = [{"name": h, "type": "string"} for h in header]
        names = [c["name"] for c in columns]
        if len(set(names)) != len(names):
            raise DataError(f"Dataset {location.name} has duplicate column names in its schema")
        raw = self._scratch_file(".csv")
        with open(raw, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
            for row in storage.read_csv_rows(location, len(columns)):
                writer.writerow(["" if v is None else v for v in row])
        spec = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(columns))) + "}"
        select = ", ".join(f"{_cast(f'c{i}', c.get('type', 'string'))} AS {quote(c['name'])}"
                           for i, c in enumerate(columns))
        # Text first, typed second: DuckDB 2.0 pushes a TRY_CAST on read_csv down into the reader as a strict cast.
        # Serial scan: DuckDB's parallel scanner refuses null_padding with a line break inside a quoted value.
        staging = quote(table + "__text")
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {staging} AS SELECT * FROM read_csv("
                         f"'{raw}', header=false, columns={spec}, quote='\"', escape='\"', "
                         "delim=',', auto_detect=false, null_padding=true, new_line='\\n', parallel=false)")
        self.con.execute(f"CREATE OR REPLACE TABLE {quote(table)} AS SELECT {select} FROM {staging}")
        self.con.execute(f"DROP TABLE {staging}")
        return columns

    def _load_parquet(self, table: str, files: list[Path], columns: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not files:
            if not columns:
                raise DataError(f"Table {table} has no schema and no files")
            defs = ", ".join(f"{quote(c['name'])} {DUCK_TYPES.get(c.get('type', 'string'), 'VARCHAR')}"
                             for c in columns)
            self.con.execute(f"CREATE OR REPLACE TABLE {quote(table)} ({defs})")
            return columns
        listing = "[" + ", ".join(literal(str(f)) for f in files) + "]"
        source = f"read_parquet({listing}, union_by_name=true)"
        try:
            if columns:
                select = ", ".join(f"{_cast(quote(c['name']), c.get('type', 'string'))} AS {quote(c['name'])}"
                                   for c in columns)
            else:
                select = "*"
            self.con.execute(f"CREATE OR REPLACE TABLE {quote(table)} AS SELECT {select} FROM {source}")
        except duckdb.Error as e:
            raise DataError(f"Cannot read the Parquet files of {table}: {str(e).splitlines()[0]}") from None
        return columns or self.schema(table)

    def schema(self, table: str) -> list[dict[str, Any]]:
        rows = self.con.execute(f"DESCRIBE {quote(table)}").fetchall()
        return [{"name": r[0], "type": dss_type(str(r[1]))} for r in rows]

    def rows(self, table: str, columns: list[str] | None = None) -> Iterator[tuple[Any, ...]]:
        select = ", ".join(quote(c) for c in columns) if columns is not None else "*"
        cur = self.con.execute(f"SELECT {select} FROM {quote(table)}")
        while batch := cur.fetchmany(2048):
            yield from batch

    # -- writing -----------------------------------------------------------------------------------------
    def write(self, table: str, location: Location, *, append: bool = False) -> list[dict[str, Any]]:
        """Write `table` as the dataset's files (replacing them unless `append`); return the written schema."""
        columns = self.schema(table)
        location.folder.mkdir(parents=True, exist_ok=True)
        existing = location.files()
        index = len(existing) if append else 0
        target = storage.output_file(location, index)
        while append and target.exists():
            index += 1
            target = storage.output_file(location, index)
        staged = target.with_name(f".{target.name}.tmp")
        if location.format_type == "parquet":
            self.con.execute(f"COPY {quote(table)} TO '{staged}' (FORMAT PARQUET)")
        else:
            types = [c["type"] for c in columns]
            rows = ([format_value(v, t) for v, t in zip(row, types, strict=True)] for row in self.rows(table))
            storage.write_csv(staged, location.format_params, [c["name"] for c in columns], rows)
        if not append:
            storage.clear(location)
        staged.replace(target)
        return columns
