"""The plan model's typed fields: what a saved plan holds, and how plans saved before a field are read."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from dataiku_iac import Action, ActionReason, ActionType, Address, Plan, StepPhase, StepStatus
from dataiku_iac.apply.applier import StepResult


def test_forgotten_only_is_saved_and_read_back() -> None:
    kept = Action(Address.parse("project.CHURN"), "project", ActionType.DELETE,
                  "kept in DSS, only forgotten: it holds ...", remote_id="CHURN", with_project=True,
                  forgotten_only=True)
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


@given(st.sampled_from([r for r in ActionReason if r is not ActionReason.UNKNOWN]), st.text(min_size=1))
def test_a_reason_sentence_maps_back_to_its_code(reason: ActionReason, detail: str) -> None:
    # Plans saved before the codes hold only the sentence: its code is found again, whatever it names.
    assert ActionReason.of_text(reason.text(detail)) is reason


def test_a_sentence_no_reason_says_is_unknown_and_kept_as_written() -> None:
    old = {"address": "dataset.CHURN.x", "kind": "dataset", "action": "update", "reason": "a future reason"}
    action = Action.from_dict(old)
    assert (action.reason_code, action.reason) == (ActionReason.UNKNOWN, "a future reason")
    assert action.to_dict()["reason_code"] == "unknown"


def test_addresses_are_typed_in_memory_and_text_in_json() -> None:
    saved = {"address": "recipe.CHURN.clean", "kind": "recipe", "action": "create", "reason": "not in DSS",
             "reason_code": "not_in_dss", "depends_on": ["project.CHURN", "dataset.CHURN.raw"]}
    action = Action.from_dict(saved)
    assert action.address == Address("recipe", "CHURN", "clean")
    assert action.depends_on == (Address("project", "CHURN"), Address("dataset", "CHURN", "raw"))
    again = action.to_dict()
    assert {k: again[k] for k in saved} == saved


def test_a_sign_off_given_before_reason_codes_still_holds() -> None:
    # Approvals are bound to the plan's fingerprint: the code adds nothing the reason does not say, so it is left out.
    def plan(code: ActionReason) -> Plan:
        action = Action(Address.parse("dataset.CHURN.x"), "dataset", ActionType.UPDATE, "config changed",
                        reason_code=code)
        return Plan("dev", (action,), "digest", None, 0, "fp", "now")

    assert plan(ActionReason.CONFIG_CHANGED).fingerprint == plan(ActionReason.UNKNOWN).fingerprint
