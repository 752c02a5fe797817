"""The terminal app and instance objects: the overview's `(instance)` row per environment, their drift in the
drift browser, and adopting it into the environment's instance file (same keys as a project's drift)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from dataiku_iac.tui import view
from dataiku_iac.tui.app import DssIacApp
from dataiku_iac.tui.drift_screen import DriftScreen
from dataiku_iac.tui.modals import ConfirmModal
from dataiku_iac.tui.overview import OverviewScreen
from textual.pilot import Pilot

from dataiku_iac import Workspace

from .conftest import SHOWN_SERIAL, copy_example, pilot_test, settle
from .test_flows import SIZE, banner, cells
from .test_snapshots import SIZES, Compare

INSTANCE = """\
# dev's instance: what the platform team manages
groups:
  analysts:
    description: the analysts  # who may build
    permissions: [may_create_projects]
users:
  ada: {display_name: Ada Lovelace, groups: [analysts], password: "${env:ADA_PASSWORD}"}
connections:
  lake:
    type: Filesystem
    params: {root: /data/lake}
    usable_by: [analysts]
variables:
  company: acme
"""


def with_instance(root: Path) -> Path:
    """The example with an instance file for dev (a group, a user, a connection, global variables)."""
    (root / "instance").mkdir()
    (root / "instance" / "dev.yaml").write_text(INSTANCE)
    workspace = root / "dss-iac.yaml"
    workspace.write_text(workspace.read_text().replace("    host: embedded\n",
                                                      "    host: embedded\n    instance: instance/dev.yaml\n", 1))
    return root


@pytest.fixture
def instance_ws(alice: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example and dev's instance file, applied by alice, then the group and the user edited in the DSS UI."""
    monkeypatch.setenv("ADA_PASSWORD", "ada-s3cret")
    root = with_instance(copy_example(tmp_path))
    with Workspace.load(root) as ws:
        assert ws.apply(ws.plan("dev"), parallelism=1).ok
        store = ws.state_store("dev")
        state = store.load()
        state.serial = SHOWN_SERIAL  # the serial on screen is the same every run
        store.commit(state, "apply")
        client = ws.connection("dev").client
        group = client.get_group("analysts")
        raw = group.get_definition()
        raw["description"] = "the analysts of the EU"
        group.set_definition(raw)
        settings = client.get_user("ada").get_settings()
        settings.get_raw()["displayName"] = "Countess of Lovelace"
        settings.save()
        written = ws.state("dev").updated_at
    # The ages on screen read `<1m` however slow the machine: now is just after the last write.
    monkeypatch.setattr(view, "clock", lambda: datetime.fromisoformat(written) + timedelta(seconds=30))
    return root


@pilot_test
async def test_overview_shows_the_instance_row_with_its_drift(instance_ws: Path) -> None:
    app = DssIacApp(instance_ws, env="dev")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, OverviewScreen)
        rows = cells(app.screen.query_one("#overview"))
        # The instance objects first (as the plan orders them): 4 in the state, 4 in instance/dev.yaml.
        assert rows[0][:3] == ["dev", "(instance) instance/dev.yaml", "4 / 4"]
        assert rows[0][4] == "2 changed"
        assert [r[1] for r in rows[1:]] == ["CHURN"] and rows[1][4] == "none"


@pilot_test
async def test_instance_drift_is_adopted_into_the_instance_file(instance_ws: Path) -> None:
    instance_file = instance_ws / "instance" / "dev.yaml"
    app = DssIacApp(instance_ws, env="dev")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DriftScreen)
        assert [r[1] for r in cells(screen.query_one("#drift-list"))] == ["group.analysts", "user.ada"]
        fields = cells(screen.query_one("#drift-fields"))
        assert fields == [["description", '"the analysts"', '"the analysts of the EU"', '"the analysts"']]
        for expected in ("instance/dev.yaml: group.analysts: description = \"the analysts of the EU\"",
                         "instance/dev.yaml: user.ada: display_name = \"Countess of Lovelace\""):
            await pilot.press("g", "o")  # the first row, each time: the one adopted leaves the list
            await settle(pilot)
            modal = app.screen
            assert isinstance(modal, ConfirmModal)
            assert expected in " ".join(str(s.render()) for s in modal.query("Static"))
            await pilot.press("y")
            await settle(pilot)
            assert isinstance(app.screen, DriftScreen) and banner(screen) == ""
        assert cells(screen.query_one("#drift-list")) == []
    text = instance_file.read_text()
    # Only the adopted values changed: the comments and the password's reference are as they were.
    assert text == INSTANCE.replace("description: the analysts  #", "description: the analysts of the EU  #") \
        .replace("display_name: Ada Lovelace", "display_name: Countess of Lovelace")
    with Workspace.load(instance_ws) as ws:
        assert not ws.plan("dev").has_changes
        assert not ws.drift("dev").has_drift


@pilot_test
async def test_the_detail_of_an_instance_object_says_where_it_is_declared(instance_ws: Path) -> None:
    app = DssIacApp(instance_ws, env="dev")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("g", "enter")
        await settle(pilot)
        text = " ".join(str(s.render()) for s in app.screen.query("Static"))
        assert "declared in instance/dev.yaml:3:3" in text


@pytest.mark.parametrize("size", SIZES)
def test_instance_drift_browser(instance_ws: Path, size: tuple[int, int], snap_compare: Compare) -> None:
    """The instance objects changed in DSS, listed as a project's are; the user selected: its field in the pane."""
    async def browsed(pilot: Pilot[object]) -> None:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("j")

    assert snap_compare(DssIacApp(instance_ws, env="dev"), terminal_size=size, run_before=browsed)


@pytest.mark.parametrize("size", SIZES)
def test_instance_overview(instance_ws: Path, size: tuple[int, int], snap_compare: Compare) -> None:
    """dev's `(instance)` row first, with its file, counts and drift, then its project."""
    async def loaded(pilot: Pilot[object]) -> None:
        await settle(pilot)

    assert snap_compare(DssIacApp(instance_ws, env="dev"), terminal_size=size, run_before=loaded)
