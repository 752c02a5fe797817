"""Regenerate tests/contract/api_table.json and its section of docs/simulator.md.

    .venv/bin/python -m tests.contract.gen_api_table            # runs the contract tests with tracing (~3 min)
    .venv/bin/python -m tests.contract.gen_api_table TRACE...   # reuses trace files of an earlier run

A method is covered when a contract test calls it (traced by tests/contract/conftest.py); any other is probed
on the simulator, and the error it gives is written down. A method that works when probed but that no test
covers stops the generation: it needs a contract test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from dataiku_iac.sim import Simulator
from tests.contract.api_probe import objects, probe
from tests.contract.api_surface import DOC_BEGIN, DOC_END, DOC_PATH, TABLE_PATH, markdown, surface
from tests.contract.conftest import TRACE_ENV


def traced_calls(trace_files: list[str]) -> dict[str, str]:
    if not trace_files:
        target = str(Path(tempfile.mkdtemp()) / "trace")
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/contract",
                        "--ignore", "tests/contract/test_api_table.py"],
                       env={**os.environ, TRACE_ENV: target}, check=True)
        trace_files = [f"{target}.main"]
    calls: dict[str, str] = {}
    for path in trace_files:
        for key, test in json.loads(Path(path).read_text(encoding="utf-8")).items():
            calls[key] = min(test, calls.get(key, test))
    return calls


def unsupported_errors(keys: list[str]) -> tuple[dict[str, str], list[str]]:
    """The error of each method, probed on a project of its own; and the methods that worked."""
    errors: dict[str, str] = {}
    worked: list[str] = []
    with Simulator() as sim:
        client = sim.client()
        owner = client.get_auth_info()["authIdentifier"]
        for key in keys:
            project_key = "PROBE_" + uuid.uuid4().hex[:8].upper()
            project = client.create_project(project_key, project_key, owner)
            error = probe(objects(client, project, sim.client("automation")), key, project_key)
            if error is None:
                worked.append(key)
            else:
                errors[key] = error
    return errors, worked


def main(argv: list[str]) -> int:
    calls = traced_calls(argv)
    keys = surface()
    errors, worked = unsupported_errors([k for k in keys if k not in calls])
    if worked:
        print("These methods work on the simulator but no contract test calls them:", *worked, sep="\n  ")
        return 1
    table = {k: {"covered": calls[k]} if k in calls else {"unsupported": errors[k]} for k in keys}
    TABLE_PATH.write_text(json.dumps(table, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    doc = DOC_PATH.read_text(encoding="utf-8")
    start, end = doc.index(DOC_BEGIN), doc.index(DOC_END) + len(DOC_END)
    DOC_PATH.write_text(doc[:start] + markdown(table) + doc[end:], encoding="utf-8")
    covered = sum("covered" in v for v in table.values())
    print(f"{len(table)} methods: {covered} covered, {len(table) - covered} not supported")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
