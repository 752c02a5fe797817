"""`--at REV`: the workspace as committed at a revision, read from Git without touching the working tree."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import git
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dataiku_iac.config.files import DISK, MAX_FILE_BYTES
from dataiku_iac.config.git_source import GitTreeFiles, load_workspace_at
from dataiku_iac.config.loader import load_workspace
from dataiku_iac.errors import ConfigError
from tests.gitrepos import commit_all, make_repo, snapshot, write

ML = Path(__file__).resolve().parent.parent / "examples" / "ml-pipeline"
WORKSPACE = "version: 1\nenvironments:\n  dev:\n    host: embedded\n"


def project(key: str, name: str) -> str:
    return f"project:\n  key: {key}\n  name: {name}\n"


@pytest.fixture
def ml(tmp_path: Path) -> tuple[git.Repo, Path]:
    """The ml-pipeline example committed at the root of a repository."""
    root = tmp_path / "repo"
    shutil.copytree(ML, root)
    return make_repo(root, files={}), root


def test_the_committed_workspace_not_the_edited_one(ml: tuple[git.Repo, Path]) -> None:
    repo, root = ml
    committed = load_workspace(root)
    sha = repo.head.commit.hexsha
    # Work in progress: an edited project, an edited and a deleted code file, a broken new project file.
    scoring = root / "projects" / "scoring.yaml"
    scoring.write_text(scoring.read_text().replace("name: Churn scoring", "name: Edited"))
    (root / "code" / "scoring" / "score_customers.py").write_text("print('edited')\n")
    (root / "code" / "scoring" / "train_model.py").unlink()
    (root / "projects" / "broken.yaml").write_text("project: [\n")
    with pytest.raises(ConfigError):
        load_workspace(root)
    before = snapshot(repo)

    for rev in ("HEAD~0", sha, sha[:10], "main"):
        at = load_workspace_at(root, rev)
        assert at.root == root.resolve() and at.digest == committed.digest
        assert list(at.projects) == list(committed.projects) == ["FEATURES", "SCORING"]
        for key, source in at.projects.items():
            assert source.spec == committed.projects[key].spec and source.code == committed.projects[key].code
        assert at.projects["SCORING"].file.shown == f"projects/scoring.yaml@{rev}"
        assert at.projects["SCORING"].file.path == scoring.resolve()
        assert at.file.shown == f"dss-iac.yaml@{rev}" and at.spec == committed.spec
    assert snapshot(repo) == before


def test_an_older_revision_found_from_a_sub_folder(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", files={"infra/dss-iac.yaml": WORKSPACE,
                                               "infra/projects/one.yaml": project("ONE", "first")})
    repo.create_tag("v1")
    write(tmp_path / "repo", {"infra/projects/one.yaml": project("ONE", "second"),
                              "infra/projects/two.yaml": project("TWO", "new")})
    commit_all(repo, "second")
    deep = tmp_path / "repo" / "infra" / "projects"
    for rev, names in (("v1", {"ONE": "first"}), ("HEAD~1", {"ONE": "first"}),
                       ("HEAD", {"ONE": "second", "TWO": "new"})):
        at = load_workspace_at(deep, rev)
        assert at.root == (tmp_path / "repo" / "infra").resolve()
        assert {k: p.spec.project.name for k, p in at.projects.items()} == names
        assert at.projects["ONE"].file.shown == f"projects/one.yaml@{rev}"
    shutil.rmtree(tmp_path / "repo" / "infra")  # deleted from the working tree since: still there in Git
    assert load_workspace_at(deep, "v1").projects["ONE"].spec.project.name == "first"


def test_errors_point_into_the_files_at_the_revision(ml: tuple[git.Repo, Path]) -> None:
    repo, root = ml
    scoring = root / "projects" / "scoring.yaml"
    scoring.write_text(scoring.read_text().replace("  key: SCORING\n", "  key: SCORING\n  colour: blue\n"))
    (root / "code" / "features" / "build_features.py").unlink()
    commit_all(repo, "break things")
    shutil.copytree(ML, root, dirs_exist_ok=True)  # the working tree is fine again: the errors come from the commit
    load_workspace(root)
    with pytest.raises(ConfigError) as e:
        load_workspace_at(root, "HEAD")
    lines = str(e.value).splitlines()
    assert any(line.startswith("projects/scoring.yaml@HEAD:7:3: ") and "colour" in line for line in lines), lines
    assert any(line.startswith("projects/features.yaml@HEAD:") and "code file '../code/features/build_features.py'"
               " not found" in line for line in lines), lines


def test_an_unknown_revision_or_no_repository_is_a_one_line_error(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")  # a README only: the workspace comes with the next commit
    write(tmp_path / "repo", {"dss-iac.yaml": WORKSPACE, "projects/one.yaml": project("ONE", "one")})
    commit_all(repo, "workspace")
    root = tmp_path / "repo"
    cases = [("nope", r"unknown Git revision 'nope' in .*: name a commit, branch or tag"),
             ("HEAD~5", r"unknown Git revision 'HEAD~5'"),
             ("--output=/tmp/x", r"unknown Git revision '--output=/tmp/x'"),
             ("HEAD~1", r"^dss-iac.yaml@HEAD~1: no dss-iac.yaml in .* or its parents at revision HEAD~1")]
    for rev, message in cases:
        with pytest.raises(ConfigError, match=message) as e:
            load_workspace_at(root, rev)
        assert "\n" not in str(e.value)
    (tmp_path / "plain").mkdir()
    with pytest.raises(ConfigError, match=r"--at HEAD reads the workspace from Git, but .*plain is not in a Git"):
        load_workspace_at(tmp_path / "plain", "HEAD")


def test_at_a_revision_files_outside_the_workspace_are_refused_too(tmp_path: Path) -> None:
    """The repository holds more than the workspace (a secret beside it, a link): `--at` obeys the same rules."""
    recipe = ("project: {{key: ONE, name: one}}\ndatasets: {{a: {{type: Filesystem}}, b: {{type: Filesystem}}}}\n"
              "recipes: {{r: {{type: python, inputs: [a], outputs: [b], code: {code}}}}}\n")
    repo = make_repo(tmp_path / "repo", files={
        "secret.txt": "CANARY\n", "infra/dss-iac.yaml": WORKSPACE, "infra/code/big.py": "#" * (MAX_FILE_BYTES + 1),
        "infra/projects/one.yaml": recipe.format(code="../../secret.txt"),
        "infra/projects/two.yaml": recipe.format(code="../code/big.py").replace("ONE", "TWO"),
        "infra/projects/three.yaml": recipe.format(code="../code/link.py").replace("ONE", "THREE")})
    (tmp_path / "repo" / "infra" / "code" / "link.py").symlink_to("../code/big.py")
    commit_all(repo, "a workspace with escapes")
    with pytest.raises(ConfigError) as e:
        load_workspace_at(tmp_path / "repo" / "infra", "HEAD")
    assert str(e.value).splitlines() == [
        f"projects/one.yaml@HEAD:3:62: code file '../../secret.txt' is outside the workspace (it leads to "
        f"{(tmp_path / 'repo' / 'secret.txt').resolve()}): code files must be inside the workspace folder",
        "projects/three.yaml@HEAD:3:62: cannot read code file '../code/link.py': is a symbolic link at revision "
        "HEAD, which --at does not follow",
        "projects/two.yaml@HEAD:3:62: code file '../code/big.py' is larger than the limit of 4 MiB"]
    assert "CANARY" not in str(e.value)


def test_windows_line_endings_give_the_same_text_as_on_disk(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    make_repo(root, files={"dss-iac.yaml": WORKSPACE.replace("\n", "\r\n"),
                           "projects/one.yaml": project("ONE", "one").replace("\n", "\r\n")})
    assert load_workspace_at(root, "HEAD").digest == load_workspace(root).digest


NAMES = st.sampled_from(["a", "b", ".h", "x.yaml", "y.yml", ".z.yaml", "q.py", "ab.yaml"])
FILES = st.lists(st.lists(NAMES, min_size=1, max_size=3).map("/".join), min_size=1, max_size=8)
PATTERNS = st.lists(st.lists(st.sampled_from(["*", "**", "a", "b", ".h", "*.yaml", "*.y*ml", "?.yaml", "[xa]*",
                                              "a*", "*.py", "x.yaml"]), min_size=1, max_size=3).map("/".join),
                    min_size=1, max_size=6)


@settings(max_examples=30, deadline=None)
@given(FILES, PATTERNS)
def test_project_globs_match_the_same_files_as_on_disk(paths: list[str], patterns: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        ws.mkdir()
        for path in paths:  # a name taken by a file cannot be a folder as well: skip those
            target = ws / path
            if not any(p.is_file() for p in (ws, *target.parents) if p != ws and p.is_relative_to(ws)) \
                    and not target.is_dir():
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(path)
        repo = make_repo(Path(tmp), files={"README.md": "x\n"})
        files = GitTreeFiles(repo.commit("HEAD").tree, Path(tmp).resolve(), "HEAD")
        for pattern in patterns:
            assert sorted(files.glob(ws.resolve(), pattern)) == sorted(DISK.glob(ws.resolve(), pattern)), pattern
