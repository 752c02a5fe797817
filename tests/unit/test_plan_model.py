"""The plan model's typed fields: what a saved plan holds, and how plans saved before a field are read."""

from __future__ import annotations

import json

from dataiku_iac import Action, ActionType, StepPhase, StepStatus
from dataiku_iac.apply.applier import StepResult


def test_forgotten_only_is_saved_and_read_back() -> None:
    kept = Action("project.CHURN", "project", ActionType.DELETE, "kept in DSS, only forgotten: it holds ...",
                  remote_id="CHURN", with_project=True, forgotten_only=True)
    saved = json.loads(json.dumps(kept.to_dict()))
    assert saved["forgotten_only"] is True
    assert Action.from_dict(saved) == kept


def test_a_plan_saved_before_the_field_says_forgotten_in_its_reason() -> None:
    old = {"address": "dataset.CHURN.gone", "kind": "dataset", "action": "delete", "remote_id": "gone",
           "reason": "already gone from DSS: only forgotten", "with_project": True}
    assert Action.from_dict(old).forgotten_only
    assert not Action.from_dict({**old, "reason": "removed from the config", "with_project": False}).forgotten_only


def test_step_results_serialise_as_the_plain_strings_they_always_were() -> None:
    result = StepResult("dataset.CHURN.x", StepPhase.CREATE, StepStatus.OK)
    assert json.dumps(result.__dict__) == ('{"address": "dataset.CHURN.x", "action": "create", "status": "ok", '
                                           '"error": null, "seconds": 0.0}')
    assert f"{result.action} {result.status}" == "create ok"
