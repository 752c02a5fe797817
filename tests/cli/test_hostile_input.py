"""Hostile and odd input (dss-iac runs in CI on pull requests, so a config file is untrusted): one located
line and exit 3, never a crash, a hang, an exhausted memory, nor a file read from outside the workspace."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from dataiku_iac.cli.main import main
from dataiku_iac.config.files import MAX_FILE_BYTES
from dataiku_iac.config.loader import EDIT_JOURNAL, MAX_WORKSPACE_BYTES
from dataiku_iac.config.yamlio import MAX_DEPTH, MAX_VALUES
from dataiku_iac.dsl import ProjectFile
from dataiku_iac.sim import Simulator
from tests.engine.conftest import WORKSPACE_YAML, write_workspace

SECRET = "CANARY-a-runner-secret-4f1d"
CODE_RECIPE = """\
project: {{key: CHURN, name: Churn}}
datasets:
  raw: {{type: Filesystem, connection: filesystem_managed, params: {{path: /raw}}}}
  clean: {{type: Filesystem, connection: filesystem_managed, params: {{path: /clean}}}}
recipes:
  clean_it: {{type: python, inputs: [raw], outputs: [clean], code: {code}}}
"""


def run(root: Path, *args: str) -> int:
    return main(["-C", str(root), *args])


def errors(capsys: pytest.CaptureFixture[str]) -> list[str]:
    """The error lines of the last command; every line of stderr must be one, and none a traceback."""
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err, err
    assert all(line.startswith("error: ") for line in err.splitlines()), err
    return err.splitlines()


def run_process(root: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The command in a process of its own: a crash shows as a signal, a hang as a timeout."""
    return subprocess.run([sys.executable, "-m", "dataiku_iac", "-C", str(root), *args], capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, "NO_COLOR": "1", "CI": "1"})


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the workspace holding a secret, as a CI runner's home would."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text(f"{SECRET}\n")
    return folder


# -- 1. file references stay inside the workspace -------------------------------------------------------------


@pytest.mark.parametrize("how", ["relative", "absolute", "symlink"])
def test_a_code_file_outside_the_workspace_is_refused_and_never_printed(
        tmp_path: Path, outside: Path, capsys: pytest.CaptureFixture[str], how: str) -> None:
    ws = tmp_path / "ws"
    code = {"relative": "../../outside/secret.txt", "absolute": str(outside / "secret.txt"), "symlink": "../leak.py"}
    write_workspace(ws, {"churn": CODE_RECIPE.format(code=code[how])})
    (ws / "leak.py").symlink_to(outside / "secret.txt")
    assert run(ws, "validate") == 3
    [line] = errors(capsys)
    assert line.startswith(f"error: projects/churn.yaml:6:67: code file '{code[how]}' is outside the workspace (it "
                           f"leads to {outside.resolve() / 'secret.txt'})")
    assert run(ws, "plan", "-e", "dev", "--markdown") == 3
    out, err = capsys.readouterr()
    assert SECRET not in out + err
    assert not (ws / ".dss-iac").exists()


def test_a_link_to_a_file_inside_the_workspace_is_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_workspace(tmp_path, {"churn": CODE_RECIPE.format(code="../code/link.py")},
                    files={"code/shared/clean.py": "print('cleaned')\n"})
    (tmp_path / "code" / "link.py").symlink_to(tmp_path / "code" / "shared" / "clean.py")
    assert run(tmp_path, "plan", "-e", "dev", "--markdown") == 0
    assert "print('cleaned')" in capsys.readouterr().out


