"""Project libraries, through dataikuapi only: the library's files and folders, and Git libraries."""

from __future__ import annotations

import pytest
from dataikuapi.dss.future import DSSFuture
from dataikuapi.dss.project import DSSProject
from dataikuapi.utils import DataikuException

from tests.conftest import AGAINST_REAL_DSS


def test_files_and_folders_round_trip(project: DSSProject) -> None:
    library = project.get_library()
    folder = library.get_folder("/python") or library.add_folder("python")
    module = folder.add_file("helpers.py")
    module.write("def double(x):\n    return 2 * x\n")
    library = project.get_library()  # a fresh read of the tree
    assert library.get_file("/python/helpers.py").read() == "def double(x):\n    return 2 * x\n"
    assert "helpers.py" in [i.name for i in library.get_folder("/python").list()]
    library.get_folder("/python").add_folder("pkg").add_file("__init__.py").write(b"\x00\xffbin")
    assert project.get_library().get_file("/python/pkg/__init__.py").read(as_type="bytes") == b"\x00\xffbin"


def test_a_file_cannot_be_added_twice(project: DSSProject) -> None:
    folder = project.get_library().add_folder("scripts")
    folder.add_file("run.sh")
    with pytest.raises(DataikuException, match="already exists"):
        project.get_library().get_folder("/scripts").add_file("run.sh")


def test_rename_move_and_delete(project: DSSProject) -> None:
    library = project.get_library()
    src = library.add_folder("src")
    src.add_file("a.py").write("A = 1\n")
    dst = library.add_folder("dst")
    project.get_library().get_file("/src/a.py").rename("b.py")
    project.get_library().get_file("/src/b.py").move_to(project.get_library().get_folder("/dst"))
    library = project.get_library()
    assert library.get_file("/dst/b.py").read() == "A = 1\n" and library.get_file("/src/b.py") is None
    library.get_folder("/dst").delete()
    assert project.get_library().get_folder("/dst") is None
    assert dst.name == "dst"


def test_git_library_add_set_list_remove(project: DSSProject) -> None:
    git = project.get_project_git()
    future = git.add_library("https://example.com/team/utils.git", "python/utils", "main",
                             path_in_git_repository="src", login="bot", password="s3cret", as_type="object")
    assert isinstance(future, DSSFuture)
    future.wait_for_result()
    libs = git.list_libraries()
    assert len(libs) == 1
    lib = libs[0]
    assert (lib["repository"], lib["checkout"], lib["pathInGitRepository"]) == (
        "https://example.com/team/utils.git", "main", "src")
    assert "s3cret" not in str(libs)  # the password is write-only
    assert project.get_library().get_folder("/python/utils") is not None
    git.set_library("python/utils", "https://example.com/team/utils.git", "src", "v1.2.0")
    assert git.list_libraries()[0]["checkout"] == "v1.2.0"
    git.reset_library("python/utils").wait_for_result()
    assert git.reset_all_libraries().wait_for_result()["success"] is True
    git.remove_library("python/utils", delete_directory=True)
    assert git.list_libraries() == []
    assert project.get_library().get_folder("/python/utils") is None


@pytest.mark.skipif(AGAINST_REAL_DSS, reason="the simulator's checks of a Git library are guesses")
def test_git_library_needs_a_repository_and_a_checkout(project: DSSProject) -> None:
    git = project.get_project_git()
    with pytest.raises(DataikuException, match="needs a 'repository'"):
        git.add_library("", "lib_a", "main")
    with pytest.raises(DataikuException, match="needs a 'checkout'"):
        git.add_library("https://example.com/x.git", "lib_a", "")
    assert git.list_libraries() == []


def test_listing_children_rename_folder_and_delete_file(project: DSSProject) -> None:
    library = project.get_library()
    library.add_folder("tools").add_file("a.py").write("A = 1\n")
    library = project.get_library()
    assert {i.name for i in library.list()} >= {"python", "R", "tools"}
    tools = library.get_folder("/tools")
    assert tools.get_child("a.py").read() == "A = 1\n" and tools.get_child("nope") is None
    tools.rename("utils")
    library = project.get_library()
    assert library.get_folder("/tools") is None and library.get_file("/utils/a.py").read() == "A = 1\n"
    library.get_file("/utils/a.py").delete()
    assert project.get_library().get_folder("/utils").list() == []


def test_a_file_at_the_library_root(project: DSSProject) -> None:
    project.get_library().add_file("README.md").write("# lib\n")
    library = project.get_library()
    assert library.get_file("/README.md").read() == "# lib\n"
    assert "README.md" in [i.name for i in library.list("/")]


def test_a_folder_moves_into_another(project: DSSProject) -> None:
    library = project.get_library()
    library.add_folder("inner").add_file("x.py").write("X = 1\n")
    library.add_folder("outer")
    library = project.get_library()
    library.get_folder("/inner").move_to(library.get_folder("/outer"))
    assert project.get_library().get_file("/outer/inner/x.py").read() == "X = 1\n"
