"""Packaging and layering promises: what the wheel holds, what the core imports."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_maps_front_ends_under_dataiku_iac(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    wheel = next(tmp_path.glob("dataiku_iac-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    top_levels = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top_levels == {"dataiku_iac"}  # never a top-level `tui` or `notebook` package
    assert "dataiku_iac/tui/__init__.py" in names
    assert "dataiku_iac/notebook/__init__.py" in names
    assert "dataiku_iac/py.typed" in names  # users' type checkers read our hints (PEP 561)
    # Every package folder in the source tree ships.
    for init in (ROOT / "dataiku_iac").rglob("__init__.py"):
        assert str(init.relative_to(ROOT)) in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "dss-iac = dataiku_iac.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_core_never_imports_front_end_toolkits() -> None:
    code = (
        "import sys, dataiku_iac, dataiku_iac.sim, dataiku_iac.cli.main, dataiku_iac.workspace, dataiku_iac.importer, "
        "dataiku_iac.plan.render_text, dataiku_iac.plan.render_md, dataiku_iac.config.reference; "
        "print(sorted(m for m in ('textual', 'ipywidgets', 'git', 'boto3', 'rich') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"


def test_cli_help_does_not_load_the_dss_client() -> None:
    code = ("import sys; from dataiku_iac.cli.main import build_parser; build_parser(); "
            "print('dataikuapi' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "False"