def test_a_link_changed_to_lead_outside_counts_as_a_change(tmp_path: Path, outside: Path) -> None:
    """The terminal app skips reloading files that did not change: a link re-pointed outside must not be taken
    as unchanged (nor its target read), so the next load refuses it."""
    from dataiku_iac import Workspace
    from dataiku_iac.errors import ConfigError

    ws_root = write_workspace(tmp_path / "ws", {"churn": CODE_RECIPE.format(code="../code/link.py")},
                              files={"code/clean.py": "print(1)\n"})
    link = ws_root / "code" / "link.py"
    link.symlink_to(ws_root / "code" / "clean.py")
    with Workspace.load(ws_root) as ws:
        assert not ws.files_changed()
        (outside / "clean.py").write_text("print(1)\n")  # the very same text, outside
        link.unlink()
        link.symlink_to(outside / "clean.py")
        assert ws.files_changed()
    with pytest.raises(ConfigError, match=r"code file '\.\./code/link\.py' is outside the workspace"):
        Workspace.load(ws_root)


@pytest.mark.parametrize(("make", "expected"), [
    (lambda p: p.mkdir(), "is a folder, not a regular file"),
    (lambda p: (p.write_bytes(b""), os.truncate(p, MAX_FILE_BYTES + 1)), "is larger than the limit of 4 MiB"),
    (lambda p: p.write_bytes(b"print('caf\xe9')\n"), "is not UTF-8 text (invalid continuation byte at byte 10)"),
])
def test_a_code_file_that_cannot_be_code_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], make,
                                                    expected: str) -> None:
    write_workspace(tmp_path, {"churn": CODE_RECIPE.format(code="../code/x.py")})
    (tmp_path / "code").mkdir()
    make(tmp_path / "code" / "x.py")
    assert run(tmp_path, "validate") == 3
    assert errors(capsys) == [f"error: projects/churn.yaml:6:67: code file '../code/x.py' {expected}"]


def test_named_pipes_and_devices_are_refused_without_waiting(tmp_path: Path) -> None:
    write_workspace(tmp_path, {"churn": CODE_RECIPE.format(code="../code/pipe.py")}, workspace_yaml=(
        "version: 1\nprojects: [projects/*.yaml, more/*.yaml]\nenvironments:\n  dev: {host: embedded}\n"))
    (tmp_path / "code").mkdir()
    os.mkfifo(tmp_path / "code" / "pipe.py")  # reading it would wait forever for a writer
    (tmp_path / "more").mkdir()
    os.mkfifo(tmp_path / "more" / "pipe.yaml")
    (tmp_path / "more" / "zero.yaml").symlink_to("/dev/zero")  # reading it would never end
    result = run_process(tmp_path, "validate", timeout=60)
    assert result.returncode == 3
    assert result.stderr.splitlines() == [
        "error: dss-iac.yaml:2:29: project file 'more/zero.yaml' (matched by 'more/*.yaml') is outside the "
        "workspace (it leads to /dev/zero): project files must be inside the workspace folder",
        "error: projects/churn.yaml:6:67: code file '../code/pipe.py' is a named pipe, not a regular file",
        "error: more/pipe.yaml: cannot read file: it is a named pipe, not a regular file"]


@pytest.mark.parametrize("layout", ["linked file", "linked folder", "python file"])
def test_project_files_leading_outside_are_refused_at_their_glob(tmp_path: Path, outside: Path,
                                                                 capsys: pytest.CaptureFixture[str],
                                                                 layout: str) -> None:
    ws = tmp_path / "ws"
    (outside / "evil.yaml").write_text(f"project: {{key: EVIL, name: x, description: {SECRET}}}\n")
    (outside / "evil.py").write_text(f"print('{SECRET}')\nproject = {{}}\n")
    glob, name = {"linked file": ("projects/*.yaml", "projects/evil.yaml"),
                  "linked folder": ("linked/*.yaml", "linked/evil.yaml"),
                  "python file": ("projects/*.py", "projects/evil.py")}[layout]
    write_workspace(ws, {}, workspace_yaml=f"version: 1\nprojects: ['{glob}']\nenvironments:\n  dev: {{host: "
                                           "embedded}\n")
    if layout == "linked folder":
        (ws / "linked").symlink_to(outside)
    else:
        (ws / name).symlink_to(outside / Path(name).name)
    assert run(ws, "plan", "-e", "dev", "--markdown") == 3
    out, err = capsys.readouterr()
    assert SECRET not in out + err  # neither its description nor what the Python file prints
    assert err == (f"error: dss-iac.yaml:2:12: project file '{name}' (matched by '{glob}') is outside the workspace "
                   f"(it leads to {outside.resolve() / Path(name).name}): project files must be inside the workspace "
                   "folder\n")


