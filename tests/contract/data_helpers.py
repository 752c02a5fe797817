"""Helpers for contract tests that put data in DSS through dataikuapi only (uploads), so they run on a real DSS."""

from __future__ import annotations

import io
import time
from typing import Any

from dataikuapi.dss.dataset import DSSDataset
from dataikuapi.dss.job import DSSJob
from dataikuapi.dss.project import DSSProject
from dataikuapi.dss.recipe import DSSRecipe

CONN = "filesystem_managed"


def upload(project: DSSProject, name: str, csv_text: str, *, typed: bool = True) -> DSSDataset:
    """An uploaded dataset holding `csv_text` (comma-separated, with a header), its format and schema detected."""
    dataset = project.create_upload_dataset(name)
    dataset.uploaded_add_file(io.BytesIO(csv_text.encode("utf-8")), f"{name}.csv")
    dataset.autodetect_settings(infer_storage_types=typed).save()
    return dataset


def recipe(project: DSSProject, rtype: str, inputs: list[str], output: str, fmt: str | None = None) -> DSSRecipe:
    """A visual recipe writing a new managed dataset on the Filesystem connection (format preset `fmt`)."""
    builder = project.new_recipe(rtype)
    for name in inputs:
        builder.with_input(name)
    builder.with_new_output(output, CONN, format_option_id=fmt)
    return builder.create()


def python_recipe(project: DSSProject, inputs: list[str], output: str, script: str) -> DSSRecipe:
    builder = project.new_recipe("python")
    for name in inputs:
        builder.with_input(name)
    builder.with_new_output_dataset(output, CONN)
    builder.with_script(script)
    return builder.create()


def build(project: DSSProject, output: str, job_type: str = "NON_RECURSIVE_FORCED_BUILD") -> tuple[DSSJob, str]:
    """Build one dataset; return the job and its final state."""
    job = project.new_job(job_type).with_output(output).start()
    return job, wait_job(job)


def wait_job(job: DSSJob, timeout: float = 120.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        state = job.get_status()["baseStatus"]["state"]
        if state in ("DONE", "FAILED", "ABORTED"):
            return state
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job.id} still {state} after {timeout} s")
        time.sleep(0.05)


def wait_state(job: DSSJob, wanted: str, timeout: float = 60.0) -> None:
    """Poll until the job reaches `wanted` (a state it passes through)."""
    deadline = time.monotonic() + timeout
    while (state := job.get_status()["baseStatus"]["state"]) != wanted:
        if state in ("DONE", "FAILED", "ABORTED") or time.monotonic() > deadline:
            raise AssertionError(f"job {job.id} is {state}, never {wanted}")
        time.sleep(0.05)


def rows(project: DSSProject, name: str) -> list[list[Any]]:
    return [list(r) for r in project.get_dataset(name).iter_rows()]
