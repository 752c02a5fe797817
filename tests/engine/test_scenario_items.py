"""Scenarios as users build them: every step, trigger and reporter family planned, applied to the embedded DSS,
re-planned empty, drifted by a hand edit through dataikuapi, and imported back to YAML that validates and re-plans
empty; Python scenarios with their script in a file; reporter secrets write-only; bad input refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from dataiku_iac import Workspace
from dataiku_iac.errors import ConfigError
from dataiku_iac.importer import import_project
from tests.engine.conftest import apply_ok, changes, churn_flow

FLOW = churn_flow("raw", "clean", then="scenarios:\n  upstream: {steps: [{type: build, items: [raw]}]}\n")
STEPS = """\
  nightly:
    steps:
      - {type: build, items: [clean, models], mode: RECURSIVE_FORCED_BUILD}
      - {type: clear, items: [raw]}
      - {type: run_scenario, scenario: upstream}
      - {type: python, name: Tidy up, code: code/tidy.py}
      - {type: sql, connection: filesystem_managed, sql: DELETE FROM t}
      - {type: set_project_variables, variables: {run_date: "2024-01-01", n: 3}}
      - {type: set_global_variables, variables: {flag: true}}
      - {type: compute_metrics, datasets: [clean]}
      - {type: run_checks, datasets: [clean], enabled: false}
      - {type: refresh_statistics, datasets: [raw]}
      - {type: send_report, name: Report, params: {messaging: {type: mail-scenario, configuration: {recipient: a@b.c}}}}
"""
TRIGGERS = """\
  nightly:
    triggers:
      - {type: temporal, frequency: Minutely, repeat: 15}
      - {type: temporal, frequency: Hourly, minute: 5}
      - {type: temporal, frequency: Daily, hour: 2, minute: 30, timezone: Europe/Paris}
      - {type: temporal, frequency: Weekly, hour: 6, days: [Friday, Monday]}
      - {type: temporal, frequency: Monthly, hour: 1, run_on: LAST_DAY_OF_THE_MONTH, active: false}
      - {type: dataset, datasets: [raw, clean], delay: 60, when_all: true}
      - {type: sql, connection: filesystem_managed, sql: SELECT max(ts) FROM events}
      - {type: follow_scenario, scenario: upstream}
      - {type: python, code: code/fire.py}
      - {type: pyrunnable_plugin_trigger, params: {threshold: 5}}
    steps: [{type: build, items: [clean]}]
"""
REPORTERS = """\
  nightly:
    steps: [{type: build, items: [clean]}]
    reporters:
      - {type: mail, to: ops@example.com, subject: "${scenarioName}: ${outcome}", when: "outcome != 'SUCCESS'"}
      - {type: slack, webhook_url: "${env:SLACK_HOOK}", channel: "#data", message: done}
      - {type: teams, webhook_url: "${env:TEAMS_HOOK}", message: done}
      - {type: webhook, webhook_url: "${env:HOOK_URL}", payload: "{}", phase: START, when: null}
      - {type: twilio-scenario, config: {to: "+33600000000"}}
