"""Dataset data through dataikuapi: uploads, format detection, iter_rows, clear, build info, file round trips."""

from __future__ import annotations

import uuid

import pytest
from dataikuapi.dss.project import DSSProject
from dataikuapi.utils import DataikuException
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.conftest import AGAINST_REAL_DSS
from tests.contract.data_helpers import build, recipe, rows, upload

ORDERS = "id,customer,amount,paid\n1,alice,2.5,true\n2,\"bob, jr\",3,false\n3,,4.25,true\n"


def test_upload_detects_format_and_types_and_rows_come_back_typed(project: DSSProject) -> None:
    orders = upload(project, "orders", ORDERS)
    assert [f["path"] for f in orders.uploaded_list_files()] == ["/orders.csv"]
    raw = orders.get_settings().get_raw()
    assert raw["formatType"] == "csv" and raw["formatParams"]["parseHeaderRow"] is True
    assert [(c["name"], c["type"]) for c in raw["schema"]["columns"]] == [
        ("id", "bigint"), ("customer", "string"), ("amount", "double"), ("paid", "boolean")]
    assert rows(project, "orders") == [[1, "alice", 2.5, True], [2, "bob, jr", 3.0, False], [3, "", 4.25, True]]
    assert [r for r in orders.iter_rows(columns=["amount", "id"])] == [[2.5, 1], [3.0, 2], [4.25, 3]]


def test_detection_without_types_reads_strings(project: DSSProject) -> None:
    upload(project, "plain", ORDERS, typed=False)
    assert rows(project, "plain")[0] == ["1", "alice", "2.5", "true"]


def test_unknown_column_is_refused(project: DSSProject) -> None:
    upload(project, "orders", ORDERS)
    with pytest.raises(DataikuException):
        list(project.get_dataset("orders").iter_rows(columns=["nope"]))


def test_built_dataset_has_build_info_and_clear_empties_it(project: DSSProject) -> None:
    upload(project, "orders", ORDERS)
    recipe(project, "sync", ["orders"], "orders_copy")
    copy = project.get_dataset("orders_copy")
    assert copy.get_info().last_build_start_time is None
    _, state = build(project, "orders_copy")
    assert state == "DONE"
    info = copy.get_info()
    assert info.is_last_build_successful and info.last_build_end_time >= info.last_build_start_time
    assert len(rows(project, "orders_copy")) == 3
    copy.clear()
    assert rows(project, "orders_copy") == []


def test_delete_with_drop_data_removes_the_files(project: DSSProject) -> None:
    upload(project, "orders", ORDERS)
    recipe(project, "sync", ["orders"], "orders_copy")
    assert build(project, "orders_copy")[1] == "DONE"
    project.get_dataset("orders_copy").delete(drop_data=True)
    recipe(project, "sync", ["orders"], "orders_copy")  # same name, same path: no old rows left behind
    ds = project.get_dataset("orders_copy")
    settings_ = ds.get_settings()
    settings_.get_raw()["schema"] = {"columns": [{"name": "id", "type": "bigint"}]}
    settings_.save()
    assert rows(project, "orders_copy") == []


@pytest.mark.parametrize("fmt", ["CSV_ESCAPING_NOGZIP_FORHIVE", "CSV_UNIX_GZIP", "CSV_EXCEL_GZIP", "PARQUET_HIVE"])
def test_managed_formats_round_trip(project: DSSProject, fmt: str) -> None:
    upload(project, "orders", ORDERS)
    recipe(project, "sync", ["orders"], "out", fmt=fmt)
    assert build(project, "out")[1] == "DONE"
    assert rows(project, "out") == rows(project, "orders")


TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), max_size=20)


@pytest.mark.skipif(AGAINST_REAL_DSS, reason="many builds: kept to the simulator")
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(TEXT.filter(lambda t: t.strip() == t and t != ""), min_size=1, max_size=5))
@example(values=["0"]).via("a digit is text too")
@example(values=["0\n0"]).via("a line break inside a quoted value")
def test_any_text_survives_upload_build_and_read(project: DSSProject, values: list[str]) -> None:
    """Separators, quotes, backslashes and line breaks in values survive every CSV style the data goes through."""
    body = "k,v\n" + "".join(f'{i},"{v.replace(chr(34), chr(34) * 2)}"\n' for i, v in enumerate(values))
    name = f"src{uuid.uuid4().hex[:8]}"
    upload(project, name, body, typed=False)  # text stays text: inferred storage types would read "0" as 0
    recipe(project, "sync", [name], f"{name}_out")
    assert build(project, f"{name}_out")[1] == "DONE"
    assert [r[1] for r in rows(project, f"{name}_out")] == values
