"""Scenarios, through dataikuapi only: settings, triggers, Python payload, status, runs, testing status."""

from __future__ import annotations

import datetime
import json
import warnings

import pytest
from dataikuapi import DSSClient
from dataikuapi.dss.project import DSSProject
from dataikuapi.dss.scenario import DSSScenario, DSSTriggerFire
from dataikuapi.utils import DataikuException

from tests.conftest import AGAINST_REAL_DSS, NON_ADMIN_KEY

CONN = "filesystem_managed"


def make_dataset(project: DSSProject, name: str) -> None:
    project.create_dataset(name, "Filesystem", params={"connection": CONN, "path": f"/iac_tests/{name}"})


def build_step(*datasets: str, **extra: object) -> dict:
    return {"type": "build_flowitem", "name": f"build {' '.join(datasets)}", **extra,
            "params": {"builds": [{"type": "DATASET", "itemId": d, "partitionsSpec": ""} for d in datasets],
                       "jobType": "RECURSIVE_BUILD"}}


def step_scenario(project: DSSProject, name: str, *steps: dict, test: bool = False) -> DSSScenario:
    scenario = project.create_scenario(name, "step_based")
    settings = scenario.get_settings()
    settings.raw_steps.extend(steps)
    settings.get_raw()["markedAsTest"] = test
    settings.save()
    return scenario


def python_scenario(project: DSSProject, name: str, script: str) -> DSSScenario:
    scenario = project.create_scenario(name, "custom_python")
    settings = scenario.get_settings()
    settings.code = script
    settings.save()
    return scenario


# -- create, list, settings ----------------------------------------------------------------------------------

def test_create_list_and_read(project: DSSProject) -> None:
    scenario = project.create_scenario("Nightly refresh", "step_based")
    listed = [s for s in project.list_scenarios() if s["id"] == scenario.id]
    assert len(listed) == 1 and listed[0]["name"] == "Nightly refresh"
    assert listed[0]["running"] is False and listed[0].start_time is None
    raw = scenario.get_settings().get_raw()
    assert (raw["id"], raw["name"], raw["type"]) == (scenario.id, "Nightly refresh", "step_based")
    assert raw["params"]["steps"] == [] and raw["triggers"] == [] and raw["reporters"] == []
    assert "versionTag" in raw and "creationTag" in raw
    assert [s.id for s in project.list_scenarios(as_type="objects")] == [scenario.id]


@pytest.mark.skipif(AGAINST_REAL_DSS, reason="the id DSS derives from a scenario name is a simulator guess")
def test_id_is_derived_from_the_name_and_unique(project: DSSProject) -> None:
    first = project.create_scenario("Daily build", "step_based")
    second = project.create_scenario("Daily build", "step_based")
    assert first.id == "DAILY_BUILD"
    assert second.id == "DAILY_BUILD_1"


def test_same_name_twice_gives_two_scenarios(project: DSSProject) -> None:
    a = project.create_scenario("Twice", "step_based")
    b = project.create_scenario("Twice", "step_based")
    assert a.id != b.id
    assert sorted(s["id"] for s in project.list_scenarios()) == sorted([a.id, b.id])


@pytest.mark.parametrize(("name", "kind"), [("ok", "no_such_type"), ("", "step_based")])
def test_bad_type_or_empty_name_is_refused(project: DSSProject, name: str, kind: str) -> None:
    with pytest.raises(DataikuException):
        project.create_scenario(name, kind)
    assert project.list_scenarios() == []


def test_settings_save_fills_ids_and_defaults(project: DSSProject) -> None:
    make_dataset(project, "a")
    scenario = project.create_scenario("Filled", "step_based")
    before = scenario.get_settings().get_raw()["versionTag"]["versionNumber"]
    settings = scenario.get_settings()
    settings.raw_steps.append(build_step("a"))
    settings.add_periodic_trigger(every_minutes=15)
    settings.get_raw()["tags"] = ["ops", "daily", "ops"]
    settings.get_raw()["iacSentinel"] = "kept"
    settings.active = True
    settings.save()
    raw = scenario.get_settings().get_raw()
    step, trigger = raw["params"]["steps"][0], raw["triggers"][0]
    assert step["id"] and step["params"]["builds"][0]["itemId"] == "a"
    assert step["runConditionType"] == "RUN_IF_STATUS_MATCH" and step["enabled"] is True
    assert trigger["id"] and trigger["active"] is True and "delay" in trigger and trigger["name"]
    assert trigger["params"] == {"frequency": "Minutely", "repeatFrequency": 15}
    assert raw["tags"] == ["daily", "ops"] and raw["iacSentinel"] == "kept" and raw["active"] is True
    assert raw["versionTag"]["versionNumber"] > before
    # ids are stable: saving again keeps them
    again = scenario.get_settings()
    again.save()
    assert scenario.get_settings().get_raw()["triggers"][0]["id"] == trigger["id"]