@pytest.mark.parametrize(("glob", "expected"), [
    (".", "names the workspace folder, not files: use 'projects/*.yaml'"),  # was an internal IndexError (fuzz)
    ("./", "names the workspace folder, not files: use 'projects/*.yaml'"),
    ("../*.yaml", "must be a relative path inside the workspace"),
    ("/etc/*", "must be a relative path inside the workspace"),
])
def test_a_project_glob_that_names_no_files_of_the_workspace_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], glob: str, expected: str) -> None:
    write_workspace(tmp_path, {"churn": "project: {key: CHURN, name: c}\n"}, workspace_yaml=(
        f"version: 1\nprojects: ['projects/*.yaml', '{glob}']\nenvironments:\n  dev: {{host: embedded}}\n"))
    assert run(tmp_path, "validate") == 3
    assert errors(capsys) == [f"error: dss-iac.yaml:2:31: project glob '{glob}' {expected}"]


def test_a_workspace_file_leading_outside_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "elsewhere.yaml").write_text(WORKSPACE_YAML)
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "dss-iac.yaml").symlink_to(tmp_path / "elsewhere.yaml")
    assert run(tmp_path / "ws", "validate") == 3
    assert errors(capsys) == [f"error: dss-iac.yaml: dss-iac.yaml is outside the workspace (it leads to "
                              f"{tmp_path.resolve() / 'elsewhere.yaml'}): it must be a file of the workspace folder"]


