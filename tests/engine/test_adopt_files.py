"""Adopting drift in text the configuration keeps in files: a code recipe's code, a Python scenario's script, a
Python step's code and a wiki article's Markdown, edited in DSS, are written back into the repository files the
project file names; the drift is then gone and the plan empty. A file changed on disk meanwhile is not
overwritten."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dataiku_iac import Workspace
from dataiku_iac.errors import ConfigError
from tests.engine.conftest import apply_ok, changes

PROJECT = """\
project: {key: CODE, name: Code in files}
datasets:
  src: {type: Filesystem, connection: filesystem_managed, params: {path: /src}}
  out: {type: Filesystem, connection: filesystem_managed, params: {path: /out}}
recipes:
  compute: {type: python, inputs: [src], outputs: [out], code: ../code/compute.py}  # the recipe
scenarios:
  weekly: {type: python, code: ../code/weekly.py}
  nightly:
    steps:
      - {type: build, items: [out]}
      - {type: python, name: Notify, code: ../code/notify.py}
wiki_articles:
  home: {file: ../wiki/home.md, name: Home}
"""
FILES = {"code/compute.py": "print('v1')\n", "code/weekly.py": "# weekly v1\n", "code/notify.py": "# notify v1\n",
         "wiki/home.md": "# Home\n"}


def _edit_in_dss(ws: Workspace) -> None:
    project = ws.connection("dev").client.get_project("CODE")
    recipe = project.get_recipe("compute").get_settings()
    recipe.set_payload("print('edited in DSS')\n")
    recipe.save()
    weekly = project.get_scenario("WEEKLY").get_settings()
    weekly.code = "# weekly, edited in DSS\n"
    weekly.save()
    nightly = project.get_scenario("NIGHTLY").get_settings()
    nightly.raw_steps[1]["params"]["script"] = "# notify, edited in DSS\n"
    nightly.save()
    article = project.get_wiki().get_article("Home").get_data()
    article.set_body("# Home\n\nWritten in DSS.\n")
    article.save()


def test_code_and_markdown_edited_in_dss_are_adopted_into_their_files(
        make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"code": PROJECT}, files=FILES)
    apply_ok(ws)
    _edit_in_dss(ws)
    items = {i.address: i for i in ws.drift("dev").items}
    assert {a: [c.path for c in i.changes] for a, i in items.items()} == {
        "recipe.CODE.compute": ["code"], "scenario.CODE.weekly": ["code"], "scenario.CODE.nightly": ["steps.1.code"],
        "wiki_article.CODE.home": ["body"]}
    edits = ws.adopt_edits("dev", items["recipe.CODE.compute"])
    assert [e.describe() for e in edits] == [
        "code/compute.py: the whole file, as DSS has recipe.CODE.compute: code (1 line(s))"]
    for item in items.values():
        ws.adopt("dev", item)
    root = ws.root
    assert (root / "code" / "compute.py").read_text() == "print('edited in DSS')\n"
    assert (root / "code" / "weekly.py").read_text() == "# weekly, edited in DSS\n"
    assert (root / "code" / "notify.py").read_text() == "# notify, edited in DSS\n"
    assert (root / "wiki" / "home.md").read_text() == "# Home\n\nWritten in DSS.\n"
    assert "# the recipe" in (root / "projects" / "code.yaml").read_text()  # the project file is left as it was
    ws = make_workspace()
    assert not ws.drift("dev").items
    assert changes(ws) == []


def test_a_file_changed_on_disk_since_the_drift_was_read_is_not_overwritten(
        make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"code": PROJECT}, files=FILES)
    apply_ok(ws)
    _edit_in_dss(ws)
    item = next(i for i in ws.drift("dev").items if i.address == "recipe.CODE.compute")
    (ws.root / "code" / "compute.py").write_text("print('edited here')\n")
    with pytest.raises(ConfigError) as e:
        ws.adopt("dev", item)
    assert e.value.render().startswith("code/compute.py: changed on disk since the workspace was loaded")
    assert (ws.root / "code" / "compute.py").read_text() == "print('edited here')\n"