def test_trigger_builders_roundtrip(project: DSSProject) -> None:
    scenario = project.create_scenario("Triggers", "step_based")
    settings = scenario.get_settings()
    settings.add_hourly_trigger(minute_of_hour=15, repeat_every=2)
    settings.add_daily_trigger(hour=3, minute=30, days=["Monday", "Friday"])
    settings.add_monthly_trigger(day=5, run_on="LAST_DAY_OF_THE_MONTH")
    settings.save()
    triggers = scenario.get_settings().raw_triggers
    assert [t["params"]["frequency"] for t in triggers] == ["Hourly", "Weekly", "Monthly"]
    assert triggers[1]["params"]["daysOfWeek"] == ["Monday", "Friday"]
    assert triggers[2]["params"]["monthlyRunOn"] == "LAST_DAY_OF_THE_MONTH"
    assert len({t["id"] for t in triggers}) == 3


def test_save_cannot_change_identity_or_type(project: DSSProject) -> None:
    scenario = project.create_scenario("Fixed", "step_based")
    settings = scenario.get_settings()
    settings.get_raw().update(id="OTHER", type="custom_python")
    settings.save()
    raw = scenario.get_settings().get_raw()
    assert (raw["id"], raw["type"]) == (scenario.id, "step_based")


def test_malformed_settings_are_refused(project: DSSProject) -> None:
    scenario = project.create_scenario("Strict", "step_based")
    for breakage in ({"triggers": "daily"}, {"name": ""}):
        settings = scenario.get_settings()
        settings.get_raw().update(breakage)
        with pytest.raises(DataikuException):
            settings.save()
    settings = scenario.get_settings()
    settings.raw_steps.append({"name": "no type"})
    with pytest.raises(DataikuException):
        settings.save()
    assert scenario.get_settings().get_raw()["name"] == "Strict"


@pytest.mark.skipif(AGAINST_REAL_DSS, reason="uses the simulator's non-admin key")
def test_only_admins_set_run_as(sim, project: DSSProject) -> None:
    scenario = project.create_scenario("Run as", "step_based")
    as_alice = sim.client(api_key=NON_ADMIN_KEY).get_project(project.project_key).get_scenario(scenario.id)
    settings = as_alice.get_settings()
    settings.run_as = "bob"
    with pytest.raises(DataikuException, match="forbidden"):
        settings.save()
    admin_settings = scenario.get_settings()
    admin_settings.run_as = "bob"
    admin_settings.save()
    assert scenario.get_settings().effective_run_as == "bob"


# -- python payload, light status ----------------------------------------------------------------------------

def test_python_scenario_code_roundtrip(project: DSSProject) -> None:
    scenario = project.create_scenario("Scripted", "custom_python")
    settings = scenario.get_settings()
    assert type(settings).__name__ == "PythonScriptBasedScenarioSettings"
    code = "from dataiku.scenario import Scenario\nScenario().build_dataset('a')\n"
    settings.code = code
    settings.save()
    assert scenario.get_settings().code == code
    assert "build_dataset" not in json.dumps(scenario.get_settings().get_raw())  # the script is not a setting
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        scenario.set_payload("print(2)")
        assert scenario.get_payload() == "print(2)"  # a GET with a body {"extension": "py"}


@pytest.mark.skipif(AGAINST_REAL_DSS, reason="the error for a step-based scenario's payload is a simulator guess")
def test_step_based_scenario_has_no_payload(project: DSSProject) -> None:
    scenario = project.create_scenario("Steps only", "step_based")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(DataikuException):
            scenario.get_payload()


def test_light_status(project: DSSProject) -> None:
    scenario = project.create_scenario("Status", "step_based")
    status = scenario.get_status()
    assert status.running is False
    assert status.next_run is None
    assert status.get_raw()["active"] is False


def test_light_save_changes_only_light_fields(project: DSSProject) -> None:
    scenario = project.create_scenario("Light", "step_based")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        light = scenario.get_definition(with_status=True)
        light.update(active=True, tags=["b", "a"], name="Renamed")
        scenario.set_definition(light, with_status=True)
    raw = scenario.get_settings().get_raw()
    assert raw["active"] is True and raw["tags"] == ["a", "b"] and raw["name"] == "Light"


