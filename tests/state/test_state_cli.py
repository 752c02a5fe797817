"""State as a user runs it: history, restore, pull/push between backends, encryption, rollback with --at."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from dataiku_iac.cli.main import main
from tests.engine.conftest import write_workspace

PROJECT = "project: {key: ST, name: State test, variables: {standard: {v: '1'}}}\n"


def run(root: Path, *args: str) -> int:
    return main(["-C", str(root), *args])


def workspace(tmp_path: Path, state: str = "") -> Path:
    return write_workspace(tmp_path, {"st": PROJECT}, workspace_yaml="version: 1\nenvironments:\n"
                           "  dev: {host: embedded}\n" + state)


def bump(root: Path, value: str) -> None:
    (root / "projects" / "st.yaml").write_text(PROJECT.replace("v: '1'", f"v: '{value}'"))


def git_workspace(tmp_path: Path) -> tuple[Path, Any]:
    """The workspace in a new Git repository with a user identity, its files staged."""
    import git

    root = workspace(tmp_path)
    repo = git.Repo.init(root)
    repo.config_writer().set_value("user", "name", "T").set_value("user", "email", "t@example.com").release()
    repo.index.add(["dss-iac.yaml", "projects/st.yaml"])
    return root, repo


def test_history_and_restore(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = workspace(tmp_path, "state: {keep_backups: 3}\n")
    for value in "12345":
        bump(root, value)
        assert run(root, "apply", "-e", "dev", "--yes") == 0
    capsys.readouterr()
    assert run(root, "state", "history", "-e", "dev", "--json") == 0
    history = json.loads(capsys.readouterr().out)
    serials = [h["serial"] for h in history]
    assert len(serials) == 3 and serials == list(range(serials[0], serials[0] + 3))  # keep_backups: the last 3
    assert all(h["who"] and h["when"] for h in history)
    last = serials[-1]
    # A damaged state file names the backup to restore, and restore brings it back.
    (root / ".dss-iac" / "state" / "dev" / "state.json").write_text("{damaged")
    assert run(root, "plan", "-e", "dev") == 1
    err = capsys.readouterr().err
    assert "not valid JSON" in err and f"restore it with `dss-iac state restore -e dev {last}`" in err
    older = next(h for h in reversed(history) if h["serial"] < last)["serial"]
    assert run(root, "state", "restore", "-e", "dev", str(older)) == 0
    assert f"Restored serial {older} of dev as serial {last + 1}" in capsys.readouterr().out
    assert run(root, "state", "show", "-e", "dev", "variables.ST", "--json") == 0
    assert json.loads(capsys.readouterr().out)["fields"]["standard"] != {"v": "5"}
    # The restored serial recorded older values than DSS holds: drift says so.
    assert run(root, "drift", "-e", "dev", "--detailed-exitcode") == 2


def test_history_records_the_workspace_commit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root, repo = git_workspace(tmp_path)
    sha = repo.index.commit("first").hexsha
    assert run(root, "apply", "-e", "dev", "--yes") == 0
    capsys.readouterr()
    assert run(root, "state", "history", "-e", "dev") == 0
    assert sha[:12] in capsys.readouterr().out


def test_pull_then_push_moves_state_to_the_git_backend(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import git

    root = workspace(tmp_path)
    git.Repo.init(root)
    assert run(root, "apply", "-e", "dev", "--yes") == 0
    capsys.readouterr()
    assert run(root, "state", "pull", "-e", "dev") == 0
    (root / "dev.state.json").write_text(capsys.readouterr().out)
    (root / "dss-iac.yaml").write_text("version: 1\nenvironments:\n  dev: {host: embedded}\n"
                                       "state: {backend: git, branch: infra-state}\n")
    assert run(root, "state", "push", "-e", "dev", "dev.state.json") == 0
    capsys.readouterr()
    assert run(root, "state", "list", "-e", "dev") == 0
    assert capsys.readouterr().out.split() == ["project.ST", "variables.ST"]
    assert run(root, "plan", "-e", "dev", "--detailed-exitcode") == 0
    assert "dev/state.json" in git.Repo(root).git.ls_tree("-r", "--name-only", "infra-state")
    # Another history is refused without --force.
    doc = json.loads((root / "dev.state.json").read_text())
    doc["lineage"] = "other"
    from dataiku_iac.state.model import checksum

    doc["checksum"] = checksum(doc)
    (root / "other.json").write_text(json.dumps(doc))
    capsys.readouterr()
    assert run(root, "state", "push", "-e", "dev", "other.json") == 1
    assert "not the same history" in capsys.readouterr().err


def test_encrypt_then_rekey(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    from dataiku_iac.state.crypto import generate_key

    root = workspace(tmp_path)
    assert run(root, "apply", "-e", "dev", "--yes") == 0
    monkeypatch.setenv("STATE_KEY", generate_key())
    (root / "dss-iac.yaml").write_text("version: 1\nenvironments:\n  dev: {host: embedded}\n"
                                       "state: {encryption_key_env: STATE_KEY}\n")
    capsys.readouterr()
    assert run(root, "plan", "-e", "dev") == 1  # plaintext refused once encryption is on
    assert "is not encrypted" in capsys.readouterr().err
    assert run(root, "state", "encrypt", "-e", "dev") == 0
    stored = (root / ".dss-iac" / "state" / "dev" / "state.json").read_bytes()
    assert b"State test" not in stored and b"variables.ST" not in stored
    assert run(root, "plan", "-e", "dev", "--detailed-exitcode") == 0
    monkeypatch.setenv("OLD_KEY", __import__("os").environ["STATE_KEY"])
    monkeypatch.setenv("STATE_KEY", generate_key())
    assert run(root, "state", "rekey", "-e", "dev", "--old-key-env", "OLD_KEY") == 0
    assert run(root, "plan", "-e", "dev", "--detailed-exitcode") == 0
    monkeypatch.setenv("STATE_KEY", __import__("os").environ["OLD_KEY"])
    capsys.readouterr()
    assert run(root, "plan", "-e", "dev") == 1
    assert "key" in capsys.readouterr().err


def test_rollback_with_at(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root, repo = git_workspace(tmp_path)
    repo.index.commit("v1")
    repo.create_tag("v1")
    assert run(root, "apply", "-e", "dev", "--yes") == 0
    bump(root, "2")
    repo.index.add(["projects/st.yaml"])
    repo.index.commit("v2")
    assert run(root, "apply", "-e", "dev", "--yes") == 0
    capsys.readouterr()
    assert run(root, "plan", "-e", "dev", "--at", "v1", "--json") == 0
    plan = json.loads(capsys.readouterr().out)
    changed = [(a["address"], [(c["path"], c["before"], c["after"]) for c in a["changes"]])
               for a in plan["actions"] if a["action"] != "no-op"]
    assert changed == [("variables.ST", [("standard.v", "2", "1")])]
    assert run(root, "apply", "-e", "dev", "--at", "v1", "--yes") == 0
    assert (root / "projects" / "st.yaml").read_text().count("v: '2'") == 1  # the working tree is untouched
    assert run(root, "plan", "-e", "dev", "--at", "v1", "--detailed-exitcode") == 0
    assert run(root, "plan", "-e", "dev", "--at", "no-such-rev") == 3


def serial_in(folder: Path) -> int:
    from dataiku_iac.config.models import StateSettings
    from dataiku_iac.state.backends import open_store

    state = open_store(StateSettings(path=str(folder)), folder.parent, "dev").read()
    assert state is not None
    return state.serial


def test_a_rollback_uses_todays_state_settings_its_saved_plan_applies_and_history_names_the_revision(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root, repo = git_workspace(tmp_path)
    v1 = repo.index.commit("v1").hexsha
    assert run(root, "apply", "-e", "dev", "--yes") == 0
    # Since v1 the state moved to another folder (state pushed there) and the project changed.
    (root / "dss-iac.yaml").write_text((root / "dss-iac.yaml").read_text() + "state: {path: .state-moved}\n")
    shutil.copytree(root / ".dss-iac" / "state", root / ".state-moved")
    shutil.rmtree(root / ".dss-iac" / "state")
    bump(root, "2")
    repo.index.add(["dss-iac.yaml", "projects/st.yaml"])
    repo.index.commit("v2")
    capsys.readouterr()
    assert run(root, "apply", "-e", "dev", "--yes") == 0
    serial_before = serial_in(root / ".state-moved")

    assert run(root, "plan", "-e", "dev", "--at", v1[:10], "--out", "rollback.plan") == 0
    assert "dss-iac apply rollback.plan" in capsys.readouterr().out
    assert run(root, "apply", "rollback.plan") == 0  # no --at needed: the plan names its revision
    assert serial_in(root / ".state-moved") > serial_before  # written where the workspace keeps its state today
    capsys.readouterr()
    assert run(root, "state", "history", "-e", "dev", "--json") == 0
    history = json.loads(capsys.readouterr().out)
    latest = max(history, key=lambda h: h["serial"])
    assert latest["commit"] == v1


def _all_objects(repo: Any) -> dict[str, bytes]:
    """Every object the repository holds, reachable or not, by sha: what `git cat-file` could still show."""
    listing = repo.git.cat_file("--batch-all-objects", "--batch-check=%(objectname) %(objecttype)").splitlines()
    return {sha: repo.odb.stream(bytes.fromhex(sha)).read() for sha, kind in (line.split() for line in listing)
            if kind == "blob"}


def _history_blobs(repo: Any) -> dict[str, bytes]:
    """The state blobs of every commit of the state branch and of its reflog (lease files aside)."""
    listing = repo.git.rev_list("--objects", "dss-iac-state", *repo.git.rev_list("--walk-reflogs", "dss-iac-state",
                                                                                   "--", ".").split()).splitlines()
    paths = dict(line.split(" ", 1) for line in listing if " " in line)
    return {sha: repo.odb.stream(bytes.fromhex(sha)).read() for sha, path in paths.items()
            if path.endswith(".json") and not path.endswith(("lock.json", "history.json"))}


def test_encrypt_on_the_git_backend_leaves_no_plaintext_state_in_the_repository(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from dataiku_iac.state.crypto import generate_key, is_encrypted

    root, repo = git_workspace(tmp_path)
    repo.index.commit("workspace")
    git_state = "state: {backend: git}\n"
    (root / "dss-iac.yaml").write_text((root / "dss-iac.yaml").read_text() + git_state)
    for value in ("1", "2", "3"):  # three serials, each a commit or more of plaintext state
        bump(root, value)
        assert run(root, "apply", "-e", "dev", "--yes") == 0
    plaintext = [sha for sha, data in _all_objects(repo).items() if b'"variables.ST"' in data]
    assert len(plaintext) >= 3
    assert int(repo.git.rev_list("--count", "dss-iac-state")) > 3
    monkeypatch.setenv("STATE_KEY", generate_key())
    (root / "dss-iac.yaml").write_text((root / "dss-iac.yaml").read_text().replace(
        git_state, "state: {backend: git, encryption_key_env: STATE_KEY}\n"))
    capsys.readouterr()
    assert run(root, "state", "encrypt", "-e", "dev") == 0
    out = capsys.readouterr().out
    assert "The state branch was rewritten as one commit" in out
    assert _history_blobs(repo) and all(is_encrypted(data) for data in _history_blobs(repo).values())
    # Neither the branch's history nor any object left in the repository holds plaintext state.
    for sha, data in _all_objects(repo).items():
        assert b'"variables.ST"' not in data and b'"lineage"' not in data, sha
    # The history of serials lives on in the (encrypted) backups, and the state works.
    assert run(root, "state", "history", "-e", "dev", "--json") == 0
    serials = [e["serial"] for e in json.loads(capsys.readouterr().out)]
    assert len(serials) >= 3 and serials == sorted(serials)
    assert run(root, "plan", "-e", "dev", "--detailed-exitcode") == 0
    # A rekey drops the ciphertexts under the old key the same way.
    old_ciphertexts = set(_all_objects(repo))
    monkeypatch.setenv("OLD_KEY", __import__("os").environ["STATE_KEY"])
    monkeypatch.setenv("STATE_KEY", generate_key())
    bump(root, "4")
    assert run(root, "state", "rekey", "-e", "dev", "--old-key-env", "OLD_KEY") == 0
    assert _history_blobs(repo) and not set(_history_blobs(repo)) & old_ciphertexts
    # The user's own branch and files are untouched.
    assert repo.active_branch.name in ("main", "master") and repo.head.commit.message == "workspace"
