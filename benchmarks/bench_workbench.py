"""The notebook workbench on a 300-dataset project (issue 18.4: opens and previews in under 1 s).

Prints, for a project of DATASETS datasets applied to the embedded DSS: the time to open the workbench on it
(`Workbench(path, env)`: the files loaded, the widgets built, the first dataset shown), and the time of "Preview
plan" with one unsaved edit (the plan of the edited configuration against DSS). Both medians of RUNS. Asserts
nothing.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from dataiku_iac.notebook import Workbench

from dataiku_iac import Workspace

RUNS = 5


def write(root: Path, datasets: int) -> Path:
    (root / "projects").mkdir(parents=True)
    (root / "dss-iac.yaml").write_text(
        "version: 1\nprojects: [projects/*.yaml]\nenvironments:\n  dev:\n    host: embedded\n"
        "    remap: {connections: {storage: filesystem_managed}}\n")
    lines = ["project:", "  key: WIDE", "  name: A wide project", "datasets:"]
    lines += [f"  ds_{d:03d}: {{type: Filesystem, connection: storage, params: {{path: /wide/ds_{d:03d}}},"
              " format: csv, schema: [{name: id, type: bigint}, {name: value, type: string}]}"
              for d in range(datasets)]
    (root / "projects" / "wide.yaml").write_text("\n".join(lines) + "\n")
    return root


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = write(Path(tmp) / "wide", args.datasets)
        with Workspace.load(root) as ws:
            assert ws.apply(ws.plan("dev")).ok
        opening, previewing, changes = [], [], 0
        for _ in range(RUNS):
            t0 = time.perf_counter()
            wb = Workbench(root, env="dev")
            opening.append(time.perf_counter() - t0)
            wb.yaml.value += "description: edited in the workbench\n"
            t0 = time.perf_counter()
            wb.preview_button.click()
            previewing.append(time.perf_counter() - t0)
            assert wb.last_plan is not None, wb.message.value
            changes = len(wb.last_plan.changes)
            wb.close()
    print(f"workbench on a {args.datasets}-dataset project (embedded DSS): open median "
          f"{statistics.median(opening):.2f} s (best {min(opening):.2f}), preview of one unsaved edit median "
          f"{statistics.median(previewing):.2f} s (best {min(previewing):.2f}, {changes} change) (target < 1 s each)")


if __name__ == "__main__":
    main()
