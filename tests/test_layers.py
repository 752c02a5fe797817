"""The import contracts between the layers, read off the source (every import, function-local ones included):
the core never imports a front end's toolkit, the simulator imports nothing from the product, the product reaches
the simulator only where `host: embedded` connects, and the front ends use the public API only."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import dataiku_iac

REPO = Path(__file__).resolve().parent.parent
# The installed package names of the source folders (pyproject's package-dir).
FOLDERS = {"dataiku_iac": REPO / "dataiku_iac", "dataiku_iac.tui": REPO / "tui",
           "dataiku_iac.notebook": REPO / "notebook"}
FRONT_END_TOOLKITS = ("textual", "ipywidgets", "IPython", "dataiku_iac.tui", "dataiku_iac.notebook")
FRONT_ENDS = ("dataiku_iac.tui", "dataiku_iac.notebook")
SIM = "dataiku_iac.sim"
# File-writing primitives (atomic writes, interrupted-write recovery) that know nothing of DSS or of the product:
# shared by the state backends and the simulator's persistence, and importing the standard library only.
SHARED = ("dataiku_iac._fs",)
# Where the product starts the simulator: the embedded DSS of `host: embedded`, and `dss-iac sim serve`.
REACH_SIM = {"dataiku_iac.dss.connect", "dataiku_iac.cli.sim_cmd"}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the module imported (`from a import b`: `a.b` when b is a module, else `a`)
    names: tuple[str, ...]  # `from a import b, c`: (b, c)
    type_only: bool  # under `if TYPE_CHECKING:`
    line: int

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.target} {', '.join(self.names)}".rstrip()


def _modules() -> Iterator[tuple[str, Path, bool]]:
    for package, folder in FOLDERS.items():
        for path in sorted(folder.rglob("*.py")):
            rel = path.relative_to(folder).with_suffix("")
            if package == "dataiku_iac" and rel.parts[0] in ("examples",):
                continue
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            yield ".".join((package, *parts)), path, rel.name == "__init__"


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


@cache
def imports() -> tuple[Import, ...]:
    out: list[Import] = []
    for module, path, is_package in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        typing_only = _type_checking_lines(tree)
        package = module if is_package else module.rpartition(".")[0]
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                out += [Import(module, a.name, (), node.lineno in typing_only, node.lineno) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                out.append(Import(module, base, tuple(a.name for a in node.names), node.lineno in typing_only,
                                  node.lineno))
    return tuple(out)


def _under(name: str, prefixes: tuple[str, ...] | str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in ((prefixes,) if isinstance(prefixes, str) else prefixes))


def _core(module: str) -> bool:
    return not _under(module, (*FRONT_ENDS, SIM, "dataiku_iac.cli"))


def test_the_source_is_read() -> None:
    found = imports()
    assert {i.module for i in found} >= {"dataiku_iac.workspace", "dataiku_iac.tui.app", "dataiku_iac.sim.server",
                                         "dataiku_iac.notebook.workbench"}
    assert any(i.module == "dataiku_iac.cli.tui_cmd" and i.target == "dataiku_iac.tui.app" for i in found)


def test_the_core_never_imports_a_front_end() -> None:
    bad = [str(i) for i in imports() if _core(i.module) and _under(i.target, FRONT_END_TOOLKITS)]
    assert bad == []


def test_the_simulator_imports_nothing_from_the_product() -> None:
    bad = [str(i) for i in imports() if _under(i.module, SIM) and _under(i.target, "dataiku_iac")
           and not _under(i.target, (SIM, *SHARED))]
    assert bad == []
    assert [str(i) for i in imports() if i.module in SHARED and _under(i.target, "dataiku_iac")] == []


def test_the_product_reaches_the_simulator_only_where_host_embedded_connects() -> None:
    bad = [str(i) for i in imports() if not _under(i.module, SIM) and _under(i.target, SIM) and not i.type_only
           and i.module not in REACH_SIM]
    assert bad == []


def test_the_front_ends_import_only_the_public_api() -> None:
    bad = [str(i) for i in imports() if _under(i.module, FRONT_ENDS) and _under(i.target, "dataiku_iac")
           and not _under(i.target, FRONT_ENDS)
           and not (i.target == "dataiku_iac" and set(i.names) <= set(dataiku_iac.__all__))]
    assert bad == []
