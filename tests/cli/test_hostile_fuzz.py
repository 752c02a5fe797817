"""Generated hostile workspaces: `validate` and `plan` run in a process of their own, under memory and CPU
limits, and must exit with a documented code, in one-line errors, without a traceback, a crash or a hang,
writing nothing and never showing a file from outside the workspace.

Every suite run tries 24 workspaces; `make fuzz` runs the long profile (DSS_IAC_FUZZ_EXAMPLES=400, or as many
as you set). `--hypothesis-show-statistics` says how many ran, and DSS_IAC_FUZZ_LOG=FILE appends one JSON line per
workspace (exit codes, first errors).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataiku_iac.cli import exit_codes

CANARY = "CANARY-never-shown-7c1e"  # in a file beside the workspace, and in the environment
MEMORY = 1 << 30  # address space of each command
CPU_SECONDS = 60
WALL_SECONDS = 240  # the machine may be shared: CPU time is the real limit
# validate and plan of a workspace file: fine, or an invalid configuration (exit 1 is for DSS and bugs).
DOCUMENTED = {exit_codes.OK, exit_codes.INVALID}

# -- the pieces of a hostile workspace ------------------------------------------------------------------------

ODD_SCALARS = [
    ".nan", ".NaN", ".inf", "-.Inf", "1e400", "-1e400", "1e-400", "0x7fffffffffffffff", "0x8000000000000000",
    "9223372036854775807", "9223372036854775808", "-9223372036854775809", "1" * 5000, "0o777", "0b1011", "1_000",
    "~", "null", "Null", "true", "yes", "on", "y", "2024-01-01", "2024-01-01T10:00:00Z", "2001-12-14 21:59:43.10 -5",
    "12:30:00", "!!binary aGVsbG8=", "!!set {a, b}", "!!omap [{a: 1}]", "!!pairs [{a: 1}]", "!!timestamp 2024-01-01",
    "!!float .nan", "!!int '99999999999999999999'", "!!str 1", "!!bool yes", "!!null ''", "!!int A", "!!int ''",
    "!!float x", "!!bool maybe", "!!null x", "!!seq x", "!!map x", "!!str [a]", "!!merge x",
    "!!python/object:os.system ls", "!!python/name:os.system", "!custom x", "!<tag:example.com,2000:x> y",
    "'it''s'", '""', "''", '"\\0"',
    '"\\x1b]0;owned\\x07\\x1b[31mred"', '"\\u202eevil"', '"\\ud800"', '"\\U0001F600"', '"a\\nb\\rc\\u2028d\\x85e"',
    '"\\t\\v\\f"', "'\u200b\u200d\ufeff'", "x" * 70000, '"' + "\\u00e9" * 2000 + '"', "*undefined", "&lonely x",
    "<<", "=", "- x", "? x", "| x", "> x", "%x", "@x", "`x",
]
DEEP = [62, 64, 65, 66, 100, 1000, 10_000, 40_000]
NAMES = ["raw", "a" * 128, "a" * 129, "../etc", "a.b", "a/b", "a b", "\u00e9t\u00e9", "CON", "_", "0", "x" * 5000,
         "", "a\nb", "\u202e"]
KEYS = ["CHURN", "A" * 64, "A" * 65, "A" * 2000, "churn", "CHURN\n", "C-1", "1ABC", "_A", "\u0130", "K" * 100000]
CODE_PATHS = [
    "../code/clean.py", "../code/link_in.py", "../code/link_out.py", "../../outside/secret.txt", "/dev/zero",
    "/dev/urandom", "/proc/self/environ", "/etc/passwd", "../code/fifo.py", "../code/big.py", "../code", "..", ".",
    "", "../code/\u0000x.py", "~/.ssh/id_rsa", "../code/missing.py", "a/" * 3000 + "x.py", "../code/latin1.py",
    "../" * 40 + "etc/passwd", "../code/clean.py/", "//etc/passwd", "\\\\..\\\\secret",
]
GLOBS = ["projects/*.yaml", "../outside/*.yaml", "/etc/*", "linked/*.yaml", "**/*.yaml", "", "*", ".",
         "projects/\u0000.yaml", "[", "projects/**", "projects/*.py", "~/*.yaml", "projects/" + "*/" * 50 + "x.yaml"]
NODES = ["design", "../../etc", "prod", "a" * 65, "DESIGN", "", "x/y", "\u00e9"]
PROJECT_KEYS = ["{key}", "{key}_DEV", "{key}" + "_" * 60, "{key}{0}", "{key:>99999999}", "{}", "PRE_{key}", "{key}\n"]
OVERRIDES = ["{}", "{'project.*': {key: OTHER}}", "{'project.*': {name: renamed}}", "{'dataset.*.*': {params: X}}",
             "{'dataset.*.*': {type: 1}}", "{'scenario.*.*': {active: false}}", "{'nothing.*': {}}", "{'*': {}}",
             "{'variables.*': {standard: X}}"]


def yaml_string(text: str) -> str:
    """`text` as a double-quoted YAML scalar (JSON strings are YAML)."""
    return json.dumps(text)


leaves = st.one_of(
    st.sampled_from(ODD_SCALARS),
    st.integers().map(str),
    st.floats().map(repr),
    st.text(max_size=20).map(yaml_string),
    st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=8),  # plain, may not parse
)


def _flow_list(items: list[str]) -> str:
    return "[" + ", ".join(items) + "]"


def _flow_map(items: list[tuple[str, str]]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in items) + "}"


values = st.recursive(leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=4).map(_flow_list),
    st.lists(st.tuples(st.one_of(st.text("abcxyz_", min_size=1, max_size=6), leaves), inner), max_size=4)
    .map(_flow_map)), max_leaves=10)


@st.composite
def bombs(draw: st.DrawFn) -> str:
    """Values that cost more to build than to write: deep nesting, alias bombs, recursive aliases."""
    kind = draw(st.sampled_from(["deep", "bomb", "recursive", "anchors"]))
    if kind == "deep":
        n = draw(st.sampled_from(DEEP))
        opener = draw(st.sampled_from(["[", "{a: "]))
        closer = "]" if opener == "[" else "}"
        return opener * n + closer * n
    if kind == "bomb":
        levels, fanout = draw(st.integers(1, 12)), draw(st.integers(2, 12))
        parts = ['a0: &a0 ["lol"]']
        parts += [f"a{i}: &a{i} {_flow_list([f'*a{i - 1}'] * fanout)}" for i in range(1, levels + 1)]
        return _flow_map([(p.split(":", 1)[0], p.split(": ", 1)[1]) for p in parts])
    if kind == "recursive":
        return draw(st.sampled_from(["&r [*r]", "&r {a: *r}", "&r [[[*r]]]", "{a: &r [b], c: &r [*r]}"]))
    return draw(st.sampled_from(["{a: &x {b: 1}, c: {<<: *x, d: 2}}", "{a: &x 1, b: *x, c: *x}",
                                 "{<<: [&a {x: 1}, &b {y: 2}]}", "{<<: *nope}", "{a: &x [1], <<: *x}"]))


hostile = st.one_of(values, bombs())


# Valid but odd: what must be planned, not refused (the limits' edges, unicode, escapes, anchors).
odd_but_valid = st.one_of(
    st.sampled_from([
        "9223372036854775807", "-9223372036854775808", "1.7976931348623157e308", "5e-324", "-0.0", "0x7fffffffffffffff",
        '"\\x1b[2K\\x9b\\u202e\\u0000"', '"' + "\\U0001F600" * 50 + '"', "'" + "x" * 100000 + "'", "'2024-01-01'",
        "'.nan'", "'1e400'", "{'1': one, 'null': x, 'true': y}", "[" * 59 + "]" * 59,
        "{a: &x {b: [1, 2]}, c: *x, d: {<<: *x, e: 3}}", "!!str 2024-01-01", "!!float 1", "!!int '12'",
        "{" + ", ".join(f"k{i}: v{i}" for i in range(2000)) + "}", '"a\\nb\\r\\tc"',
    ]),
    st.text(st.characters(codec="utf-8"), max_size=40).map(yaml_string),
    st.integers(-(2**63), 2**63 - 1).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
)
SLOTS = ("key", "name", "tag", "var", "dname", "dref", "params", "description", "hour", "repeat", "code", "globs",
         "env", "node", "project_key", "env_vars", "overrides", "workspace text", "project text", "extras")
PROJECT = """\
project:
  key: {key}
  name: {name}
  tags: [{tag}]
  variables: {{standard: {{v: {var}}}, local: {{}}}}
