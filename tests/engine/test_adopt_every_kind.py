"""Drift and adopt for every project kind the registry holds: a field edited in DSS behind dss-iac's back (through
dataikuapi, as a user in DSS's UI would), adopted, and the next plan is empty. A kind added to the registry without
an edit here fails `test_every_project_kind_has_an_adopt_case`, so a new kind cannot skip adopt."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from dataikuapi import DSSClient

from dataiku_iac import KINDS, AdoptError, Workspace

from .conftest import apply_ok, changes, embedded_workspace

KEY = "ALL"
PROJECT = """\
project:
  key: ALL
  name: Every kind
  description: before
  variables: {standard: {threshold: "0.5"}, local: {scratch: /tmp}}
  permissions:
    - {group: data_team, read_project_content: true}
code_defaults: {python: builtin}
datasets:
  orders: {type: Filesystem, managed: true, connection: filesystem_managed, format: csv, description: before}
  totals: {type: Filesystem, managed: true, connection: filesystem_managed, format: csv}
dataset_metrics:
  orders:
    metrics:
      records: {on_build: true}
    checks:
      enough_rows: {metric: "records:COUNT_RECORDS", min: 1}
managed_folders:
  models: {connection: filesystem_folders, description: before}
recipes:
  sum_orders:
    type: grouping
    inputs: [orders]
    outputs: [totals]
    keys: [customer]
scenarios:
  nightly:
    name: Nightly
    triggers: [{type: temporal, frequency: Daily, hour: 2}]
    steps: [{type: build, items: [totals]}]
zones:
  ingest: {color: "#2ab1ac", items: [orders]}
exposed_objects:
  orders: {to: [OTHER]}
git_libraries:
  utils: {repository: "https://example.com/team/utils.git", checkout: main}
wiki_articles:
  home: {file: ../wiki/home.md, name: Home page}  # its key is not the one its title gives
  runbook: {file: ../wiki/runbook.md, name: Runbook}
