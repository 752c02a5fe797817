"""Wiki articles from Markdown files: create, update, move, drift when edited in DSS, import, bad input."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dataiku_iac import Workspace
from dataiku_iac.errors import ConfigError
from tests.engine.conftest import apply_ok, changes, run_import

PROJECT = """\
project: {key: DOCS, name: Documented}
wiki_articles:
  home: {file: ../wiki/home.md, name: Home}
  runbook: {file: ../wiki/runbook.md, parent: home, tags: [ops]}
"""
FILES = {"wiki/home.md": "# Welcome\n\nStart here.\n", "wiki/runbook.md": "Restart the flow.\n"}


def _articles(ws: Workspace) -> dict[str, str]:
    wiki = ws.connection("dev").client.get_project("DOCS").get_wiki()
    return {a.get_data().get_name(): a.get_data().get_body() for a in wiki.list_articles()}


def _taxonomy(ws: Workspace) -> list:
    return ws.connection("dev").client.get_project("DOCS").get_wiki().get_settings().get_taxonomy()


def test_articles_are_made_from_the_files_then_replan_is_empty(make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"docs": PROJECT}, files=FILES)
    assert [a for _, a, _ in changes(ws)] == ["project.DOCS", "wiki_article.DOCS.home", "wiki_article.DOCS.runbook"]
    apply_ok(ws)
    assert _articles(ws) == {"Home": "# Welcome\n\nStart here.\n", "runbook":
                             "Restart the flow.\n"}
    [home] = _taxonomy(ws)
    assert len(home["children"]) == 1
    assert changes(ws) == []


def test_a_file_change_updates_and_a_new_parent_moves(make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"docs": PROJECT}, files=FILES)
    apply_ok(ws)
    ws = make_workspace({"docs": PROJECT.replace(", parent: home", "")},
                        files={"wiki/runbook.md": "Restart the flow, then the scenario.\n"})
    assert changes(ws) == [("~", "wiki_article.DOCS.runbook", ["body", "parent"])]
    apply_ok(ws)
    assert _articles(ws)["runbook"] == "Restart the flow, then the scenario.\n"
    assert [node["children"] for node in _taxonomy(ws)] == [[], []]
    assert changes(ws) == []


def test_an_edit_in_dss_is_drift_and_is_restored(make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"docs": PROJECT}, files=FILES)
    apply_ok(ws)
    data = ws.connection("dev").client.get_project("DOCS").get_wiki().get_article("Home").get_data()
    data.set_body("# Welcome\n\nEdited in DSS.\n")
    data.save()
    [item] = ws.drift("dev").items
    assert (item.address, [(c.path, c.after) for c in item.changes]) == (
        "wiki_article.DOCS.home", [("body", "# Welcome\n\nEdited in DSS.\n")])
    apply_ok(ws)
    assert _articles(ws)["Home"] == "# Welcome\n\nStart here.\n" and not ws.drift("dev").has_drift


def test_an_article_made_in_dss_is_imported_as_a_markdown_file(make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"docs": PROJECT}, files=FILES)
    apply_ok(ws)
    wiki = ws.connection("dev").client.get_project("DOCS").get_wiki()
    wiki.create_article("Team notes", parent_id=wiki.get_article("Home").article_id, content="- on call: ana\n")
    assert [u.address for u in ws.plan("dev").unmanaged] == ["wiki_article.DOCS.team_notes"]
    run_import(ws, "DOCS")
    text = (ws.root / "projects" / "docs.yaml").read_text()
    assert "  team_notes:\n    file: ../wiki/docs/team_notes.md\n    name: Team notes\n    parent: home\n" in text
    assert (ws.root / "wiki" / "docs" / "team_notes.md").read_text() == "- on call: ana\n"
    ws = make_workspace()
    assert changes(ws) == [] and not ws.plan("dev").unmanaged
    # a whole new project file: every article, each in its file
    (ws.root / "projects" / "docs.yaml").unlink()
    (ws.root / "wiki" / "docs" / "team_notes.md").unlink()
    run_import(ws, "DOCS")
    assert (ws.root / "wiki" / "docs" / "home.md").read_text() == "# Welcome\n\nStart here.\n"
    assert changes(make_workspace()) == []


@pytest.mark.parametrize(("project", "message"), [
    (PROJECT.replace("../wiki/runbook.md", "../wiki/missing.md"),
     "projects/docs.yaml:4:19: file '../wiki/missing.md' not found"),
    (PROJECT.replace("parent: home", "parent: hom"),
     "projects/docs.yaml:4:47: wiki article 'runbook': its parent 'hom' is no article of this file"),
    (PROJECT.replace("name: Home}", "name: Home, parent: runbook}"),
     "projects/docs.yaml:3:53: wiki article 'home' is under itself: home -> runbook -> home"),
    (PROJECT.replace("name: Home", "name: runbook"),
     "wiki articles 'home' and 'runbook' have the same title"),
])
def test_bad_input_is_one_line_at_its_place(make_workspace: Callable[..., Workspace], project: str,
                                            message: str) -> None:
    with pytest.raises(ConfigError) as e:
        make_workspace({"docs": project}, files=FILES)
    rendered = e.value.render()
    assert message in rendered and rendered.startswith("projects/docs.yaml:") and len(rendered.splitlines()) == 1, \
        rendered


def test_adopting_tags_and_a_body_edit(make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"docs": PROJECT}, files=FILES)
    apply_ok(ws)
    data = ws.connection("dev").client.get_project("DOCS").get_wiki().get_article("runbook").get_data()
    meta = data.get_metadata()
    meta["tags"] = ["ops", "oncall"]
    data.set_metadata(meta)
    data.save()
    [item] = ws.drift("dev").items
    ws.adopt("dev", item)
    assert "tags: [oncall, ops]" in (ws.root / "projects" / "docs.yaml").read_text()
    assert not ws.drift("dev").items
    data = ws.connection("dev").client.get_project("DOCS").get_wiki().get_article("runbook").get_data()
    data.set_body("Edited.\n")
    data.save()
    [item] = ws.drift("dev").items
    ws.adopt("dev", item)  # DSS's text written into the Markdown file
    assert (ws.root / "wiki" / "runbook.md").read_text() == "Edited.\n"
    assert not ws.drift("dev").items
