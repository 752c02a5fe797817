"""Where a dataset's files are, and how its CSV files are read and written (DSS's CSV styles).

A Filesystem dataset lives at `<connection root>/<params.path>`, with `${dip.home}` and `${projectKey}`
expanded; an uploaded dataset under `${dip.home}/uploads/<PROJECT>/datasets/<name>` (GUESS: DSS's default
upload location). Every regular file under that folder is part of the dataset, except hidden ones (names
starting with `.` or `_`, such as `_SUCCESS`), read in name order.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from ..errors import SimError, bad_request

csv.field_size_limit(64 * 1024 * 1024)

# Dataset types whose data the simulator holds in files.
FILE_TYPES = frozenset({"Filesystem", "UploadedFiles"})
FORMATS = frozenset({"csv", "parquet"})


class DataError(SimError):
    """Data the simulator cannot read or write: a DSS-style error with the reason."""

    def __init__(self, message: str) -> None:
        super().__init__(400, "exceptions.DataException", message)


@dataclass
class Location:
    """A dataset's storage: its folder, format and schema, as read from its settings."""

    name: str
    folder: Path
    format_type: str
    format_params: dict[str, Any]
    columns: list[dict[str, Any]] = field(default_factory=list)

    def files(self) -> list[Path]:
        if self.folder.is_file():
            return [self.folder]
        if not self.folder.is_dir():
            return []
        found = []
        for dirpath, dirnames, filenames in os.walk(self.folder):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
            found += [Path(dirpath) / f for f in sorted(filenames) if not f.startswith((".", "_"))]
        return found

    def size(self) -> int:
        return sum(f.stat().st_size for f in self.files())


def expand(text: str, dip_home: Path, project_key: str) -> str:
    return text.replace("${dip.home}", str(dip_home)).replace("${projectKey}", project_key)


def _under(root: Path, relative: str, what: str) -> Path:
    """`root/relative`, refused if it would leave `root` (a path with `..`)."""
    root = root.resolve()
    target = (root / relative.lstrip("/")).resolve()
    if target != root and root not in target.parents:
        raise bad_request(f"The path of {what} leaves its connection root")
    return target


def connection_root(connections: dict[str, Any], name: Any, dip_home: Path, project_key: str) -> Path:
    conn = connections.get(name) if isinstance(name, str) else None
    if conn is None:
        raise DataError(f"Connection {name} does not exist")
    if conn.get("type") != "Filesystem":
        raise DataError(f"Connection {name} is of type {conn.get('type')}: the simulator holds data only on "
                        "Filesystem connections")
    root = expand(str((conn.get("params") or {}).get("root") or ""), dip_home, project_key)
    path = Path(root)
    return path if path.is_absolute() else dip_home / path


def locate(doc: dict[str, Any], connections: dict[str, Any], dip_home: Path) -> Location:
    """The storage of a dataset settings document, or a DataError saying why the simulator holds no data for it."""
    name, key, dtype = doc["name"], doc["projectKey"], doc.get("type")
    params = doc.get("params") or {}
    if dtype == "Filesystem":
        root = connection_root(connections, params.get("connection"), dip_home, key)
        folder = _under(root, expand(str(params.get("path") or ""), dip_home, key), f"dataset {name}")
    elif dtype == "UploadedFiles":
        upload = params.get("uploadConnection")
        base = (connection_root(connections, upload, dip_home, key) / key if upload
                else dip_home / "uploads" / key / "datasets")
        folder = _under(base, name, f"dataset {name}")
    else:
        raise DataError(f"Dataset {name} is of type {dtype}: the simulator holds data only for "
                        f"{' and '.join(sorted(FILE_TYPES))} datasets")
    selection = (params.get("filesSelectionRules") or {}).get("mode", "ALL")
    if selection != "ALL":
        raise DataError(f"Dataset {name} selects files with mode {selection}: the simulator reads all files only")
    if (doc.get("partitioning") or {}).get("dimensions"):
        raise DataError(f"Dataset {name} is partitioned: the simulator does not read partitioned datasets")
    format_type = doc.get("formatType") or "csv"
    if format_type not in FORMATS:
        raise DataError(f"Dataset {name} has format {format_type}: the simulator reads csv and parquet only")
    columns = list((doc.get("schema") or {}).get("columns") or [])
    return Location(name, folder, format_type, dict(doc.get("formatParams") or {}), columns)


# -- CSV, the DSS way ---------------------------------------------------------------------------------------