# -- runs ----------------------------------------------------------------------------------------------------

def test_run_and_wait_succeeds_for_a_valid_scenario(project: DSSProject) -> None:
    make_dataset(project, "a")
    scenario = step_scenario(project, "Good", build_step("a"))
    run = scenario.run_and_wait()
    assert run.outcome == "SUCCESS" and not run.running
    assert run.end_time >= run.start_time and run.duration >= 0
    assert run.trigger["type"] == "manual"
    details = run.get_details()
    assert [s.outcome for s in details.steps] == ["SUCCESS"]
    assert details.first_error_details is None and details.steps[0].job_ids == []
    assert scenario.get_run(run.id).outcome == "SUCCESS"
    assert scenario.get_last_finished_run().id == run.id
    assert scenario.get_current_run() is None
    assert scenario.get_status().get_raw()["running"] is False


def test_run_fails_when_a_build_names_a_missing_dataset(project: DSSProject) -> None:
    scenario = step_scenario(project, "Broken", build_step("no_such_dataset"))
    with pytest.raises(DataikuException, match="FAILED"):
        scenario.run_and_wait()
    run = scenario.run_and_wait(no_fail=True)
    assert run.outcome == "FAILED"
    assert "no_such_dataset" in run.get_details().first_error_details["message"]


def test_steps_after_a_failure_are_skipped_unless_run_always(project: DSSProject) -> None:
    make_dataset(project, "a")
    scenario = step_scenario(project, "Conditional", build_step("missing"), build_step("a"),
                             build_step("a", runConditionType="RUN_ALWAYS"),
                             build_step("missing", enabled=False))
    run = scenario.run_and_wait(no_fail=True)
    assert run.outcome == "FAILED"
    assert [s.outcome for s in run.get_details().steps] == ["FAILED", "SUCCESS"]
    assert run.get_details().steps[1]["step"]["runConditionType"] == "RUN_ALWAYS"


def test_run_scenario_step_needs_an_existing_scenario(project: DSSProject) -> None:
    target = project.create_scenario("Target", "step_based")
    good = step_scenario(project, "Caller", {"type": "run_scenario", "params": {"scenarioId": target.id}})
    bad = step_scenario(project, "Caller bad", {"type": "run_scenario", "params": {"scenarioId": "NO_SUCH"}})
    assert good.run_and_wait().outcome == "SUCCESS"
    assert bad.run_and_wait(no_fail=True).outcome == "FAILED"


def test_python_scenario_outcomes(project: DSSProject) -> None:
    assert python_scenario(project, "Py good", "x = 1\nprint(x)\n").run_and_wait().outcome == "SUCCESS"
    broken = python_scenario(project, "Py broken", "def oops(:\n")
    with pytest.raises(DataikuException, match="FAILED"):
        broken.run_and_wait()


def test_python_scenario_runs_its_script(project: DSSProject) -> None:
    script = ("import dataiku\n"
              "project = dataiku.api_client().get_project(dataiku.default_project_key())\n"
              "variables = project.get_variables()\n"
              "variables['standard']['ran_by_scenario'] = 'yes'\n"
              "project.set_variables(variables)\n")
    assert python_scenario(project, "Py writes", script).run_and_wait().outcome == "SUCCESS"
    assert project.get_variables()["standard"]["ran_by_scenario"] == "yes"
    failing = python_scenario(project, "Py raises", "raise ValueError('no data today')\n")
    run = failing.run_and_wait(no_fail=True)
    assert run.outcome == "FAILED"
    assert "no data today" in run.get_info()["result"]["thrown"]["message"]


def test_run_trigger_fire_and_polling(project: DSSProject) -> None:
    scenario = project.create_scenario("Fired", "step_based")
    fire = scenario.run({"foo": "bar"})
    assert fire.get_raw()["cancelled"] is False and fire.trigger_id and fire.run_id
    run = fire.wait_for_scenario_run()
    run.wait_for_completion()
    assert run.outcome == "SUCCESS"
    unknown = DSSTriggerFire(scenario, {"trigger": {"id": fire.trigger_id}, "runId": "never-fired",
                                        "cancelled": False})
    assert unknown.get_scenario_run() is None


