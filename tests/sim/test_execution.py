"""What the simulator executes, seen from outside: files under connection roots, persistence of data, jobs
and runs across restarts, the dataiku package's limits, the scratch data folder of an in-memory simulator."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest
from dataikuapi.utils import DataikuException

from dataiku_iac.sim import Simulator
from tests.contract.data_helpers import build, python_recipe, recipe, rows, upload, wait_state


def _filesystem_dataset(project, name: str, fmt: dict, columns: list[tuple[str, str]]):
    dataset = project.create_dataset(name, "Filesystem", params={"connection": "filesystem_managed",
                                                                 "path": "${projectKey}/" + name},
                                      formatType="csv", formatParams=fmt)
    settings = dataset.get_settings()
    settings.get_raw()["schema"] = {"columns": [{"name": n, "type": t} for n, t in columns]}
    settings.save()
    return dataset


def test_files_written_under_the_connection_root_are_the_dataset(tmp_path: Path) -> None:
    with Simulator(data_dir=tmp_path / "sim") as sim:
        project = sim.client().create_project("FILES", "files", "admin")
        escaped = {"style": "escape_only_no_quote", "separator": "\t", "escapeChar": "\\", "parseHeaderRow": False}
        _filesystem_dataset(project, "events", escaped, [("id", "int"), ("text", "string"), ("at", "date")])
        folder = tmp_path / "sim" / "design" / "managed_datasets" / "FILES" / "events"
        folder.mkdir(parents=True)
        (folder / "part1.tsv").write_text("1\ttab\\\tinside\t2024-05-01T10:00:00.000Z\n", encoding="utf-8")
        (folder / "part2.tsv").write_text("2\tplain\t\n", encoding="utf-8")
        (folder / "_SUCCESS").write_text("", encoding="utf-8")
        got = rows(project, "events")
        assert [r[:2] for r in got] == [[1, "tab\tinside"], [2, "plain"]]
        assert got[0][2].isoformat().startswith("2024-05-01T10:00:00") and got[1][2] is None


def test_a_path_leaving_the_connection_root_is_refused(sim: Simulator) -> None:
    project = sim.client().create_project("ESCAPE", "escape", "admin")
    try:
        dataset = project.create_dataset("evil", "Filesystem", params={"connection": "filesystem_managed",
                                                                         "path": "../../../etc"})
        with pytest.raises(DataikuException, match="leaves its connection root"):
            list(dataset.iter_rows())
    finally:
        project.delete()


def test_data_metrics_and_jobs_survive_a_restart_and_running_jobs_end_aborted(tmp_path: Path) -> None:
    with Simulator(data_dir=tmp_path / "sim") as sim:
        project = sim.client().create_project("KEEP", "keep", "admin")
        upload(project, "orders", "id,amount\n1,2.5\n2,3\n")
        recipe(project, "sync", ["orders"], "copy")
        job, state = build(project, "copy")
        assert state == "DONE"
        project.get_dataset("copy").compute_metrics(metric_ids=["records:COUNT_RECORDS"])
        python_recipe(project, ["orders"], "slow", "import time\ntime.sleep(600)\n")
        slow = project.new_job().with_output("slow").start()
        wait_state(slow, "RUNNING")
    with Simulator(data_dir=tmp_path / "sim") as sim:
        project = sim.client().get_project("KEEP")
        assert rows(project, "copy") == [[1, 2.5], [2, 3.0]]
        metrics = project.get_dataset("copy").get_last_metric_values()
        assert metrics.get_global_value("records:COUNT_RECORDS") == 2
        assert project.get_job(job.id).get_status()["baseStatus"]["state"] == "DONE"
        assert project.get_job(slow.id).get_status()["baseStatus"]["state"] == "ABORTED"


def test_a_stopping_simulator_aborts_its_runs(tmp_path: Path) -> None:
    with Simulator(data_dir=tmp_path / "sim") as sim:
        project = sim.client().create_project("STOP", "stop", "admin")
        scenario = project.create_scenario("Slow", "custom_python")
        settings = scenario.get_settings()
        settings.code = "import time\ntime.sleep(600)\n"
        settings.save()
        run = scenario.run().wait_for_scenario_run()
        started = time.monotonic()
    assert time.monotonic() - started < 30  # the run's process was killed, not waited for
    with Simulator(data_dir=tmp_path / "sim") as sim:
        scenario = sim.client().get_project("STOP").get_scenario(scenario.id)
        assert scenario.get_run(run.id).outcome == "ABORTED"
        assert scenario.get_status().running is False


@pytest.mark.skipif(importlib.util.find_spec("pandas") is not None, reason="pandas is installed: get_dataframe works")
def test_get_dataframe_without_pandas_fails_the_recipe_clearly(sim: Simulator) -> None:
    project = sim.client().create_project("NOPANDAS", "no pandas", "admin")
    try:
        upload(project, "orders", "id\n1\n")
        python_recipe(project, ["orders"], "out", "import dataiku\ndataiku.Dataset('orders').get_dataframe()\n")
        job, state = build(project, "out")
        assert state == "FAILED"
        assert "get_dataframe() needs pandas" in job.get_status()["error"]["message"]
    finally:
        project.delete()


def test_an_in_memory_simulator_removes_its_data_folder() -> None:
    sim = Simulator().start()
    home = sim.node().dip_home
    assert home is not None and home.is_dir()
    sim.stop()
    assert not home.exists()