def _dialect(params: dict[str, Any]) -> dict[str, Any]:
    """Python csv options for DSS's CSV styles: excel (quotes doubled), unix (escaped quotes, every value
    quoted on write), escape_only_no_quote (no quotes, separators escaped)."""
    style = params.get("style") or "excel"
    sep = params.get("separator") or ","
    sep = "\t" if sep in ("\\t", "tab") else sep
    if len(sep) != 1:
        raise DataError(f"CSV separator {sep!r} is not a single character")
    quote = params.get("quoteChar") if params.get("quoteChar") is not None else '"'
    escape = params.get("escapeChar") or "\\"
    if style == "escape_only_no_quote" or not quote:
        return {"delimiter": sep, "quoting": csv.QUOTE_NONE, "escapechar": escape, "lineterminator": "\n"}
    if style == "unix":
        return {"delimiter": sep, "quotechar": quote, "escapechar": escape, "doublequote": False,
                "quoting": csv.QUOTE_ALL, "lineterminator": "\n"}
    if style != "excel":
        raise DataError(f"CSV style {style} is not read by the simulator (excel, unix or escape_only_no_quote)")
    return {"delimiter": sep, "quotechar": quote, "doublequote": True, "quoting": csv.QUOTE_MINIMAL,
            "lineterminator": "\n"}


def _open_text(path: Path, params: dict[str, Any], mode: Literal["r", "w"]) -> IO[str]:
    charset = (params.get("charset") or "utf8").replace("utf8", "utf-8")
    compress = params.get("compress") or ""
    binary: Literal["rb", "wb"] = "rb" if mode == "r" else "wb"
    if compress == "gz" or (mode == "r" and path.suffix == ".gz"):
        return io.TextIOWrapper(gzip.GzipFile(path, binary), encoding=charset, newline="")
    if compress == "bz2" or (mode == "r" and path.suffix == ".bz2"):
        return io.TextIOWrapper(bz2.BZ2File(path, binary), encoding=charset, newline="")
    if compress:
        raise DataError(f"Compression {compress} is not handled by the simulator (none, gz or bz2)")
    return open(path, mode, encoding=charset, newline="")


def csv_header(location: Location) -> list[str]:
    """The header of the first file (for schema detection)."""
    for path in location.files():
        for header, _ in _csv_file(path, location.format_params):
            if header:
                return header
    return []


def _csv_file(path: Path, params: dict[str, Any]) -> Iterator[tuple[list[str], list[str]]]:
    """(header, row) for each data row of one file (header is [] without a header row)."""
    dialect = _dialect(params)
    write_only = {"lineterminator"}
    read_opts = {k: v for k, v in dialect.items() if k not in write_only}
    if read_opts.get("quoting") == csv.QUOTE_ALL:
        read_opts["quoting"] = csv.QUOTE_MINIMAL
    try:
        with _open_text(path, params, "r") as f:
            reader = csv.reader(f, **read_opts)
            for _ in range(int(params.get("skipRowsBeforeHeader") or 0)):
                next(reader, None)
            header: list[str] = []
            if params.get("parseHeaderRow"):
                header = next(reader, [])
            for _ in range(int(params.get("skipRowsAfterHeader") or 0)):
                next(reader, None)
            for row in reader:
                yield header, row  # [] for a blank line: the caller knows whether that is a row
    except (UnicodeDecodeError, csv.Error, OSError, EOFError) as e:
        raise DataError(f"Cannot read {path.name}: {e}") from None


def read_csv_rows(location: Location, width: int) -> Iterator[list[str | None]]:
    """Every row of every file, cut or padded to `width` cells; empty cells are None (DSS: empty is null)."""
    for path in location.files():
        for _, row in _csv_file(path, location.format_params):
            if not row and width > 1:
                continue  # a blank line; in a one-column dataset it is a row with an empty value
            cells: list[str | None] = [c if c != "" else None for c in row[:width]]
            yield cells + [None] * (width - len(cells))


def write_csv(path: Path, params: dict[str, Any], header: list[str], rows: Iterable[Iterable[str | None]]) -> None:
    dialect = _dialect(params)
    with _open_text(path, params, "w") as f:
        writer = csv.writer(f, **dialect)
        if params.get("parseHeaderRow"):
            writer.writerow(header)
        for row in rows:
            cells = ["" if v is None else v for v in row]
            if cells == [""] and dialect["quoting"] == csv.QUOTE_NONE:
                f.write("\n")  # csv refuses a lone empty field without quotes: DSS writes an empty line
            else:
                writer.writerow(cells)


def output_file(location: Location, index: int = 0) -> Path:
    """The name DSS gives a written file: `out-s0.csv` (`.csv.gz` when compressed), `part-r-00000.parquet`."""
    if location.format_type == "parquet":
        return location.folder / f"part-r-{index:05d}.parquet"
    suffix = {"gz": ".csv.gz", "bz2": ".csv.bz2"}.get(location.format_params.get("compress") or "", ".csv")
    return location.folder / f"out-s{index}{suffix}"


def clear(location: Location) -> None:
    """Remove the dataset's files (keep the folder)."""
    for path in location.files():
        path.unlink()