def test_a_committed_edit_journal_cannot_move_files_outside_the_workspace(
        tmp_path: Path, outside: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The journal of an interrupted edit is finished on load; one committed by a pull request must not
    turn `validate` into "move this file of the runner over that one"."""
    ws = write_workspace(tmp_path / "ws", {"churn": CODE_RECIPE.format(code="../code/x.py")},
                         files={"code/x.py": "print(1)\n"})
    target = outside / "bashrc"
    target.write_text("original\n")
    journal = ws / EDIT_JOURNAL
    journal.parent.mkdir()
    journal.write_text(json.dumps({"pid": 1, "host": "elsewhere", "step": "replacing",
                                   "files": [[str(outside / "secret.txt"), str(target)]]}))
    os.utime(journal, (1, 1))  # old enough to be finished
    assert run(ws, "validate") == 3
    [line] = errors(capsys)
    assert line.startswith(f"error: an interrupted edit recorded in {EDIT_JOURNAL} could not be finished: it names "
                           f"{target}, outside {ws.resolve()}")
    assert target.read_text() == "original\n" and (outside / "secret.txt").exists()


# -- 2. YAML limits ---------------------------------------------------------------------------------------------


def alias_bomb(levels: int = 9, fanout: int = 9) -> str:
    lines = ['a0: &a0 ["lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * fanout)}]" for i in range(1, levels + 1)]
    return "\n".join(lines)


def test_an_alias_bomb_in_a_project_is_refused_before_it_is_expanded(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    params = textwrap.indent(alias_bomb(), "      ")
    write_workspace(tmp_path, {"churn": f"project: {{key: CHURN, name: c}}\ndatasets:\n  raw:\n    type: Filesystem\n"
                                        f"    params:\n{params}\n"})
    assert run(tmp_path, "plan", "-e", "dev") == 3
    # Line 12 is `a6`: its first alias takes the count past the limit, before anything is expanded.
    assert errors(capsys) == [f"error: projects/churn.yaml:12:16: aliases expand this file beyond {MAX_VALUES:,} "
                              "values (each alias counts as a copy of what it names): write the values out, or use "
                              "fewer nested aliases"]


def test_an_alias_bomb_in_the_workspace_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    variables = textwrap.indent(alias_bomb(), "      ")
    write_workspace(tmp_path, {}, workspace_yaml=f"{WORKSPACE_YAML}    variables:\n{variables}\n")
    assert run(tmp_path, "validate") == 3
    [line] = errors(capsys)
    assert line.startswith("error: dss-iac.yaml:13:16: aliases expand this file beyond")


NESTED = "project: {key: CHURN, name: c, variables: {standard: {v: "  # four levels before v's lists


def nested(lists: int) -> str:
    return f"{NESTED}{'[' * lists}{']' * lists}}}}}}}\n"


@pytest.mark.parametrize("lists", [MAX_DEPTH - 4, MAX_DEPTH - 3, 500, 10_000, 30_000])
def test_deep_nesting_is_a_located_error_never_a_crash(tmp_path: Path, lists: int) -> None:
    write_workspace(tmp_path, {"churn": nested(lists)})
    result = run_process(tmp_path, "validate")
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    if 4 + lists <= MAX_DEPTH:
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode == 3  # not 139 (the C parser's stack overflowing) nor 1 (RecursionError)
        first_too_deep = len(NESTED) + (MAX_DEPTH - 4) + 1
        assert result.stderr == (f"error: projects/churn.yaml:1:{first_too_deep}: nested more than {MAX_DEPTH} "
                                 f"levels deep: dss-iac reads at most {MAX_DEPTH} levels of mappings and lists\n")


def test_the_deepest_nesting_allowed_is_planned(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_workspace(tmp_path, {"churn": nested(MAX_DEPTH - 4)})
    assert run(tmp_path, "plan", "-e", "dev", "--json") == 0
    plan = json.loads(capsys.readouterr().out)
    [standard] = [c["after"] for a in plan["actions"] for c in a["changes"] if c["path"] == "standard"]
    depth = 0
    value = standard["v"]
    while value:
        value, depth = value[0], depth + 1
    assert depth == MAX_DEPTH - 5  # all the lists but the innermost, empty one


def test_a_value_that_contains_itself_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_workspace(tmp_path, {"churn": "project: {key: CHURN, name: c, variables: {standard: &v {me: *v}}}\n"})
    assert run(tmp_path, "validate") == 3
    assert errors(capsys) == ["error: projects/churn.yaml:1:62: alias *v is inside what it names: recursive values "
                              "cannot be stored"]


def test_a_file_with_too_many_values_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_workspace(tmp_path, {"churn": f"project: {{key: CHURN, name: c}}\nx: [{'1,' * MAX_VALUES}1]\n"})
    assert run(tmp_path, "validate") == 3
    assert errors(capsys) == [f"error: projects/churn.yaml:1:1: more than {MAX_VALUES:,} values in one file: split "
                              "it into several project files"]


def test_a_workspace_of_many_large_files_is_read_no_further_than_its_limit(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    filler = "#" * (MAX_FILE_BYTES - 100) + "\n"  # each file under its own limit
    write_workspace(tmp_path, {f"p{i:02d}": f"project: {{key: P{i}, name: n}}\n{filler}" for i in range(12)})
    assert run(tmp_path, "validate") == 3
    assert errors(capsys) == [f"error: projects/p08.yaml: the workspace's files add up to more than "
                              f"{MAX_WORKSPACE_BYTES >> 20} MiB here: dss-iac reads no more (split it into several "
                              "workspaces)"]


def test_thousands_of_errors_in_one_file_are_each_located(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Each error used to read the whole file again: a large file full of errors took hours."""
    datasets = "".join(f"  d{i}: {{type: Filesystem, colour: blue}}\n" for i in range(3000))
    write_workspace(tmp_path, {"churn": f"project: {{key: CHURN, name: c}}\ndatasets:\n{datasets}"})
    assert run(tmp_path, "validate") == 3
    lines = errors(capsys)
    assert len(lines) == 3000
    assert all(line.startswith(f"error: projects/churn.yaml:{i + 3}:") and "unknown key 'colour'" in line
               for i, line in enumerate(lines))


def test_a_chain_of_thousands_of_recipes_is_checked_without_exhausting_the_stack(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    n = 3000
    datasets = "".join(f"  a{i}: {{type: Filesystem}}\n" for i in range(n + 1))
    # Named so that the last recipe of the chain is looked at first: the check walks the whole chain at once.
    recipes = "".join(f"  r{n - i:05d}: {{type: sync, inputs: [a{i}], outputs: [a{i + 1}]}}\n" for i in range(n))
    project = f"project: {{key: CHURN, name: c}}\ndatasets:\n{datasets}recipes:\n{recipes}"
    write_workspace(tmp_path, {"churn": project})
    assert run(tmp_path, "validate") == 0
    write_workspace(tmp_path, {"churn": project.replace("inputs: [a0]", f"inputs: [a{n}]")})
    assert run(tmp_path, "validate") == 3
    [line] = errors(capsys)
    assert line == (f"error: projects/churn.yaml:{2 * n + 4}:3: dependency cycle between recipes: r00001 <- r00002 <- "
                    f"r00003 <- r00004 <- r00005 <- ({n - 7} more) <- r02999 <- r03000 <- r00001")


def test_anchors_and_merge_keys_within_the_limits_still_work(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    write_workspace(tmp_path, {"churn": """\
        project: {key: CHURN, name: c}
        datasets:
          raw: {type: Filesystem, connection: filesystem_managed, params: &p {path: /raw, sep: ","}}
          copy: {type: Filesystem, connection: filesystem_managed, params: {<<: *p, path: /copy}}
        """})
    assert run(tmp_path, "plan", "-e", "dev", "--json") == 0
    plan = json.loads(capsys.readouterr().out)
    params = {a["address"]: c["after"] for a in plan["actions"] for c in a["changes"] if c["path"] == "params"}
    assert params == {"dataset.CHURN.raw": {"path": "/raw", "sep": ","},
                      "dataset.CHURN.copy": {"path": "/copy", "sep": ","}}


# -- 3. values DSS would refuse are refused first ---------------------------------------------------------------


@pytest.mark.parametrize(("value", "col", "expected"), [
    ("2024-01-01", 10, "2024-01-01 reads as a date, which DSS cannot store: quote it to keep it as text "
                       "('2024-01-01')"),
    ("2024-01-01T10:00:00Z", 10, "2024-01-01T10:00:00Z reads as a date"),
    (".nan", 10, ".nan is not a number (NaN and infinities cannot be stored by DSS"),
    ("-.inf", 10, "-.inf is infinity"),
    ("1e400", 10, "1e400 is infinity"),
    ("9223372036854775808", 10, "9223372036854775808 is outside the integers DSS can hold (64-bit"),
    ("-9223372036854775809", 10, "-9223372036854775809 is outside the integers DSS can hold"),
    ("1" * 5000, 10, f"{'1' * 30}...111111 is outside the integers DSS can hold"),
    ("!!int A", 10, "'A' is not an integer, as its tag says"),
    ("!!float ''", 10, "'' is not a number, as its tag says"),
    ("!!bool maybe", 10, "'maybe' is not a boolean, as its tag says"),
    ("!!binary aGk=", 10, "!!binary data cannot be stored by DSS"),
    ("!!set {a, b}", 10, "a !!set cannot be stored by DSS, whose values are JSON: use a list"),
    ("!!omap [{a: 1}]", 10, "an !!omap cannot be stored by DSS"),
    ("{1: one}", 11, "the key 1 reads as a number, but keys must be text: quote it ('1')"),
    ("{null: x}", 11, "the key null reads as null, but keys must be text: quote it ('null')"),
    ("{true: x}", 11, "the key true reads as a boolean"),
    ("{? [a, b] : x}", 10, "a list or a mapping cannot be a key: keys must be text"),
])
def test_values_dss_cannot_store_are_refused_where_written(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                           value: str, col: int, expected: str) -> None:
    write_workspace(tmp_path, {"churn": f"project:\n  key: CHURN\n  name: c\n  variables:\n    standard:\n"
                                        f"      v: {value}\n"})
    assert run(tmp_path, "plan", "-e", "dev") == 3
    [line] = errors(capsys)
    assert line.startswith(f"error: projects/churn.yaml:6:{col}: {expected}")
    assert not (tmp_path / ".dss-iac").exists()


def test_the_values_at_the_edges_of_what_dss_stores_are_planned(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    write_workspace(tmp_path, {"churn": "project: {key: CHURN, name: c, variables: {standard: {"
                                        "max: 9223372036854775807, min: -9223372036854775808, big: 1.5e308, "
                                        "day: '2024-01-01', '1': x}}}\n"})
    assert run(tmp_path, "plan", "-e", "dev", "--json") == 0
    plan = json.loads(capsys.readouterr().out)
    [standard] = [c["after"] for a in plan["actions"] for c in a["changes"] if c["path"] == "standard"]
    assert standard == {"max": 2**63 - 1, "min": -(2**63), "big": 1.5e308, "day": "2024-01-01", "1": "x"}


LONG_KEY = "A" * 2000


@pytest.mark.parametrize(("project", "workspace", "expected"), [
    (f"project: {{key: {LONG_KEY}, name: c}}\n", None,
     "projects/churn.yaml:1:16: project key 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA...AAAAAA' is 2000 characters long: at most "
     "64"),
    (f"project: {{key: {'A' * 65}, name: c}}\n", None, "projects/churn.yaml:1:16: project key"),
    ('project: {key: "CHURN\\n", name: c}\n', None,
     "projects/churn.yaml:1:16: invalid project key 'CHURN\\n': expected uppercase letters"),
    (f"project: {{key: {'A' * 62}, name: c}}\n", WORKSPACE_YAML + '    project_key: "{key}_DEV"\n',
     f"projects/churn.yaml:1:16: project key {'A' * 62} becomes AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA...AA_DEV in "
     "environment 'dev' (project_key: '{key}_DEV'), 66 characters: at most 64"),
    (f"project: {{key: CHURN, name: c}}\ndatasets: {{{'d' * 129}: {{type: Filesystem}}}}\n", None,
     "projects/churn.yaml:2:12: name 'dddddddddddddddddddddddddddddd...dddddd' is 129 characters long: at most 128"),
    ("project: {key: CHURN, name: c}\nrecipes: {'../etc': {type: sync, inputs: [], outputs: [x]}}\n", None,
     "projects/churn.yaml:2:11: invalid name '../etc': use only letters, digits and underscores"),
    ("project: {key: CHURN, name: c}\n", WORKSPACE_YAML + "    node: ../../etc\n",
     "dss-iac.yaml:6:11: invalid value '../../etc' for 'node': string should match pattern"),
    ("project: {key: CHURN, name: c}\n", WORKSPACE_YAML + f"  {'e' * 65}: {{host: embedded}}\n",
     "dss-iac.yaml:4:3: environment name 'eeeeeeeeeeeeeeeeeeeeeeeeeeeeee...eeeeee' is longer than 64 characters"),
    ("project: {key: CHURN, name: c}\n", WORKSPACE_YAML + "    overrides: {'project.*': {key: OTHER}}\n",
     "dss-iac.yaml:6:16: override 'project.*' sets the project key, which an environment cannot change this way: "
     "use `project_key:` (e.g. '{key}_DEV')"),
    ("project: {key: CHURN, name: c}\nscenarios: {s: {triggers: [{type: temporal, frequency: Hourly, "
     "repeat: 4294967296}]}}\n", None,
     "projects/churn.yaml:2:72: invalid value 4294967296 for 'repeat': input should be less than or equal to "
     "2147483647"),
])
def test_keys_and_names_dss_would_refuse_are_located_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                            project: str, workspace: str | None,
                                                            expected: str) -> None:
    write_workspace(tmp_path, {"churn": project}, workspace_yaml=workspace or WORKSPACE_YAML)
    assert run(tmp_path, "validate") == 3
    [line] = errors(capsys)
    assert line.startswith(f"error: {expected}")


def _validate_accepts(key: str, name: str) -> bool:
    try:
        ProjectFile.model_validate({"project": {"key": key, "name": "n"}, "datasets": {name: {"type": "Filesystem"}}})
    except ValidationError:
        return False
    return True


KEY_TEXT = st.text(alphabet="AZaz09_-. \u00e9\n", max_size=140)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.one_of(st.from_regex(r"[A-Z][A-Z0-9_]{0,70}", fullmatch=True), KEY_TEXT),
       name=st.one_of(st.from_regex(r"[A-Za-z0-9_]{1,140}", fullmatch=True), KEY_TEXT))
@example(key="A" * 64, name="d" * 128)
@example(key="A" * 65, name="d" * 129)
@example(key="A" * 129, name="d")
@example(key="A", name="../etc")
@example(key="toto", name="a.b")
def test_what_validate_accepts_dss_takes(fresh_sim: Simulator, key: str, name: str) -> None:
    """DSS publishes no length limit for keys or names: dss-iac's own (64, 128) sit inside what DSS takes,
    so a key or a name that validate accepts is never refused by DSS at apply; what DSS refuses (other
    characters, keys over 128 in the simulator) validate refuses first."""
    if not _validate_accepts(key, name):
        return
    project = fresh_sim.client().create_project(key, "accepted by validate", "admin")
    try:
        project.create_dataset(name, "Filesystem", params={"connection": "filesystem_managed", "path": "/x"})
        assert name in [d["name"] for d in project.list_datasets()]
    finally:
        project.delete()


@pytest.mark.parametrize(("value", "expected"), [
    ('float("nan")', "project.variables.standard.v: nan cannot be stored by DSS"),
    ("10**19", "project.variables.standard.v: an integer outside what DSS can hold"),
    ("__import__('datetime').date(2024, 1, 1)", "project.variables.standard.v: a date is not plain data"),
    ("deep", "project.variables.standard.v[0][0]: nested more than 64 levels deep below here"),
    ("loop", "project.variables.standard.v[0][0]: nested more than 64 levels deep below here (or a value that "
             "contains itself)"),
])
def test_python_project_values_are_held_to_the_limits_of_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                              value: str, expected: str) -> None:
    write_workspace(tmp_path, {}, workspace_yaml=WORKSPACE_YAML.replace("projects/*.yaml", "projects/*.py"),
                    files={"projects/churn.py": f"""\
                        deep = 1
                        for _ in range(5000):
                            deep = [deep]
                        loop = []
                        loop.append(loop)
                        variables = {{"standard": {{"v": {value}}}}}
                        project = {{"project": {{"key": "CHURN", "name": "c", "variables": variables}}}}
                        """})
    assert run(tmp_path, "validate") == 3
    [line] = errors(capsys)
    assert line.startswith(f"error: projects/churn.py:7:1: {expected}")


def test_a_plan_shows_what_the_configuration_holds_as_text_never_as_terminal_or_markdown_commands(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A description or a code file may hold escape sequences (erase a line, move the cursor) or close the
    Markdown code block: the plan a reviewer reads must show them, not obey them."""
    fake = "**Plan: 0 to add, 0 to change, 0 to destroy.**"
    write_workspace(tmp_path, {"churn": CODE_RECIPE.format(code="../code/x.py").replace(
        "name: Churn}", 'name: Churn, description: "a\\x1b[2Kb\\x9b1Ac\\u202ed"}')},
        files={"code/x.py": f"print(1)\n```\n{fake}\n\x1b[1A\x1b[2K\n"})
    assert run(tmp_path, "plan", "-e", "dev") == 0
    text = capsys.readouterr().out
    assert not any(c in text for c in "\x1b\x9b\u202e")
    assert 'description = "a\\u001b[2Kb\\x9b1Ac\\u202ed"' in text and "    \\x1b[1A\\x1b[2K" in text
    assert run(tmp_path, "plan", "-e", "dev", "--markdown") == 0
    markdown = capsys.readouterr().out
    block = markdown.split("<code>+ recipe.CHURN.clean_it</code></summary>\n\n", 1)[1].split("\n</details>", 1)[0]
    assert block.startswith("````diff\n") and block.endswith("\n````\n") and block.count("````") == 2
    assert fake in block and "\x1b" not in markdown