def test_last_runs_newest_first_with_limit(project: DSSProject) -> None:
    make_dataset(project, "a")
    scenario = step_scenario(project, "Many", build_step("a"))
    ids = [scenario.run_and_wait().id for _ in range(3)]
    assert len(set(ids)) == 3
    assert [r.id for r in scenario.get_last_runs(limit=2)] == ids[:0:-1]
    assert [r.id for r in scenario.get_last_runs(only_finished_runs=True)] == ids[::-1]
    today = datetime.date.today()
    by_date = scenario.get_runs_by_date(today - datetime.timedelta(days=1), today + datetime.timedelta(days=1))
    assert {r.id for r in by_date} == set(ids)


def test_run_of_another_scenario_is_not_found(project: DSSProject) -> None:
    scenario = project.create_scenario("Runs", "step_based")
    run = scenario.run_and_wait()
    other = project.create_scenario("No runs", "step_based")
    with pytest.raises(DataikuException):
        other.get_run(run.id)
    assert other.get_last_runs() == []
    scenario.abort()  # nothing runs any more: aborting is harmless


# -- testing status ------------------------------------------------------------------------------------------

def test_testing_status_counts_last_runs_of_test_scenarios(project: DSSProject) -> None:
    make_dataset(project, "a")
    good = step_scenario(project, "Test good", build_step("a"), test=True)
    bad = step_scenario(project, "Test bad", build_step("missing"), test=True)
    plain = step_scenario(project, "Not a test", build_step("a"))
    assert project.get_testing_status().nb_total_ran_scenarios == 0
    good.run_and_wait()
    bad.run_and_wait(no_fail=True)
    plain.run_and_wait()
    status = project.get_testing_status()
    assert status.nb_total_ran_scenarios == 2
    assert status.nb_scenarios_per_outcome["SUCCESS"] == 1
    assert status.nb_scenarios_per_outcome["FAILED"] == 1
    assert {s.id for s in project.list_test_scenarios()} == {good.id, bad.id}


@pytest.mark.skipif(AGAINST_REAL_DSS, reason="the bundle filter needs a bundle activated on an automation node")
def test_testing_status_filters_by_bundle(project: DSSProject) -> None:
    step_scenario(project, "Test", test=True).run_and_wait()
    assert project.get_testing_status(bundle_id="no_such_bundle").nb_total_ran_scenarios == 0
    assert project.get_testing_status().nb_total_ran_scenarios == 1


@pytest.mark.multinode
def test_bundle_ships_the_script_and_runs_record_the_active_bundle(sim, project: DSSProject, tmp_path) -> None:
    scenario = python_scenario(project, "Shipped test", "print('from the bundle')\n")
    settings = scenario.get_settings()
    settings.get_raw()["markedAsTest"] = True
    settings.save()
    project.export_bundle("v1")
    archive = tmp_path / "v1.zip"
    project.download_exported_bundle_archive_to_file("v1", str(archive))
    automation = sim.client(node="automation")
    with open(archive, "rb") as f:
        automation.create_project_from_bundle_archive(f)
    deployed = automation.get_project(project.project_key)
    try:
        deployed.activate_bundle("v1")
        shipped = deployed.get_scenario(scenario.id)
        assert shipped.get_settings().code == "print('from the bundle')\n"
        assert shipped.run_and_wait().outcome == "SUCCESS"
        assert deployed.get_testing_status(bundle_id="v1").nb_scenarios_per_outcome["SUCCESS"] == 1
        assert deployed.get_testing_status(bundle_id="v0").nb_total_ran_scenarios == 0
    finally:
        deployed.delete()


# -- delete and not found ------------------------------------------------------------------------------------

def test_delete(project: DSSProject) -> None:
    scenario = project.create_scenario("Doomed", "step_based")
    scenario.run_and_wait()
    scenario.delete()
    assert project.list_scenarios() == []
    with pytest.raises(DataikuException):
        scenario.get_settings()


def test_missing_scenario_is_not_found(project: DSSProject) -> None:
    missing = project.get_scenario("NO_SUCH_SCENARIO")
    for call in (missing.get_settings, missing.get_status, missing.run, missing.delete, missing.get_last_runs):
        with pytest.raises(DataikuException, match="NO_SUCH_SCENARIO"):
            call()


def test_unknown_project_is_an_error(dss: DSSClient) -> None:
    with pytest.raises(DataikuException, match="NO_SUCH_PROJECT"):
        dss.get_project("NO_SUCH_PROJECT").list_scenarios()
    with pytest.raises(DataikuException, match="NO_SUCH_PROJECT"):
        dss.get_project("NO_SUCH_PROJECT").get_testing_status()
