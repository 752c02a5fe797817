"""`dss-iac tui`: the Textual app. Screens talk to the core through `Service` (the public Python API)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from dataiku_iac import Action, Plan

from .service import Service

CSS = """
.title { height: auto; padding: 0 1; background: $boost; }
#review { height: 1fr; }
#notice { display: none; height: auto; padding: 0 1; background: $warning 15%; }
#notice.shown { display: block; }
#gate { display: none; height: auto; padding: 0 1; background: $warning 15%; }
#gate.shown { display: block; }
#gate.open { background: $success 15%; }
#gate.refused { background: $error 15%; }
#plan-tree { width: 45%; border-right: solid $primary-background; }
#diff-pane { width: 1fr; padding: 0 1; }
#filter { dock: bottom; margin-bottom: 2; }
#overview { height: 1fr; }
#steps { height: 1fr; }
#summary { height: auto; padding: 0 1; }
#drift-list { height: auto; max-height: 40%; }
#drift-detail { height: 1fr; border: round $primary-background; border-title-color: $text; }
#drift-fields { height: auto; max-height: 70%; }
#drift-note { height: auto; padding: 0 1; }
#detail-body { height: 1fr; }
.detail-pane { width: 1fr; padding: 0 1; }
#history-body NavTable { height: 1fr; }
#promotion-note { height: auto; padding: 0 1; border-bottom: solid $primary-background; }
#promotion-pane { height: 1fr; padding: 0 1; }
.dialog { width: 80; max-width: 100%; height: auto; max-height: 100%; padding: 1 2; background: $panel;
          border: thick $primary; }
ApproveModal, ConfirmModal, HelpScreen, EnvironmentPicker { align: center middle; }
.help { width: 96; padding: 0 1; }
#environments { height: auto; max-height: 12; margin: 1 0; }
"""


class DssIacApp(App[None]):
    TITLE = "dss-iac"
    CSS = CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark", "help", "Help", key_display="?", id="help"),
    ]

    def __init__(self, path: Path | str = ".", env: str | None = None, service: Service | None = None) -> None:
        super().__init__()
        self.service = service or Service(Path(path))
        self.only_env = env
        # While an apply runs, quitting would leave it half done: `q` then only says so.
        self.applying = False

    def on_mount(self) -> None:
        from .overview import OverviewScreen

        self.push_screen(OverviewScreen(self.only_env))

    def on_unmount(self) -> None:
        self.service.close()

    # -- navigation ---------------------------------------------------------------------------------------
    def open_plan(self, env: str, targets: tuple[str, ...] = (), purpose: str = "", bundle: bool | None = None) -> None:
        """The plan review; for an environment that receives projects by promotion (`bundle`, when the caller
        knows it: asking the workspace waits for its files to load), what promoting would do."""
        from .plan_review import PlanReviewScreen
        from .promotion_screen import PromotionScreen

        if bundle is None:
            try:
                bundle = self.service.is_bundle(env)
            except Exception:  # the workspace does not load: the review shows why
                bundle = False
        self.push_screen(PromotionScreen(env) if bundle else PlanReviewScreen(env, targets, purpose))

    def open_drift(self, env: str) -> None:
        from .drift_screen import DriftScreen

        self.push_screen(DriftScreen(env))

    def open_history(self, env: str) -> None:
        from .history import HistoryScreen

        self.push_screen(HistoryScreen(env))

    def open_tests(self, env: str) -> None:
        from .tests_screen import TestsScreen

        self.push_screen(TestsScreen(env))

    def open_detail(self, env: str, action: Action) -> None:
        from .detail import DetailScreen

        self.push_screen(DetailScreen(env, action))

    def open_apply(self, plan: Plan, allow_delete: bool) -> None:
        from .apply_screen import ApplyScreen

        self.push_screen(ApplyScreen(plan, allow_delete))

    def replan(self, refused: Plan) -> None:
        """After an apply refused `refused` as out of date: back to its review, which plans again."""
        from .plan_review import PlanReviewScreen

        self.pop_screen()
        if isinstance(self.screen, PlanReviewScreen):
            self.screen.replan_after_refusal(refused)

    def back_to_overview(self) -> None:
        """After an apply: the plans on the stack are spent, so go back to a freshly read overview."""
        from .overview import OverviewScreen

        while len(self.screen_stack) > 2:
            self.pop_screen()
        if isinstance(self.screen, OverviewScreen):
            self.screen.reload()

    def show_embedded_info(self) -> None:
        from .embedded_info import EmbeddedInfoScreen

        self.push_screen(EmbeddedInfoScreen(self.service))

    # -- global keys --------------------------------------------------------------------------------------
    def action_help(self) -> None:
        from .modals import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        if self.applying:
            self.notify("an apply is running: quit once it has finished", severity="warning")
            return
        self.exit()

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help", "Every key of the app", self.action_help)
        refresh = getattr(screen, "action_refresh", None)
        if refresh is not None:
            yield SystemCommand("Refresh", "Read this screen's data again", refresh)
        try:
            envs = [self.only_env] if self.only_env else self.service.environments()
        except Exception:  # the workspace does not load: the screen shows why
            envs = []
        if self.service.uses_embedded():
            yield SystemCommand("Embedded DSS info", "URLs and API key of the workspace's embedded DSS, for dataikuapi "
                                "and other tools", self.show_embedded_info)
        for env in envs:
            try:
                bundle = self.service.is_bundle(env)
            except Exception:  # the workspace does not load: the screen shows why
                bundle = False
            if bundle:
                yield SystemCommand(f"Promotion: {env}", f"What promoting to {env} would do (read-only)",
                                    partial(self.open_plan, env))
            else:
                yield SystemCommand(f"Plan review: {env}", f"Plan {env} and review it", partial(self.open_plan, env))
            yield SystemCommand(f"Drift: {env}", f"What changed in {env} outside dss-iac",
                                partial(self.open_drift, env))
            yield SystemCommand(f"History: {env}", f"State serials of {env} and the Git log",
                                partial(self.open_history, env))
            yield SystemCommand(f"Tests: {env}", f"The last test run of {env}; t runs the tests",
                                partial(self.open_tests, env))


def run(path: Path | str = ".", env: str | None = None) -> int:
    DssIacApp(path, env).run()
    return 0
