"""Datasets: create (external and managed), no-op re-plan, field updates, drift, replace, remapping."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataiku_iac import Address
from dataiku_iac.errors import ConfigError
from tests.engine.conftest import apply_ok, changes

PROJECT = """\
project: {key: CHURN, name: Churn}
datasets:
  customers_raw:
    type: PostgreSQL
    connection: warehouse
    params: {schema: public, table: customers}
    schema: [{name: id, type: bigint}, {name: email, type: string, comment: contact}]
    tags: [raw, pii, raw]
    description: Customers as loaded
  events:
    type: Filesystem
    connection: filesystem_managed
    params: {path: /landing/events}
    format: csv
    format_params: {separator: ",", parseHeaderRow: true}
  customers_clean: {type: Filesystem, managed: true, connection: filesystem_managed, format: parquet}
"""

WORKSPACE = """\
version: 1
environments:
  dev: {host: embedded, remap: {connections: {warehouse: pg_dev, filesystem_managed: filesystem_managed}}}
"""


def _workspace(make_workspace: Any, project: str = PROJECT, workspace_yaml: str = WORKSPACE) -> Any:
    ws = make_workspace({"churn": project}, workspace_yaml=workspace_yaml)
    for env in ws.environments:
        client = ws.connection(env).client
        for name in ("pg_dev", "pg_prod"):
            if name not in client.list_connections():
                client.create_connection(name, "PostgreSQL", {"host": "db", "defaultSchema": "managed"})
    return ws


def _raw(ws: Any, name: str, env: str = "dev") -> dict[str, Any]:
    return ws.connection(env).client.get_project("CHURN").get_dataset(name).get_settings().get_raw()


def test_fresh_apply_creates_datasets_and_replan_is_empty(make_workspace) -> None:
    ws = _workspace(make_workspace)
    plan = ws.plan("dev")
    created = [str(a.address) for a in plan.actions if a.kind == "dataset"]
    assert created == ["dataset.CHURN.customers_clean", "dataset.CHURN.customers_raw", "dataset.CHURN.events"]
    (raw_action,) = [a for a in plan.actions if str(a.address) == "dataset.CHURN.customers_raw"]
    assert raw_action.notes == {"connection": "warehouse -> pg_dev"}
    assert raw_action.depends_on == (Address("project", "CHURN"),)
    apply_ok(ws)
    assert changes(ws) == []

    raw = _raw(ws, "customers_raw")
    assert raw["type"] == "PostgreSQL" and raw["managed"] is False
    assert raw["params"] == {"connection": "pg_dev", "schema": "public", "table": "customers", "mode": "table"}
    assert raw["schema"]["columns"] == [{"name": "id", "type": "bigint"},
                                        {"name": "email", "type": "string", "comment": "contact"}]
    assert raw["tags"] == ["pii", "raw"] and raw["description"] == "Customers as loaded"

    events = _raw(ws, "events")
    assert events["params"]["path"] == "/landing/events" and events["formatType"] == "csv"
    assert events["formatParams"] == {"separator": ",", "parseHeaderRow": True}

    clean = _raw(ws, "customers_clean")
    assert clean["managed"] is True and clean["type"] == "Filesystem"
    # DSS chose the storage path and the parquet preset; the config does not restate them.
    assert clean["params"]["path"] == "${projectKey}/customers_clean"
    assert clean["formatType"] == "parquet" and clean["formatParams"]["parquetCompressionMethod"] == "SNAPPY"


def test_one_field_change_is_one_update_naming_it(make_workspace) -> None:
    ws = _workspace(make_workspace)
    apply_ok(ws)
    v2 = PROJECT.replace("table: customers", "table: customers_v2")
    ws = _workspace(make_workspace, v2)
    assert changes(ws) == [("~", "dataset.CHURN.customers_raw", ["params.table"])]
    apply_ok(ws)
    assert _raw(ws, "customers_raw")["params"]["table"] == "customers_v2"
    assert changes(ws) == []

    ws = _workspace(make_workspace, v2.replace("format: parquet}", "format: parquet, tags: [gold]}"))
    assert changes(ws) == [("~", "dataset.CHURN.customers_clean", ["tags"])]
    apply_ok(ws)
    assert changes(ws) == []


def test_schema_change_keeps_what_dss_knows_about_columns(make_workspace) -> None:
    ws = _workspace(make_workspace)
    apply_ok(ws)
    dataset = ws.connection("dev").client.get_project("CHURN").get_dataset("customers_raw")
    s = dataset.get_settings()
    s.get_raw()["schema"]["columns"][1]["maxLength"] = 320  # DSS-side detail the config does not model
    s.save()
    assert changes(ws) == []
    ws = _workspace(make_workspace, PROJECT.replace("comment: contact}", "comment: contact}, {name: age, type: int}"))
    assert changes(ws) == [("~", "dataset.CHURN.customers_raw", ["schema"])]
    apply_ok(ws)
    assert _raw(ws, "customers_raw")["schema"]["columns"] == [
        {"name": "id", "type": "bigint"}, {"name": "email", "type": "string", "comment": "contact", "maxLength": 320},
        {"name": "age", "type": "int"}]
    assert changes(ws) == []


def test_out_of_band_edit_is_drift_and_is_restored(make_workspace) -> None:
    ws = _workspace(make_workspace)
    apply_ok(ws)
    dataset = ws.connection("dev").client.get_project("CHURN").get_dataset("events")
    s = dataset.get_settings()
    s.get_raw()["params"]["path"] = "/elsewhere"
    s.get_raw()["formatParams"]["separator"] = ";"
    s.get_raw()["tags"] = ["by_hand"]
    s.save()
    report = ws.drift("dev")
    assert [(i.address, sorted(c.path for c in i.changes)) for i in report.items] == [
        ("dataset.CHURN.events", ["format_params.separator", "params.path", "tags"])]
    (action,) = ws.plan("dev").changes
    assert action.reason == "changed outside dss-iac"
    apply_ok(ws)
    raw = dataset.get_settings().get_raw()
    assert raw["params"]["path"] == "/landing/events" and raw["formatParams"]["separator"] == ","
    assert raw["tags"] == []
    assert not ws.drift("dev").has_drift


def test_keys_dss_adds_to_open_maps_are_not_drift(make_workspace) -> None:
    ws = _workspace(make_workspace)
    apply_ok(ws)
    dataset = ws.connection("dev").client.get_project("CHURN").get_dataset("events")
    s = dataset.get_settings()
    s.get_raw()["params"]["filesSelectionRules"] = {"mode": "ALL"}
    s.get_raw()["formatParams"]["charset"] = "utf8"
    s.save()
    assert changes(ws) == []
    assert not ws.drift("dev").has_drift


def test_a_key_dropped_from_an_open_map_is_removed_and_a_null_is_kept(make_workspace) -> None:
    ws = _workspace(make_workspace)
    apply_ok(ws)
    dropped = PROJECT.replace("params: {path: /landing/events}", "params: {path: /landing/events, k: null}")
    dropped = dropped.replace(', parseHeaderRow: true}', "}")
    ws = _workspace(make_workspace, dropped)
    (action,) = ws.plan("dev").changes
    assert sorted((c.path, c.before, c.after) for c in action.changes) == [
        ("format_params.parseHeaderRow", True, None), ("params.k", None, None)]
    apply_ok(ws)
    raw = _raw(ws, "events")
    assert raw["formatParams"] == {"separator": ","}
    assert raw["params"] == {"connection": "filesystem_managed", "path": "/landing/events", "k": None}
    assert changes(ws) == []


def test_unmodelled_fields_survive_an_update(make_workspace) -> None:
    ws = _workspace(make_workspace)
    apply_ok(ws)
    dataset = ws.connection("dev").client.get_project("CHURN").get_dataset("customers_clean")
    s = dataset.get_settings()
    s.get_raw()["shortDesc"] = "sentinel"
    s.get_raw()["customFields"] = {"owner": "sentinel"}
    s.get_raw()["params"]["sentinel"] = 42
    s.save()
    ws = _workspace(make_workspace, PROJECT.replace("format: parquet}", "format: parquet, description: gold}"))
    assert changes(ws) == [("~", "dataset.CHURN.customers_clean", ["description"])]
    apply_ok(ws)
    raw = _raw(ws, "customers_clean")  # a reloaded workspace: a new client on the same DSS
    assert raw["description"] == "gold"
    assert raw["shortDesc"] == "sentinel" and raw["customFields"] == {"owner": "sentinel"}
    assert raw["params"]["sentinel"] == 42 and raw["params"]["path"] == "${projectKey}/customers_clean"


def test_type_or_managed_change_is_a_replace(make_workspace) -> None:
    ws = _workspace(make_workspace)
    apply_ok(ws)
    # A Snowflake dataset needs a Snowflake connection: the plan refuses one on the PostgreSQL warehouse.
    snowflake = PROJECT.replace("type: PostgreSQL\n    connection: warehouse", "type: Snowflake\n    connection: sf")
    ws.connection("dev").client.create_connection("sf", "Snowflake", {"host": "acme.snowflakecomputing.com"})
    with_sf = WORKSPACE.replace("{warehouse: pg_dev,", "{warehouse: pg_dev, sf: sf,")
    ws = _workspace(make_workspace, snowflake, with_sf)
    plan = ws.plan("dev")
    (action,) = plan.changes
    assert (action.symbol, str(action.address), action.reason) == (
        "-/+", "dataset.CHURN.customers_raw", "type cannot change in place")
    apply_ok(ws)
    assert _raw(ws, "customers_raw")["type"] == "Snowflake"
    assert changes(ws) == []

    ws = _workspace(make_workspace, workspace_yaml=with_sf, project=snowflake.replace(
        "customers_clean: {type: Filesystem, managed: true,", "customers_clean: {type: Filesystem, managed: false,"))
    assert [(s, a) for s, a, _ in changes(ws)] == [("-/+", "dataset.CHURN.customers_clean")]
    apply_ok(ws)
    raw = _raw(ws, "customers_clean")
    assert raw["managed"] is False and "path" not in raw["params"]
    assert changes(ws) == []


def test_removing_a_dataset_deletes_it_keeping_the_data(make_workspace) -> None:
    ws = _workspace(make_workspace)
    apply_ok(ws)
    without = PROJECT.split("  customers_clean:")[0]
    ws = _workspace(make_workspace, without)
    plan = ws.plan("dev")
    assert [(a.symbol, str(a.address), a.reason) for a in plan.changes] == [
        ("-", "dataset.CHURN.customers_clean", "removed from the config")]
    apply_ok(ws)
    names = [d["name"] for d in ws.connection("dev").client.get_project("CHURN").list_datasets()]
    assert names == ["customers_raw", "events"]
    assert "dataset.CHURN.customers_clean" not in ws.state("dev").resources
    assert changes(ws) == []


def test_dataset_deleted_by_hand_is_drift_and_recreated(make_workspace) -> None:
    ws = _workspace(make_workspace)
    apply_ok(ws)
    ws.connection("dev").client.get_project("CHURN").get_dataset("events").delete()
    assert [(i.address, i.status) for i in ws.drift("dev").items] == [("dataset.CHURN.events", "deleted")]
    apply_ok(ws)
    assert _raw(ws, "events")["params"]["path"] == "/landing/events"
    assert changes(ws) == []


def test_dataset_made_by_hand_is_adopted_not_duplicated(make_workspace) -> None:
    ws = _workspace(make_workspace)
    client = ws.connection("dev").client
    client.create_project("CHURN", "Churn", "admin")
    client.get_project("CHURN").create_dataset("events", "Filesystem",
                                               params={"connection": "filesystem_managed", "path": "/old"})
    plan = ws.plan("dev")
    (action,) = [a for a in plan.actions if str(a.address) == "dataset.CHURN.events"]
    assert action.symbol == "~" and action.reason == "exists in DSS but not in state: adopted"
    assert {c.path for c in action.changes} == {"params.path", "format", "format_params.separator",
                                                "format_params.parseHeaderRow"}
    apply_ok(ws)
    assert _raw(ws, "events")["params"]["path"] == "/landing/events"
    assert changes(ws) == []


def test_connections_are_remapped_per_environment(make_workspace) -> None:
    two_envs = """\
        version: 1
        environments:
          dev: {host: embedded, remap: {connections: {warehouse: pg_dev, storage: filesystem_managed,
                                                      filesystem_managed: filesystem_managed}}}
          prod: {host: embedded, node: prod, remap: {connections: {warehouse: pg_prod, storage: filesystem_managed,
                                                                  filesystem_managed: filesystem_managed}}}
        """
    project = PROJECT.replace("connection: filesystem_managed, format", "connection: storage, format")
    ws = _workspace(make_workspace, project, two_envs)
    apply_ok(ws, "dev")
    apply_ok(ws, "prod")
    assert _raw(ws, "customers_raw", "dev")["params"]["connection"] == "pg_dev"
    assert _raw(ws, "customers_raw", "prod")["params"]["connection"] == "pg_prod"
    assert _raw(ws, "customers_clean", "prod")["params"]["connection"] == "filesystem_managed"
    assert changes(ws, "dev") == [] and changes(ws, "prod") == []
    # A change of prod's mapping is a change in prod only.
    ws = _workspace(make_workspace, project, two_envs.replace("pg_prod", "pg_dev"))
    assert changes(ws, "dev") == []
    plan = ws.plan("prod")
    (action,) = plan.changes
    assert str(action.address) == "dataset.CHURN.customers_raw"
    assert action.notes == {"connection": "warehouse -> pg_dev"}
    assert [(c.path, c.before, c.after) for c in action.changes] == [("connection", "pg_prod", "pg_dev")]


def test_connection_written_in_params_is_the_connection_field(make_workspace) -> None:
    project = PROJECT.replace("connection: warehouse\n    params: {schema: public,",
                              "params: {connection: warehouse, schema: public,")
    ws = _workspace(make_workspace, project)
    apply_ok(ws)
    assert _raw(ws, "customers_raw")["params"]["connection"] == "pg_dev"
    assert changes(ws) == []


def test_managed_dataset_without_connection_is_a_config_error(make_workspace) -> None:
    ws = _workspace(make_workspace, PROJECT.replace("managed: true, connection: filesystem_managed,", "managed: true,"))
    with pytest.raises(ConfigError, match="managed dataset needs a `connection`"):
        ws.plan("dev")


_text = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ABC_-.0123456789éß", max_size=12)
_key = st.text(alphabet="abcdefghij_", min_size=1, max_size=6).map(lambda k: f"k_{k}")
_value = st.one_of(_text, st.integers(-10**6, 10**6), st.booleans(), st.none(),
                   st.lists(st.integers(0, 9), max_size=3))
_columns = st.lists(st.tuples(st.text(alphabet="abcdefgh_", min_size=1, max_size=6),
                              st.sampled_from(["string", "bigint", "int", "double", "boolean", "date"]), _text),
                    max_size=5, unique_by=lambda c: c[0])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.dictionaries(_key, _value, max_size=4), format_params=st.dictionaries(_key, _value, max_size=3),
       tags=st.lists(_text, max_size=4), columns=_columns, description=_text, managed=st.booleans())
def test_any_dataset_config_replans_empty_after_apply(make_workspace, params: dict[str, Any],
                                                      format_params: dict[str, Any], tags: list[str],
                                                      columns: list[tuple[str, str, str]], description: str,
                                                      managed: bool) -> None:
    dataset = {"type": "Filesystem", "managed": managed, "connection": "filesystem_managed", "params": params,
               "format": "csv", "format_params": format_params, "tags": tags, "description": description,
               "schema": [{"name": n, "type": t, "comment": c} for n, t, c in columns]}
    project = json.dumps({"project": {"key": "CHURN", "name": "Churn"}, "datasets": {"ds": dataset}})
    ws = make_workspace({"churn": project})
    apply_ok(ws)
    assert changes(ws) == []
    raw = _raw(ws, "ds")
    assert {k: raw["params"][k] for k in params} == params
    assert raw["tags"] == sorted(set(tags)) and raw["description"] == description
