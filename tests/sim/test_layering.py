"""The simulator stands alone: nothing under dataiku_iac/sim imports the product, only itself and `_fs` (the
crash-safe file writes shared with the state backend, a leaf that imports nothing of ours)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "dataiku_iac"
SIM = PACKAGE / "sim"
SHIM = SIM / "engine" / "shim"  # the `dataiku` package given to the Python code the simulator runs
SHARED = ("dataiku_iac._fs",)


def imported_modules(path: Path, root: Path, name: str) -> list[str]:
    """Absolute names of what a module imports, its relative imports resolved (`root` is package `name`)."""
    package = [name, *path.relative_to(root).parent.parts]
    out: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = ".".join([*(package[:len(package) - node.level + 1] if node.level else []),
                               *([node.module] if node.module else [])])
            out += [module] if node.module else [f"{module}.{a.name}" for a in node.names]
    return out


def ours(module: str) -> bool:
    return module.split(".")[0] == "dataiku_iac"


def test_simulator_imports_nothing_from_the_product() -> None:
    leaks = {f"{p.relative_to(SIM)}: {m}" for p in SIM.rglob("*.py") if SHIM not in p.parents
             for m in imported_modules(p, PACKAGE, "dataiku_iac")
             if ours(m) and not m.startswith("dataiku_iac.sim") and m not in SHARED}
    assert not leaks
    assert "dataiku_iac.sim.context" in imported_modules(SIM / "handlers" / "metrics.py", PACKAGE, "dataiku_iac")
    for shared in SHARED:
        path = PACKAGE / (shared.split(".", 1)[1].replace(".", "/") + ".py")
        assert not [m for m in imported_modules(path, PACKAGE, "dataiku_iac") if ours(m)]


def test_the_dataiku_package_imports_nothing_of_ours() -> None:
    imports = {m for p in (SHIM / "dataiku").rglob("*.py") for m in imported_modules(p, SHIM / "dataiku", "dataiku")}
    assert "dataiku.api_client" in imports and "dataikuapi" in imports
    assert not [m for m in imports if ours(m)]
