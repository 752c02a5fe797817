"""A minimal `dataiku` package for Python recipes and scenario steps run by the DSS simulator.

It works without pandas: read with `Dataset.iter_rows()` / `iter_tuples()`, write with `get_writer()`. With
pandas installed, `get_dataframe()` and `write_with_schema(df)` work too. `api_client()` is a real
`dataikuapi.DSSClient` on the simulator, as in DSS. Everything else of the real package raises
NotImplementedError naming the call (docs/simulator.md lists what is there).
"""

from __future__ import annotations

import csv
import json
import os
from typing import Any

csv.field_size_limit(64 * 1024 * 1024)

_SPEC: dict[str, Any] | None = None


def _spec() -> dict[str, Any]:
    global _SPEC
    if _SPEC is None:
        path = os.environ.get("DKU_SIM_SPEC")
        if path:
            with open(path, encoding="utf-8") as f:
                _SPEC = json.load(f)
        else:
            _SPEC = {"projectKey": os.environ.get("DKU_CURRENT_PROJECT_KEY", ""), "inputs": {}, "outputs": {},
                     "variables": {}}
    return _SPEC


def default_project_key() -> str:
    return str(_spec().get("projectKey") or os.environ.get("DKU_CURRENT_PROJECT_KEY", ""))


def get_custom_variables(project_key: str | None = None, typed: bool = False) -> dict[str, Any]:
    """The project's variables (standard, then local), as DSS gives them to recipes."""
    variables = dict(_spec().get("variables") or {})
    return variables if typed else {k: v if isinstance(v, str) else json.dumps(v) for k, v in variables.items()}


def api_client() -> Any:
    import dataikuapi

    return dataikuapi.DSSClient(os.environ["DKU_SIM_URL"], os.environ["DKU_SIM_API_KEY"])


def _cast(value: str, dss_type: str) -> Any:
    if value == "":
        return None
    try:
        if dss_type in ("int", "bigint", "smallint", "tinyint"):
            return int(value)
        if dss_type in ("float", "double"):
            return float(value)
        if dss_type == "boolean":
            return value.lower() == "true"
    except ValueError:
        return None
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value != value:  # NaN: empty, as DSS writes it
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


class DatasetWriter:
    """Rows written to an output dataset (the simulator stores them when the recipe ends well)."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        out = dataset._output()
        self._columns = [c["name"] for c in dataset.read_schema()]
        self._file = open(out["file"], "w", encoding="utf-8", newline="")  # noqa: SIM115 (closed in close())
        self._writer = csv.writer(self._file, lineterminator="\n")
        self._writer.writerow(self._columns)

    def write_tuple(self, row: Any) -> None:
        self._writer.writerow([_text(v) for v in row])

    write_row_array = write_tuple

    def write_row_dict(self, row: dict[str, Any]) -> None:
        self._writer.writerow([_text(row.get(c)) for c in self._columns])

    def write_dataframe(self, df: Any) -> None:
        for row in df.itertuples(index=False, name=None):
            self.write_tuple(row)

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Dataset:
    """A recipe input or output dataset, by name (`NAME` or `PROJECT.NAME`)."""

    def __init__(self, name: str, project_key: str | None = None, ignore_flow: bool = False) -> None:
        self.short_name = name.split(".", 1)[1] if "." in name else name
        self.project_key = name.split(".", 1)[0] if "." in name else (project_key or default_project_key())
        self.name = f"{self.project_key}.{self.short_name}"
        self.full_name = self.name

    def _entry(self, side: str) -> dict[str, Any] | None:
        entries = _spec().get(side) or {}
        return entries.get(self.full_name) or (entries.get(self.short_name)
                                               if self.project_key == default_project_key() else None)

    def _input(self) -> dict[str, Any]:
        entry = self._entry("inputs")
        if entry is None:
            raise ValueError(f"Dataset {self.full_name} is not an input of this recipe")
        if entry.get("error"):
            raise OSError(f"Cannot read dataset {self.full_name}: {entry['error']}")
        return entry

    def _output(self) -> dict[str, Any]:
        entry = self._entry("outputs")
        if entry is None:
            raise ValueError(f"Dataset {self.full_name} is not an output of this recipe")
        return entry

    def read_schema(self, raise_if_empty: bool = True) -> list[dict[str, Any]]:
        entry = self._entry("inputs")
        if entry is None:
            entry = self._output()
            if os.path.exists(entry["schemaFile"]):
                with open(entry["schemaFile"], encoding="utf-8") as f:
                    return list(json.load(f))
        columns = list(entry.get("schema") or [])
        if not columns and raise_if_empty:
            raise ValueError(f"Dataset {self.full_name} has no schema")
        return columns

    def iter_tuples(self, columns: list[str] | None = None) -> Any:
        entry = self._input()
        schema = entry.get("schema") or []
        names = [c["name"] for c in schema]
        wanted = [names.index(c) for c in columns] if columns else list(range(len(names)))
        with open(entry["file"], encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            next(reader, None)
            for row in reader:
                yield tuple(_cast(row[i] if i < len(row) else "", schema[i]["type"]) for i in wanted)

    def iter_rows(self, columns: list[str] | None = None) -> Any:
        names = columns or [c["name"] for c in self._input().get("schema") or []]
        for values in self.iter_tuples(columns):
            yield dict(zip(names, values, strict=False))

    def get_dataframe(self, columns: list[str] | None = None, **kwargs: Any) -> Any:
        try:
            import pandas as pd
        except ImportError:
            raise NotImplementedError("get_dataframe() needs pandas, which is not installed where the simulator "
                                      "runs: use iter_rows() or iter_tuples()") from None
        names = columns or [c["name"] for c in self._input().get("schema") or []]
        return pd.DataFrame(list(self.iter_tuples(columns)), columns=names)

    def write_schema(self, columns: list[dict[str, Any]], dropAndCreate: bool = False) -> None:
        out = self._output()
        with open(out["schemaFile"], "w", encoding="utf-8") as f:
            json.dump([{"name": str(c["name"]), "type": str(c.get("type") or "string")} for c in columns], f)

    def write_schema_from_dataframe(self, df: Any, dropAndCreate: bool = False) -> None:
        kinds = {"i": "bigint", "u": "bigint", "f": "double", "b": "boolean", "M": "datetimenotz"}
        self.write_schema([{"name": str(n), "type": kinds.get(getattr(t, "kind", "O"), "string")}
                           for n, t in zip(df.columns, df.dtypes, strict=True)])

    def get_writer(self) -> DatasetWriter:
        return DatasetWriter(self)

    def write_with_schema(self, df: Any, dropAndCreate: bool = False) -> None:
        self.write_schema_from_dataframe(df)
        self.write_dataframe(df)

    def write_dataframe(self, df: Any, infer_schema: bool = False, dropAndCreate: bool = False) -> None:
        if infer_schema:
            self.write_schema_from_dataframe(df)
        with self.get_writer() as writer:
            writer.write_dataframe(df)


class Folder:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("dataiku.Folder: managed folder contents are not simulated")


def __getattr__(name: str) -> Any:
    raise NotImplementedError(f"dataiku.{name} is not provided by the DSS simulator's dataiku package")