"""
OTHER = "project: {key: OTHER, name: Other}\n"
FILES = {"wiki/home.md": "# Welcome\n", "wiki/runbook.md": "Restart the flow.\n"}


def _raw_save(settings: Any, edit: Callable[[dict[str, Any]], None]) -> None:
    edit(settings.get_raw())
    settings.save()


def _project(c: DSSClient) -> None:
    p = c.get_project(KEY)
    p.set_metadata({**p.get_metadata(), "description": "after"})


def _variables(c: DSSClient) -> None:
    p = c.get_project(KEY)
    v = p.get_variables()
    v["standard"]["threshold"] = "0.9"
    p.set_variables(v)


def _permissions(c: DSSClient) -> None:
    p = c.get_project(KEY)
    perms = p.get_permissions()
    perms["permissions"][0]["writeProjectContent"] = True
    p.set_permissions(perms)


def _code_defaults(c: DSSClient) -> None:
    _raw_save(c.get_project(KEY).get_settings(),
              lambda r: r["settings"]["codeEnvs"]["python"].update(mode="INHERIT", useBuiltinEnv=False))


def _dataset(c: DSSClient) -> None:
    _raw_save(c.get_project(KEY).get_dataset("orders").get_settings(), lambda r: r.update(description="after"))


def _dataset_metrics(c: DSSClient) -> None:
    def edit(raw: dict[str, Any]) -> None:
        [check] = [c for c in raw["metricsChecks"]["checks"] if c["id"] == "dssiacrule_enough_rows"]
        check.update(minimum=5.0, maximum=100.0, maximumEnabled=True)
        [records] = [p for p in raw["metrics"]["probes"] if p["type"] == "records"]
        records.update(computeOnBuildMode="NO", configuration={"limit": 10})

    _raw_save(c.get_project(KEY).get_dataset("orders").get_settings(), edit)


def _managed_folder(c: DSSClient) -> None:
    [folder] = c.get_project(KEY).list_managed_folders()
    _raw_save(c.get_project(KEY).get_managed_folder(folder["id"]).get_settings(),
              lambda r: r.update(description="after"))


def _recipe(c: DSSClient) -> None:
    settings = c.get_project(KEY).get_recipe("sum_orders").get_settings()
    settings.get_json_payload()["keys"] = [{"column": "customer"}, {"column": "country"}]
    settings.data["recipe"]["description"] = "after"
    settings.save()


def _scenario(c: DSSClient) -> None:
    settings = c.get_project(KEY).get_scenario("NIGHTLY").get_settings()
    trigger = settings.raw_triggers[0]
    trigger["params"]["hour"] = 5
    settings.raw_triggers.append({"type": "ds_modified", "active": True, "delay": 5,
                                  "params": {"watches": [{"type": "DATASET", "projectKey": KEY, "itemId": "orders",
                                                                      "partitionsSpec": ""}]}})
    settings.save()


def _zone(c: DSSClient) -> None:
    [zone] = [z for z in c.get_project(KEY).get_flow().list_zones() if z.name == "ingest"]
    settings = zone.get_settings()
    settings.color = "#ff0000"
    settings.save()


def _exposed_object(c: DSSClient) -> None:
    def edit(raw: dict[str, Any]) -> None:
        [obj] = raw["exposedObjects"]["objects"]
        obj["rules"].append({"targetProject": "THIRD"})

    _raw_save(c.get_project(KEY).get_settings(), edit)


def _git_library(c: DSSClient) -> None:
    c.get_project(KEY).get_project_git().set_library("utils", "https://example.com/team/utils.git", "src", "v2")


def _wiki_article(c: DSSClient) -> None:
    wiki = c.get_project(KEY).get_wiki()
    [runbook] = [a for a in wiki.list_articles() if a.get_data().get_name() == "Runbook"]
    data = runbook.get_data()
    data.set_name("Run book")
    meta = data.get_metadata()
    meta["tags"] = ["ops"]
    data.set_metadata(meta)
    data.save()
    settings = wiki.get_settings()
    [home] = [a for a in wiki.list_articles() if a.get_data().get_name() == "Home page"]
    settings.move_article_in_taxonomy(runbook.article_id, parent_article_id=home.article_id)
    settings.save()


# Per kind: the edit made in DSS, and the managed fields it drifts.
EDITS: dict[str, tuple[Callable[[DSSClient], None], set[str]]] = {
    "project": (_project, {"description"}),
    "variables": (_variables, {"standard.threshold"}),
    "permissions": (_permissions, {"groups.data_team"}),
    "code_defaults": (_code_defaults, {"python"}),
    "dataset": (_dataset, {"description"}),
    "dataset_metrics": (_dataset_metrics, {"checks.enough_rows.minimum", "checks.enough_rows.maximum",
                                           "checks.enough_rows.maximumEnabled",
                                           "metrics.records.on_build", "metrics.records.configuration.limit"}),
    "managed_folder": (_managed_folder, {"description"}),
    "recipe": (_recipe, {"description", "keys"}),
    "scenario": (_scenario, {"triggers.0.hour", "triggers.1"}),
    "zone": (_zone, {"color"}),
    "exposed_object": (_exposed_object, {"to"}),
    "git_library": (_git_library, {"checkout", "path"}),
    "wiki_article": (_wiki_article, {"name", "parent", "tags"}),
}
PROJECT_KINDS = sorted(name for name, kind in KINDS.items() if not kind.instance_level)


def test_every_project_kind_has_an_adopt_case() -> None:
    assert sorted(EDITS) == PROJECT_KINDS


@pytest.mark.parametrize("kind", PROJECT_KINDS)
def test_an_edit_in_dss_is_adopted_and_the_next_plan_is_empty(kind: str,
                                                               make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"all": PROJECT, "other": OTHER}, files=FILES)
    apply_ok(ws)
    edit, drifted = EDITS[kind]
    edit(ws.connection("dev").client)
    [item] = ws.drift("dev").items
    assert (item.kind, {c.path for c in item.changes}) == (kind, drifted)
    ws.adopt("dev", item)
    if kind == "wiki_article":  # DSS names the parent by its title, the file by its key
        assert "runbook: {file: ../wiki/runbook.md, name: Run book, parent: home, tags: [ops]}" in (
            ws.root / "projects" / "all.yaml").read_text()
    ws = make_workspace()  # the files as adopt left them, read anew
    assert not ws.drift("dev").items and changes(ws) == []


def test_a_reporter_is_adopted_but_never_its_secret(make_workspace: Callable[..., Workspace],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_HOOK", "https://hooks.slack.example/T000/B000/XXXX")
    reporter = '    reporters: [{type: slack, webhook_url: "${env:SLACK_HOOK}", channel: "#data"}]\n'
    ws = make_workspace({"all": PROJECT.replace("    steps: [{type: build, items: [totals]}]\n",
                                                f"    steps: [{{type: build, items: [totals]}}]\n{reporter}"),
                         "other": OTHER}, files=FILES)
    apply_ok(ws)
    settings = ws.connection("dev").client.get_project(KEY).get_scenario("NIGHTLY").get_settings()
    conf = settings.get_raw()["reporters"][0]["messaging"]["configuration"]
    conf["channel"] = "#ops"
    settings.save()
    [item] = ws.drift("dev").items
    ws.adopt("dev", item)
    assert 'channel: "#ops"' in (ws.root / "projects" / "all.yaml").read_text()
    ws = make_workspace()
    assert not ws.drift("dev").items and changes(ws) == []
    # A reporter added in DSS holds a webhook URL: shown masked, and adopt refuses it in one line
    added = copy.deepcopy(settings.get_raw()["reporters"][0])
    added["messaging"]["configuration"]["webhookUrl"] = "https://hooks.slack.example/T000/B000/OTHER"
    settings.get_raw()["reporters"].append(added)
    settings.save()
    [item] = ws.drift("dev").items
    assert [c.path for c in item.changes] == ["reporters.1"]
    with pytest.raises(AdoptError) as refused:
        ws.adopt("dev", item)
    message = str(refused.value)
    assert "sensitive" in message and "OTHER" not in message and "\n" not in message
    assert "${env:SLACK_HOOK}" in (ws.root / "projects" / "all.yaml").read_text()


@pytest.mark.parametrize(("kind", "edit", "field", "why"), [
    ("managed_folder", lambda c: c.get_project(KEY).get_managed_folder(
        c.get_project(KEY).list_managed_folders()[0]["id"]).get_settings(), "name", "never renames"),
    ("zone", None, "name", "never renames"),
])
def test_what_cannot_be_adopted_is_refused_saying_why(kind: str, edit: Any, field: str, why: str,
                                                      make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"all": PROJECT, "other": OTHER}, files=FILES)
    apply_ok(ws)
    client = ws.connection("dev").client
    if kind == "zone":
        [zone] = [z for z in client.get_project(KEY).get_flow().list_zones() if z.name == "ingest"]
        settings = zone.get_settings()
        settings.name = "landing"
        settings.save()
    else:
        _raw_save(edit(client), lambda r: r.update(name="trained"))
    [item] = ws.drift("dev").items
    assert field in {c.path for c in item.changes}
    with pytest.raises(AdoptError) as refused:
        ws.adopt("dev", item)
    assert why in str(refused.value) and "\n" not in str(refused.value)


def test_a_scenario_items_connection_is_adopted_as_its_logical_name(make_workspace: Callable[..., Workspace]) -> None:
    remapped = embedded_workspace({"remap": {"connections": {"warehouse": "filesystem_managed",
                                                             "lake": "filesystem_folders"}}})
    trigger = "{type: sql, connection: warehouse, sql: SELECT 1}"
    ws = make_workspace({"all": PROJECT.replace("connection: filesystem_managed", "connection: warehouse")
                         .replace("connection: filesystem_folders", "connection: lake")
                         .replace("triggers: [{type: temporal, frequency: Daily, hour: 2}]", f"triggers: [{trigger}]"),
                         "other": OTHER}, workspace_yaml=remapped, files=FILES)
    apply_ok(ws)
    settings = ws.connection("dev").client.get_project(KEY).get_scenario("NIGHTLY").get_settings()
    sql = settings.raw_triggers[0]
    sql["params"]["connection"] = "filesystem_folders"
    settings.raw_triggers.append(copy.deepcopy(sql))  # a second one, added in DSS
    settings.save()
    [item] = ws.drift("dev").items
    ws.adopt("dev", item)
    assert ("triggers: [{type: sql, connection: lake, sql: SELECT 1}, {type: sql, connection: lake, sql: "
            "SELECT 1}]") in (ws.root / "projects" / "all.yaml").read_text()
    ws = make_workspace()
    assert not ws.drift("dev").items and changes(ws) == []
