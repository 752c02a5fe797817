"""A finished scenario run, through dataikuapi only: its info, times, duration, refresh, and the scenario's
average duration."""

from __future__ import annotations

from dataikuapi.dss.project import DSSProject


def test_finished_run_details_and_average_duration(project: DSSProject) -> None:
    scenario = project.create_scenario("Timed", "step_based")
    assert scenario.get_average_duration(limit=2) is None  # not enough runs yet
    first = scenario.run_and_wait()
    second = scenario.run_and_wait()
    info = second.get_info()
    assert info["runId"] == second.id and info["scenario"]["id"] == scenario.id
    assert second.get_end_time() >= second.get_start_time()
    assert second.get_duration() >= 0 and first.id != second.id
    second.refresh()
    assert second.outcome == "SUCCESS" and not second.running
    average = scenario.get_average_duration(limit=2)
    assert average is not None and average >= 0


def test_trigger_fire_and_last_successful_run(project: DSSProject) -> None:
    scenario = project.create_scenario("Fired", "step_based")
    fire = scenario.run()
    again = scenario.get_trigger_fire(fire.trigger_id, fire.run_id)
    assert again.get_raw()["runId"] == fire.run_id and again.trigger_id == fire.trigger_id
    run = again.wait_for_scenario_run()
    run.wait_for_completion()
    assert scenario.get_last_successful_run().id == run.id
