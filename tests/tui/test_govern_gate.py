"""The plan review of an environment with `approval: govern`: the Govern gate on screen (status, who, link), `s`
to request the sign-off or look again, and approval blocked until Govern approves the plan on screen."""

from __future__ import annotations

from pathlib import Path

from dataiku_iac.tui.app import DssIacApp
from dataiku_iac.tui.apply_screen import ApplyScreen
from dataiku_iac.tui.modals import ApproveModal
from textual.widgets import Static

from .conftest import pilot_test, settle, type_text
from .test_flows import SIZE, open_plan


def gate_line(screen: object) -> str:
    line = screen.query_one("#gate", Static)  # type: ignore[attr-defined]
    return str(line.render()) if line.has_class("shown") else ""


def with_signoff(root: Path) -> Path:
    text = (root / "dss-iac.yaml").read_text()
    (root / "dss-iac.yaml").write_text(text.replace("    variables:\n      threshold: \"0.4\"\n",
                                                    "    variables:\n      threshold: \"0.4\"\n    approval: govern\n",
                                                    1))
    return root


@pilot_test
async def test_the_review_shows_the_gate_and_approval_waits_for_govern(simple_ws: Path) -> None:
    app = DssIacApp(with_signoff(simple_ws), env="dev")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_plan(pilot)
        assert screen.plan is not None and screen.plan.summary().add == 11
        assert gate_line(screen) == ("Govern sign-off needed (approval: govern), not requested yet · s: request it "
                                     "in Govern")
        assert screen.query_one("#gate", Static).has_class("open") is False
        await pilot.press("a")
        await pilot.pause()
        assert not isinstance(app.screen, ApproveModal)  # blocked: nobody approved this plan in Govern

        await pilot.press("s")
        await settle(pilot)
        govern = app.service.ws.embedded().govern_client()
        link = f"{app.service.ws.embedded().url('govern')}/artifact/ar.1"
        assert gate_line(screen) == (f"Govern sign-off: the plan {screen.plan.fingerprint[7:23]} of dev: pending "
                                     f"(WAITING_FOR_APPROVAL): sign-off 'review' of {link} waits for the final "
                                     "approval of admin (group administrators) · s: look again")
        await pilot.press("a")
        await pilot.pause()
        assert not isinstance(app.screen, ApproveModal)

        govern.get_artifact("ar.1").get_signoff("review").add_approval("APPROVED", "go")
        await pilot.press("s")  # look again
        await settle(pilot)
        assert gate_line(screen).startswith("Govern sign-off: the plan ")
        assert f': approved by admin: "go" (sign-off \'review\' of {link})' in gate_line(screen)
        assert screen.query_one("#gate", Static).has_class("open")
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ApproveModal)
        await type_text(pilot, "dev")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ApplyScreen) and app.screen.result is not None and app.screen.result.ok


@pilot_test
async def test_an_environment_without_approval_shows_no_gate(simple_ws: Path) -> None:
    app = DssIacApp(simple_ws, env="dev")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_plan(pilot)
        assert gate_line(screen) == ""
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ApproveModal)