datasets:
  {dname}: {{type: Filesystem, connection: filesystem_managed, params: {{path: /raw, extra: {params}}}}}
  out: {{type: Filesystem, connection: filesystem_managed, params: {{path: /out}}, description: {description}}}
recipes:
  compute: {{type: python, inputs: [{dref}], outputs: [out], code: {code}}}
scenarios:
  nightly:
    triggers: [{{type: temporal, frequency: Daily, hour: {hour}, repeat: {repeat}}}]
    steps: [{{type: build, items: [out]}}]
"""

WORKSPACE = """\
version: 1
projects: {globs}
environments:
  {env}:
    host: embedded
    node: {node}
    project_key: {project_key}
    variables: {env_vars}
    overrides: {overrides}
"""


@dataclass
class Case:
    """One generated workspace: its two YAML files, the extra files beside them, and text mutations."""

    workspace: str
    project: str
    extras: list[str] = field(default_factory=list)
    python: str | None = None

    def __str__(self) -> str:  # how hypothesis shows a failing case
        return f"dss-iac.yaml:\n{self.workspace}\nprojects/p.yaml:\n{self.project}\nextras: {self.extras}"


def mutate(draw: st.DrawFn, text: str) -> str:
    how = draw(st.sampled_from(["bytes", "bom", "crlf", "cr", "truncate", "tabs", "nul", "huge"]))
    at = draw(st.integers(0, len(text)))
    if how == "bytes":
        # Raw bytes, most of them not UTF-8: kept through `surrogateescape` until the file is written.
        return text[:at] + draw(st.binary(min_size=1, max_size=4)).decode("utf-8", "surrogateescape") + text[at:]
    if how == "bom":
        return "\ufeff" + text
    if how == "crlf":
        return text.replace("\n", "\r\n")
    if how == "cr":
        return text.replace("\n", "\r")
    if how == "truncate":
        return text[:at]
    if how == "tabs":
        return text.replace("  ", "\t")
    if how == "nul":
        return text[:at] + "\x00" + text[at:]
    if how == "huge":
        return text + "# " + "x" * (5 << 20) + "\n"  # over the size limit
    return text


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """A workspace with at most two hostile parts (so that each is reached, not hidden behind another's
    error), and odd but valid values elsewhere."""
    bad = draw(st.sets(st.sampled_from(SLOTS), max_size=2))

    def slot(name: str, default: str, hostile_values: st.SearchStrategy[str],
             odd: st.SearchStrategy[str] | None = None) -> str:
        if name in bad:
            return draw(hostile_values)
        return draw(st.one_of(st.just(default), odd)) if odd is not None else default

    dname = slot("dname", "raw", st.sampled_from(NAMES), st.sampled_from(["a" * 128, "_", "0", "A_b_9"]))
    project = PROJECT.format(
        key=slot("key", "CHURN", st.one_of(st.sampled_from(KEYS), hostile), st.sampled_from(["A" * 64, "C_1"])),
        name=slot("name", "Churn", hostile, odd_but_valid.filter(lambda v: not v[:1].isdigit() and v[:1] != "-")),
        tag=slot("tag", "ml", hostile), var=slot("var", "'0.5'", hostile, odd_but_valid),
        dname=dname, dref=slot("dref", dname, hostile), params=slot("params", "x", hostile, odd_but_valid),
        description=slot("description", "d", hostile), hour=slot("hour", "2", hostile),
        repeat=slot("repeat", "1", hostile, st.sampled_from(["2147483647", "0x10"])),
        code=slot("code", "../code/clean.py", st.sampled_from(CODE_PATHS).map(yaml_string),
                  st.sampled_from(["../code/link_in.py", "'../code/./clean.py'", "../projects/../code/clean.py"])))
    globs = draw(st.lists(st.sampled_from(GLOBS), min_size=1, max_size=3)) if "globs" in bad else []
    workspace = WORKSPACE.format(
        globs=json.dumps(["projects/*.yaml", *globs] if not globs or draw(st.booleans()) else globs),
        env=slot("env", "dev", st.sampled_from(NODES)), node=slot("node", "design", st.sampled_from(NODES)),
        project_key=yaml_string(slot("project_key", "{key}", st.sampled_from(PROJECT_KEYS))),
        env_vars=slot("env_vars", "{}", hostile.map(lambda v: f"{{threshold: {v}}}"),
                      odd_but_valid.map(lambda v: f"{{threshold: {v}}}")),
        overrides=slot("overrides", "{}", st.sampled_from(OVERRIDES)).replace("X", draw(hostile)))
    extras = draw(st.lists(st.sampled_from(["evil link", "fifo project", "big project", "second", "folder link",
                                            "python"]), min_size=1, max_size=2, unique=True)) if "extras" in bad else []
    python = None
    if "python" in extras:
        python = f"x = []\nx.append(x)\nproject = {{'project': {{'key': 'PY', 'name': {draw(st.sampled_from(PY))}}}}}\n"
    return Case(mutate(draw, workspace) if "workspace text" in bad else workspace,
                mutate(draw, project) if "project text" in bad else project, extras, python)


PY = ["'ok'", "x", "float('nan')", "10**30", "__import__('datetime').date.today()", "'\\ud800'", "b'bytes'",
      "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[['deep']]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
      "{1: 2}", "open(__file__).read()"]

# -- running the commands ----------------------------------------------------------------------------------------


def build(base: Path, case: Case) -> Path:
    outside = base / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(f"{CANARY}\n")
    (outside / "evil.yaml").write_text(f"project: {{key: EVIL, name: {CANARY}, description: {CANARY}}}\n")
    ws = base / "ws"
    (ws / "projects").mkdir(parents=True)
    (ws / "dss-iac.yaml").write_bytes(case.workspace.encode("utf-8", "surrogateescape"))
    (ws / "projects" / "p.yaml").write_bytes(case.project.encode("utf-8", "surrogateescape"))
    code = ws / "code"
    code.mkdir()
    (code / "clean.py").write_text("print('clean')\n")
    (code / "link_in.py").symlink_to(code / "clean.py")
    (code / "link_out.py").symlink_to(outside / "secret.txt")
    (code / "latin1.py").write_bytes(b"print('caf\xe9')\n")
    os.mkfifo(code / "fifo.py")
    with (code / "big.py").open("wb") as f:
        f.truncate(5 << 20)
    if "evil link" in case.extras:
        (ws / "projects" / "evil.yaml").symlink_to(outside / "evil.yaml")
    if "fifo project" in case.extras:
        os.mkfifo(ws / "projects" / "fifo.yaml")
    if "big project" in case.extras:
        with (ws / "projects" / "big.yaml").open("wb") as f:
            f.truncate(5 << 20)
    if "second" in case.extras:
        (ws / "projects" / "second.yaml").write_text("project: {key: CHURN, name: again}\n")
    if "folder link" in case.extras:
        (ws / "linked").symlink_to(outside)
    if case.python is not None:
        (ws / "projects" / "p.py").write_text(case.python)
    return ws


def snapshot(folder: Path) -> dict[str, tuple[str, int, int]]:
    """Every entry under `folder` (links not followed): its kind, size and modification time."""
    out = {}
    for path in [folder, *folder.rglob("*")]:
        st_ = path.lstat()
        kind = "link" if path.is_symlink() else "dir" if path.is_dir() else "file"
        out[str(path.relative_to(folder))] = (kind, st_.st_size if kind == "file" else 0, st_.st_mtime_ns)
    return out


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def dss_iac(ws: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # The user's cache folder (the parse cache of big workspaces) apart from the home folder, which stays untouched.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "CI": "1", "NO_COLOR": "1",
           "XDG_CACHE_HOME": str(home.parent / "user-cache"),
           "LANG": "C.UTF-8", "FUZZ_CANARY": CANARY, "MALLOC_ARENA_MAX": "2", "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        return subprocess.run([sys.executable, "-m", "dataiku_iac", "-C", str(ws), *args], capture_output=True,
                              text=True, errors="replace", env=env, preexec_fn=_limits, timeout=WALL_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`dss-iac {' '.join(args)}` hung for {WALL_SECONDS} s")


def check(result: subprocess.CompletedProcess[str], command: str) -> None:
    code, err = result.returncode, result.stderr
    assert code >= 0, f"{command} was killed by signal {-code} (a crash, or the CPU limit): {err[-500:]}"
    assert code in DOCUMENTED, f"{command} exited {code}, not one of {sorted(DOCUMENTED)}: {err[-500:]}"
    assert "Traceback" not in err and "internal error" not in err, f"{command}: {err[-2000:]}"
    assert "MemoryError" not in err, f"{command}: {err[-500:]}"
    if code == exit_codes.INVALID:
        assert err and all(line.startswith("error: ") for line in err.splitlines()), f"{command}: {err[-2000:]}"
    assert CANARY not in result.stdout + err, f"{command} showed what a file outside the workspace holds"


def try_case(case: Case) -> None:
    with tempfile.TemporaryDirectory(prefix="dss-iac-fuzz-") as tmp:
        base = Path(tmp)
        ws = build(base, case)
        home = base / "home"
        home.mkdir()
        before, outside = snapshot(ws), snapshot(base / "outside")
        validate = dss_iac(ws, home, "validate")
        check(validate, "validate")
        assert snapshot(ws) == before, "validate wrote in the workspace"
        plan = dss_iac(ws, home, "plan", "-e", "dev", "--markdown")
        check(plan, "plan")
        after = snapshot(ws)
        if plan.returncode == exit_codes.INVALID:
            assert after == before, "a plan of an invalid configuration wrote in the workspace"
        else:
            # The embedded DSS keeps its data under .dss-iac/; nothing else in the workspace changes.
            changed = {k for k in after.keys() | before.keys() if after.get(k) != before.get(k)}
            assert changed <= {"."} | {k for k in after if k.split("/")[0] == ".dss-iac"}, changed
        if validate.returncode == exit_codes.INVALID:
            assert plan.returncode == exit_codes.INVALID, "plan accepted what validate refused"
        if log := os.environ.get("DSS_IAC_FUZZ_LOG"):  # figures for a long run: one line per workspace
            with open(log, "a", encoding="utf-8") as f:
                def first(result: subprocess.CompletedProcess[str]) -> str:
                    return (result.stderr.splitlines() or [""])[0].split(": ", 2)[-1][:120]

                f.write(json.dumps({"validate": validate.returncode, "plan": plan.returncode, "extras": case.extras,
                                    "error": first(validate), "plan error": first(plan)}) + "\n")
        assert snapshot(base / "outside") == outside, "a command changed a file outside the workspace"
        assert not any(home.iterdir()), "a command wrote in the home folder"
        cached = [p.relative_to(base / "user-cache") for p in (base / "user-cache").rglob("*") if p.is_file()]
        assert all(p.parts[:2] in (("dss-iac", "parsed"), ("dss-iac", "parse-cache.key")) for p in cached), cached


def fuzz(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# `make test` (and every suite run) tries 24 workspaces; `make fuzz` the long run, DSS_IAC_FUZZ_EXAMPLES=400.
@fuzz(int(os.environ.get("DSS_IAC_FUZZ_EXAMPLES", "24")))
@given(case=cases())
def test_hostile_workspaces_are_refused_cleanly(case: Case) -> None:
    try_case(case)
