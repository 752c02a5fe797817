"""The instance kinds' two-way shapes: managed fields written into a DSS document read back the same, and the
fields DSS has that dss-iac does not manage survive the write."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from dataiku_iac.resources import code_env, connection, group

names = st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), max_size=4, unique=True).map(sorted)
access = st.one_of(st.just("all"), names)
readable = st.one_of(st.sampled_from(["all", "none"]), names)


@given(usable=access, readable=readable, flags=st.tuples(st.booleans(), st.booleans(), st.booleans()),
       params=st.dictionaries(st.sampled_from(["host", "db", "root", "port"]), st.text(max_size=8), max_size=3),
       kind=st.sampled_from(["PostgreSQL", "S3", "Filesystem", "Redshift"]))
def test_connection_fields_survive_a_write_and_a_read(usable: Any, readable: Any, flags: tuple[bool, bool, bool],
                                                      params: dict[str, str], kind: str) -> None:
    fields = {"type": kind, "description": "d", "params": params, "usable_by": usable, "details_readable_by": readable,
              "allow_write": flags[0], "allow_managed_datasets": flags[1], "allow_managed_folders": flags[2]}
    raw = {"name": "c", "type": connection.DSS_TYPE.get(kind, kind), "params": {"dssOwn": 1}, "maxActivities": 3}
    again = connection.fields_of(connection.merge(raw, fields))
    assert again == {**fields, "params": {"dssOwn": 1, **params}}
    assert raw["maxActivities"] == 3


@given(perms=st.lists(st.sampled_from(sorted(group.PERMISSIONS)), unique=True).map(sorted))
def test_group_permissions_are_exactly_the_flags_set(perms: list[str]) -> None:
    raw = {"name": "g", "description": "", "sourceType": "LOCAL", **{f: True for f in group.PERMISSIONS.values()}}
    assert group.fields_of(group.merge(raw, {"description": "x", "permissions": perms})) == {
        "description": "x", "permissions": perms}
    assert raw["sourceType"] == "LOCAL"


@given(lines=st.lists(st.from_regex(r"[a-z]{1,6}(>=[0-9])?", fullmatch=True), max_size=6))
def test_package_specs_are_sets(lines: list[str]) -> None:
    spec = "\n".join(lines + list(reversed(lines)))
    assert code_env.fields_of({"envLang": "PYTHON", "desc": {"pythonInterpreter": "PYTHON310"},
                               "specPackageList": spec})["packages"] == sorted(set(lines))
    assert code_env.fields_of({"envLang": "PYTHON", "desc": {"pythonInterpreter": "PYTHON310"}})["python"] == "3.10"
