"""A synthetic workspace of about 2,500 resources in 40 projects, for the benchmarks."""

from __future__ import annotations

import os
from pathlib import Path

DATASETS = 40
FOLDERS = 2
RECIPES = 12
SCENARIOS = 3
ZONES = 2


def project_yaml(i: int) -> str:
    key = f"BENCH_{i:02d}"
    lines = [
        "project:",
        f"  key: {key}",
        f"  name: Benchmark project {i}",
        "  tags: [bench, synthetic]",
        "  variables: {standard: {threshold: '0.5', run: nightly}, local: {}}",
        "  permissions:",
        "    - {group: data_team, read_project_content: true, write_project_content: true}",
        "datasets:",
    ]
    for d in range(DATASETS):
        lines.append(f"  ds_{d:02d}: {{type: Filesystem, connection: storage,"
                     f" params: {{path: /bench/{key}/ds_{d:02d}}}, format: csv,"
                     " schema: [{name: id, type: bigint}, {name: value, type: string}],"
                     f" tags: [t{d % 3}]}}")
    lines.append("managed_folders:")
    for f in range(FOLDERS):
        lines.append(f"  folder_{f}: {{connection: folders}}")
    lines.append("recipes:")
    for r in range(RECIPES):
        lines.append(f"  sync_{r:02d}: {{type: sync, inputs: [ds_{r:02d}], outputs: [ds_{r + 20:02d}]}}")
    lines.append("scenarios:")
    for s in range(SCENARIOS):
        lines.append(f"  build_{s}: {{triggers: [{{type: temporal, frequency: Daily, hour: {s}}}],"
                     f" steps: [{{type: build, items: [ds_{20 + s:02d}]}}]}}")
    lines.append("zones:")
    for z in range(ZONES):
        lines.append(f"  zone_{z}: {{items: [ds_{30 + z:02d}, ds_{32 + z:02d}]}}")
    return "\n".join(lines) + "\n"


def resources_per_project() -> int:
    return 3 + DATASETS + FOLDERS + RECIPES + SCENARIOS + ZONES


def write(root: Path, projects: int = 40, host: str = "embedded", api_key: str | None = None) -> Path:
    (root / "projects").mkdir(parents=True, exist_ok=True)
    env = f"    host: {host}\n" + (f"    api_key: {api_key}\n" if api_key else "")
    (root / "dss-iac.yaml").write_text(
        "version: 1\nprojects: [projects/*.yaml]\nenvironments:\n  bench:\n" + env
        + "    remap: {connections: {storage: filesystem_managed, folders: filesystem_folders}}\n")
    for i in range(projects):
        (root / "projects" / f"bench_{i:02d}.yaml").write_text(project_yaml(i))
    return root


def load() -> str:
    """The machine's load, printed beside figures (other work on the machine slows them down)."""
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())
