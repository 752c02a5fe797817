"""Git libraries of a project: add, update in place, replace, remove, drift, import."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dataiku_iac import Workspace
from dataiku_iac.errors import ConfigError
from tests.engine.conftest import apply_ok, changes, imported_anew

PROJECT = """\
project: {key: LIBS, name: Libraries}
git_libraries:
  utils:
    repository: https://example.com/team/utils.git
    checkout: main
    path: src
    under: python
  rules: {repository: "https://example.com/team/rules.git", checkout: v1.0, add_to_python_path: false}
"""


def _libraries(ws: Workspace) -> dict[str, dict]:
    git = ws.connection("dev").client.get_project("LIBS").get_project_git()
    return {lib["localTargetPath"]: lib for lib in git.list_libraries()}


def test_add_then_replan_empty_and_update_in_place(make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"libs": PROJECT})
    assert [(s, a) for s, a, _ in changes(ws)] == [("+", "project.LIBS"), ("+", "git_library.LIBS.rules"),
                                                  ("+", "git_library.LIBS.utils")]
    apply_ok(ws)
    assert changes(ws) == []
    libs = _libraries(ws)
    assert sorted(libs) == ["python/utils", "rules"]
    utils = libs["python/utils"]
    assert (utils["repository"], utils["checkout"], utils["pathInGitRepository"], utils["addToPythonPath"]) == (
        "https://example.com/team/utils.git", "main", "src", True)
    assert libs["rules"]["addToPythonPath"] is False
    ws = make_workspace({"libs": PROJECT.replace("checkout: main", "checkout: v2.1")})
    assert changes(ws) == [("~", "git_library.LIBS.utils", ["checkout"])]
    apply_ok(ws)
    assert _libraries(ws)["python/utils"]["checkout"] == "v2.1" and changes(ws) == []


def test_moving_it_is_a_replace_and_removing_it_a_delete(make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"libs": PROJECT})
    apply_ok(ws)
    ws = make_workspace({"libs": PROJECT.replace("under: python", "under: python/vendor")})
    [action] = ws.plan("dev").changes
    assert (action.symbol, str(action.address)) == ("-/+", "git_library.LIBS.utils")
    apply_ok(ws)
    assert sorted(_libraries(ws)) == ["python/vendor/utils", "rules"] and changes(ws) == []
    ws = make_workspace({"libs": PROJECT.split("git_libraries:")[0]})
    assert {(s, a) for s, a, _ in changes(ws)} == {("-", "git_library.LIBS.rules"), ("-", "git_library.LIBS.utils")}
    apply_ok(ws)
    assert _libraries(ws) == {} and changes(ws) == []


def test_a_hand_edit_is_drift_and_is_restored(make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"libs": PROJECT})
    apply_ok(ws)
    git = ws.connection("dev").client.get_project("LIBS").get_project_git()
    git.set_library("python/utils", "https://example.com/fork/utils.git", "src", "main")
    [item] = ws.drift("dev").items
    assert (item.address, [(c.path, c.after) for c in item.changes]) == (
        "git_library.LIBS.utils", [("repository", "https://example.com/fork/utils.git")])
    apply_ok(ws)
    assert _libraries(ws)["python/utils"]["repository"] == "https://example.com/team/utils.git"
    assert not ws.drift("dev").has_drift


def test_import_writes_them_and_replans_empty(make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"libs": PROJECT})
    apply_ok(ws)
    git = ws.connection("dev").client.get_project("LIBS").get_project_git()
    git.add_library("https://example.com/team/extra.git", "R/extra", "main", as_type="object").wait_for_result()
    assert [u.address for u in ws.plan("dev").unmanaged] == ["git_library.LIBS.extra"]
    text = imported_anew(ws, "LIBS")
    assert ("  utils:\n    repository: https://example.com/team/utils.git\n    checkout: main\n    path: src\n"
            "    under: python\n") in text, text
    assert "  rules:\n    repository: https://example.com/team/rules.git\n    checkout: v1.0\n" \
           "    add_to_python_path: false\n" in text
    ws = make_workspace()
    assert changes(ws) == [] and not ws.plan("dev").unmanaged


@pytest.mark.parametrize(("bad", "where"), [("under: python", "under: ../outside"), ("checkout: main", "checkout: ''")])
def test_bad_input_is_one_line_at_its_place(make_workspace: Callable[..., Workspace], bad: str, where: str) -> None:
    with pytest.raises(ConfigError) as e:
        make_workspace({"libs": PROJECT.replace(bad, where)})
    rendered = e.value.render()
    assert rendered.startswith("projects/libs.yaml:") and len(rendered.splitlines()) == 1, rendered


def test_adopting_a_checkout_changed_in_dss(make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"libs": PROJECT})
    apply_ok(ws)
    git = ws.connection("dev").client.get_project("LIBS").get_project_git()
    git.set_library("python/utils", "https://example.com/team/utils.git", "src", "hotfix")
    [item] = ws.drift("dev").items
    ws.adopt("dev", item)
    assert "    checkout: hotfix\n" in (ws.root / "projects" / "libs.yaml").read_text()
    assert not ws.drift("dev").items and changes(ws) == []
