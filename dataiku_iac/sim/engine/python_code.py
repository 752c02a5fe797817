"""Python recipes and scenario Python steps: user code run as a subprocess with the simulator's `dataiku` package.

The recipe's inputs are handed over as plain CSV files with their schema (engine.table), its outputs come
back the same way; `dataiku.api_client()` reaches the simulator over HTTP with the caller's API key (given in
the environment, never logged). The code runs with the simulator's own Python interpreter, in a scratch folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SHIM = Path(__file__).parent / "shim"
LOG_TAIL = 4000  # characters of the code's output kept in logs and error messages


@dataclass
class CodeRun:
    """What a script needs: its code, where it runs, its datasets and variables, how to call back."""

    script: str
    workdir: Path
    project_key: str
    url: str
    api_key: str
    variables: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {file, schema}
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {file, schemaFile, schema}


@dataclass
class CodeResult:
    ok: bool
    output: str  # stdout and stderr, cut to the last LOG_TAIL characters
    error: str = ""


def run(code: CodeRun, on_start: Callable[[subprocess.Popen[bytes]], None] | None = None,
        timeout: float | None = None) -> CodeResult:
    """Run the script to its end (or until killed through the process handed to `on_start`)."""
    code.workdir.mkdir(parents=True, exist_ok=True)
    spec = code.workdir / "spec.json"
    spec.write_text(json.dumps({"projectKey": code.project_key, "variables": code.variables,
                                "inputs": code.inputs, "outputs": code.outputs}), encoding="utf-8")
    script = code.workdir / "script.py"
    script.write_text(code.script, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DKU_")}
    env.update(DKU_SIM_SPEC=str(spec), DKU_SIM_URL=code.url, DKU_SIM_API_KEY=code.api_key,
               DKU_CURRENT_PROJECT_KEY=code.project_key, PYTHONUNBUFFERED="1",
               PYTHONPATH=os.pathsep.join([str(SHIM), *filter(None, [os.environ.get("PYTHONPATH")])]))
    proc = subprocess.Popen([sys.executable, str(script)], cwd=code.workdir, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if on_start is not None:
        on_start(proc)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        return CodeResult(False, _tail(out), f"The Python code did not finish within {timeout} s")
    text = _tail(out)
    if proc.returncode == 0:
        return CodeResult(True, text)
    last = [line for line in text.strip().splitlines() if line.strip()]
    reason = last[-1] if last else f"exit code {proc.returncode}"
    if proc.returncode < 0:
        reason = "the process was killed"
    return CodeResult(False, text, f"Python process failed: {reason}")


def _tail(out: bytes | None) -> str:
    text = (out or b"").decode("utf-8", errors="replace")
    return text[-LOG_TAIL:]