"""
FILES = {"projects/code/tidy.py": "print('tidy')\n", "projects/code/fire.py": "print('fire')\n"}
ADDRESS = "scenario.CHURN.nightly"
SECRETS = {"SLACK_HOOK": "https://hooks.slack.example/T000/B000/XXXX", "TEAMS_HOOK": "https://teams.example/hook/1",
           "HOOK_URL": "https://ci.example/hook?token=abc"}


@pytest.fixture
def secrets_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)


def _raw(ws: Workspace) -> dict:
    project = ws.connection("dev").client.get_project("CHURN")
    return project.get_scenario("NIGHTLY").get_settings().get_raw()


def _edit(ws: Workspace, change) -> None:
    settings = ws.connection("dev").client.get_project("CHURN").get_scenario("NIGHTLY").get_settings()
    change(settings.get_raw())
    settings.save()


def _import_again(ws: Workspace, root: Path, environ: dict[str, str] | None = None,
                  monkeypatch: pytest.MonkeyPatch | None = None) -> Workspace:
    """Drop the scenario from the file and the state (it stays in DSS), then import it back (with `environ` set
    before the file is used: the variables import asks for)."""
    text = (root / "projects" / "churn.yaml").read_text()
    (root / "projects" / "churn.yaml").write_text(text[:text.index("  nightly:")])
    with ws.locked_state("dev", "test") as (store, state, _):
        del state.resources[ADDRESS]
        store.commit(state, "test")
    ws.close()
    with Workspace.load(root) as fresh:
        result = import_project(fresh, "dev", "CHURN")
        assert ADDRESS in result.resources
    for name, value in (environ or {}).items():
        assert monkeypatch is not None
        monkeypatch.setenv(name, value)
    ws = Workspace.load(root)
    ws.validate("dev")
    return ws


def test_every_step_family(make_workspace, tmp_path: Path) -> None:
    ws = make_workspace({"churn": FLOW + STEPS}, files=FILES)
    apply_ok(ws)
    assert changes(ws) == []
    steps = _raw(ws)["params"]["steps"]
    assert [s["type"] for s in steps] == [
        "build_flowitem", "clear_items", "run_scenario", "custom_python", "exec_sql", "set_project_vars",
        "set_global_vars", "compute_metrics", "check_dataset", "update_statistics", "send_report"]
    assert steps[2]["params"]["scenarioId"] == "UPSTREAM" and steps[3]["params"]["script"] == "print('tidy')\n"
    assert steps[3]["name"] == "Tidy up" and steps[8]["enabled"] is False
    assert steps[10]["params"]["messaging"]["configuration"] == {"recipient": "a@b.c"}
    assert ws.connection("dev").client.get_project("CHURN").get_scenario("UPSTREAM").run_and_wait()

    def hand_edit(raw: dict) -> None:
        raw["params"]["steps"][4]["params"]["sql"] = "TRUNCATE t"
        raw["params"]["steps"][10]["params"]["messaging"]["configuration"]["recipient"] = "x@y.z"
        raw["params"]["steps"][10]["params"]["extra"] = "DSS's own"  # not set by the config: not compared
    _edit(ws, hand_edit)
    assert [(i.address, [c.path for c in i.changes]) for i in ws.drift("dev").items] == [
        (ADDRESS, ["steps.4.sql", "steps.10.params.messaging.configuration.recipient"])]
    apply_ok(ws)
    assert changes(ws) == [] and _raw(ws)["params"]["steps"][10]["params"]["extra"] == "DSS's own"
    # A code change in the file is one field of one step.
    (tmp_path / "projects/code/tidy.py").write_text("print('tidier')\n")
    ws = make_workspace()
    assert changes(ws) == [("~", ADDRESS, ["steps.3.code"])]
    apply_ok(ws)
    ws = _import_again(ws, tmp_path)
    try:
        assert changes(ws) == []
        text = (tmp_path / "projects/churn.yaml").read_text()
        assert "type: sql" in text and "type: send_report" in text and "scenario: upstream" in text
    finally:
        ws.close()


def test_every_trigger_family(make_workspace, tmp_path: Path) -> None:
    ws = make_workspace({"churn": FLOW + TRIGGERS}, files=FILES)
    apply_ok(ws)
    assert changes(ws) == []
    triggers = _raw(ws)["triggers"]
    assert [t["type"] for t in triggers] == ["temporal"] * 5 + [
        "ds_modified", "sql_query", "follow_scenariorun", "custom_python", "pyrunnable_plugin_trigger"]
    assert [t["params"]["frequency"] for t in triggers[:5]] == ["Minutely", "Hourly", "Daily", "Weekly", "Monthly"]
    assert triggers[4]["params"]["monthlyRunOn"] == "LAST_DAY_OF_THE_MONTH" and triggers[4]["active"] is False
    assert triggers[5]["params"]["triggerWhenAllFire"] is True and triggers[5]["delay"] == 60
    assert triggers[6]["params"]["sql"] == "SELECT max(ts) FROM events"
    assert triggers[7]["params"]["scenarioId"] == "UPSTREAM" and triggers[8]["params"]["code"] == "print('fire')\n"
    assert triggers[9]["params"]["threshold"] == 5

    def hand_edit(raw: dict) -> None:
        raw["triggers"][2]["params"]["hour"] = 3
        raw["triggers"][9]["params"]["threshold"] = 6
    _edit(ws, hand_edit)
    assert [(i.address, [c.path for c in i.changes]) for i in ws.drift("dev").items] == [
        (ADDRESS, ["triggers.2.hour", "triggers.9.params.threshold"])]
    apply_ok(ws)
    assert changes(ws) == []
    ws = _import_again(ws, tmp_path)
    try:
        assert changes(ws) == []
        assert "run_on: LAST_DAY_OF_THE_MONTH" in (tmp_path / "projects/churn.yaml").read_text()
    finally:
        ws.close()


def test_every_reporter_family_and_its_secrets(make_workspace, tmp_path: Path, secrets_env: None,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    ws = make_workspace({"churn": FLOW + REPORTERS})
    plan = ws.plan("dev")
    assert all(v not in plan.to_json() for v in SECRETS.values())
    apply_ok(ws)
    assert changes(ws) == []
    reporters = _raw(ws)["reporters"]
    assert [r["messaging"]["type"] for r in reporters] == [
        "mail-scenario", "slack-scenario", "msft-teams-scenario", "webhook-scenario", "twilio-scenario"]
    assert reporters[1]["messaging"]["configuration"]["webhookUrl"] == SECRETS["SLACK_HOOK"]  # DSS has it
    assert reporters[3]["messaging"]["configuration"]["url"] == SECRETS["HOOK_URL"]
    assert reporters[0]["runCondition"] == "outcome != 'SUCCESS'" and reporters[3]["runConditionEnabled"] is False
    stored = [p for p in (tmp_path / ".dss-iac").rglob("*") if p.is_file() and "sim" not in p.parts]
    assert stored and all(v.encode() not in p.read_bytes() for p in stored for v in SECRETS.values())

    # Write-only: a URL changed in DSS is not read back, so it is no drift; a message is.
    def hand_edit(raw: dict) -> None:
        raw["reporters"][1]["messaging"]["configuration"]["webhookUrl"] = "https://elsewhere.example/"
        raw["reporters"][2]["messaging"]["configuration"]["message"] = "changed"
    _edit(ws, hand_edit)
    assert [(i.address, [c.path for c in i.changes]) for i in ws.drift("dev").items] == [
        (ADDRESS, ["reporters.2.message"])]
    apply_ok(ws)
    # A new secret in the environment is told by the fingerprint of what was written: one masked change.
    monkeypatch.setenv("SLACK_HOOK", SECRETS["SLACK_HOOK"] + "-rotated")
    ws = make_workspace()
    (action,) = ws.plan("dev").changes
    (change,) = action.changes
    assert (change.path, change.sensitive, change.before, change.after) == (
        "reporters.1.webhook_url", True, "(sensitive)", "(sensitive)")
    apply_ok(ws)
    assert _raw(ws)["reporters"][1]["messaging"]["configuration"]["webhookUrl"] == SECRETS["SLACK_HOOK"] + "-rotated"
    assert changes(ws) == []
    # Imported: each secret becomes a ${env:} reference whose value import cannot know (write-only).
    refs = {f"CHURN_SCENARIOS_NIGHTLY_REPORTERS_{n}_WEBHOOK_URL": "https://x.example/" for n in (1, 2, 3)}
    ws = _import_again(ws, tmp_path, refs, monkeypatch)
    try:
        text = (tmp_path / "projects/churn.yaml").read_text()
        assert all(f"${{env:{name}}}" in text for name in refs)
        assert all(v not in text for v in SECRETS.values()) and "rotated" not in text
        # Only the write-only secrets are written once more; nothing else differs.
        assert [(str(a.address), [c.path for c in a.changes]) for a in ws.plan("dev").changes] == [
            (ADDRESS, [f"reporters.{n}.webhook_url" for n in (1, 2, 3)])]
        apply_ok(ws)
        assert changes(ws) == []
    finally:
        ws.close()


def test_a_python_scenario_runs_its_script_from_a_file(make_workspace, tmp_path: Path) -> None:
    project = FLOW + "  scripted:\n    type: python\n    code: code/scenario.py\n" \
                     "    triggers: [{type: temporal, frequency: Daily}]\n"
    script = "from dataiku.scenario import Scenario\nScenario().build_dataset('raw')\n"
    ws = make_workspace({"churn": project}, files={"projects/code/scenario.py": script})
    apply_ok(ws)
    assert changes(ws) == []
    scenario = ws.connection("dev").client.get_project("CHURN").get_scenario("SCRIPTED")
    settings = scenario.get_settings()
    assert type(settings).__name__ == "PythonScriptBasedScenarioSettings" and settings.code == script
    assert scenario.run_and_wait().get_details()["scenarioRun"]["result"]["outcome"] == "SUCCESS"
    settings.code = "print('edited by hand')\n"
    settings.save()
    assert [(i.address, [c.path for c in i.changes]) for i in ws.drift("dev").items] == [
        ("scenario.CHURN.scripted", ["code"])]
    apply_ok(ws)
    assert scenario.get_settings().code == script
    # Step-based to Python cannot change in place: a replace.
    ws = make_workspace({"churn": project.replace("    type: python\n    code: code/scenario.py\n",
                                                  "    steps: [{type: build, items: [raw]}]\n")})
    (action,) = ws.plan("dev").changes
    assert (action.symbol, action.reason) == ("-/+", "type cannot change in place")
    apply_ok(ws)
    assert changes(ws) == []
    assert type(scenario.get_settings()).__name__ == "StepBasedScenarioSettings"


@pytest.mark.parametrize(("entry", "message", "where"), [
    ("{type: temporal, frequency: Fortnightly}", "invalid value 'Fortnightly' for 'frequency'", (10, 37)),
    ("{type: dataset, datasets: [raw], delay: -1}", "greater than or equal to 0", (10, 49)),
])
def test_bad_triggers_are_refused_at_their_place(make_workspace, entry: str, message: str,
                                                 where: tuple[int, int]) -> None:
    project = FLOW.replace("  upstream: {steps: [{type: build, items: [raw]}]}\n",
                           f"  upstream:\n    triggers:\n      - {entry}\n")
    with pytest.raises(ConfigError) as e:
        make_workspace({"churn": project})
    text = e.value.render()
    assert message in text and text.startswith(f"projects/churn.yaml:{where[0]}:{where[1]}: ")


@pytest.mark.parametrize(("reporter", "what"), [
    ("{type: slack, webhook_url: 'https://hooks.slack.com/services/T0/B0/SECRET'}", "a literal webhook URL"),
    ("{type: webhook, webhook_url: 'https://ci.example/hook'}", "a literal webhook URL"),
    ("{type: slack, channel_id: ops, token: xoxb-123}", "a literal token"),
    ("{type: mail, to: a@b.c, password: hunter2}", "a literal mail password"),
    ("{type: twilio-scenario, config: {authToken: abc}}", "a literal value for 'authToken'"),
])
def test_a_literal_reporter_secret_is_refused_at_its_place(make_workspace, reporter: str, what: str) -> None:
    project = FLOW.replace("  upstream: {steps: [{type: build, items: [raw]}]}\n",
                           f"  upstream:\n    reporters:\n      - {reporter}\n")
    with pytest.raises(ConfigError) as e:
        make_workspace({"churn": project})
    text = e.value.render()
    assert what in text and "${env:NAME}" in text and text.startswith("projects/churn.yaml:10:")
    assert "SECRET" not in text and "hunter2" not in text and "xoxb-123" not in text


def test_adopt_writes_drifted_items_back_as_the_file_has_them(make_workspace, tmp_path: Path) -> None:
    ws = make_workspace({"churn": FLOW + TRIGGERS}, files=FILES)
    apply_ok(ws)

    def hand_edit(raw: dict) -> None:
        raw["triggers"][2]["params"]["hour"] = 4
        raw["triggers"][7]["params"]["scenarioId"] = "NIGHTLY"
        raw["params"]["steps"][0]["params"]["jobType"] = "NON_RECURSIVE_FORCED_BUILD"
        raw["params"]["steps"].append({"type": "set_project_vars", "name": "Stamp", "params": {"variables": {"a": 1}}})
    _edit(ws, hand_edit)
    (item,) = ws.drift("dev").items
    ws.adopt("dev", item)
    text = (tmp_path / "projects/churn.yaml").read_text()
    assert "hour: 4" in text and "scenario: nightly" in text and "NON_RECURSIVE_FORCED_BUILD" in text
    assert "Stamp" in text and "code: code/fire.py" in text  # the rest of the file as it was
    ws = make_workspace()
    assert changes(ws) == [] and not ws.drift("dev").items


def test_the_example_of_the_scenarios_doc_validates_and_plans(make_workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "scenarios.md").read_text()
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    monkeypatch.setenv("SLACK_DATA_WEBHOOK", "https://hooks.slack.example/T/B/doc")
    ws = make_workspace({"retail": example}, files={"projects/scenarios/notify.py": "print(1)\n",
                                                    "projects/scenarios/weekly_report.py": "print(2)\n"},
                        workspace_yaml="version: 1\nenvironments:\n  dev:\n    host: embedded\n    remap:\n"
                                       "      connections: {lake: filesystem_managed, warehouse: filesystem_managed}\n")
    ws.validate("dev")
    with pytest.raises(ConfigError, match=r"retail.yaml:19:86: python code env 'py_tools' of scenario 'refresh' does "
                                          "not exist on dev"):
        ws.plan("dev")  # the instance check finds the code env a Python step names
    ws.connection("dev").client.create_code_env("PYTHON", "py_tools", "DESIGN_MANAGED")
    plan = ws.plan("dev")
    refresh = next(a for a in plan.actions if str(a.address) == "scenario.RETAIL.refresh")
    assert refresh.symbol == "+" and "hooks.slack.example" not in plan.to_json()
