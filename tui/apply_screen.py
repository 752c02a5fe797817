"""Apply: runs exactly the approved plan, with live per-resource progress and a closing summary."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.message import Message
from textual.widgets import ProgressBar, Static

from dataiku_iac import (
    ApplyResult,
    ConfigError,
    Plan,
    ProgressEvent,
    ProgressEventType,
    StalePlanError,
    StepStatus,
    brief,
)

from . import view
from .widgets import IOScreen, NavTable

STATUS = {StepStatus.OK: Text("✓ ok", "green"), StepStatus.FAILED: Text("✗ failed", "bold red"),
          StepStatus.SKIPPED: Text("- skipped", "yellow")}


class ApplyProgress(Message):
    """One ProgressEvent, carried from the apply's threads to the UI thread."""

    def __init__(self, event: ProgressEvent) -> None:
        super().__init__()
        self.event = event


class ApplyScreen(IOScreen):
    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self, plan: Plan, allow_delete: bool) -> None:
        super().__init__()
        self.plan = plan
        self.allow_delete = allow_delete
        self.running = False
        self.result: ApplyResult | None = None
        # Refused as out of date (stale, or the files no longer load): nothing was written, `r` plans again.
        self.refused = False

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble(("Apply", "bold"), f" · {self.plan.environment}  ·  {view.summary_line(self.plan)}"),
                     id="title", classes="title")
        yield ProgressBar(total=None, show_eta=False, id="progress")
        yield NavTable(id="steps")
        yield Static("", id="summary")
        yield from self.bottom()

    def on_mount(self) -> None:
        table = self.query_one(NavTable)
        table.add_column("Status", key="status")
        table.add_column("Operation", key="op")
        table.add_column("Resource", key="address")
        table.add_column("Time / error", key="detail")
        table.focus()
        self.reload()

    def reload(self) -> None:
        """Run the apply (again, after a lock or connection error). The service reads the files again and the
        core checks the plan against them, the state and DSS before it writes anything."""
        if self.running or self.result is not None or self.refused:
            return
        self.running = True
        self.dss_app.applying = True
        plan, allow = self.plan, self.allow_delete
        self.run_io(lambda: self.dss_app.service.apply(plan, self.post_message_progress, allow), self._finished,
                    group="apply", doing=f"applying to {plan.environment}", retry=self.reload,
                    failed=self._failed)
        self.query_one("#summary", Static).update("")

    def post_message_progress(self, event: ProgressEvent) -> None:
        self.post_message(ApplyProgress(event))  # thread-safe, and never blocks the apply

    def _failed(self, error: BaseException) -> None:
        # An error ends the run too: _finished is not called then.
        self.running = False
        self.dss_app.applying = False
        if isinstance(error, StalePlanError | ConfigError):
            self.refused = True
            self._show_refusal(error)

    def show_error(self, message: str, retry: Callable[[], None] | None, retry_label: str = "retry") -> None:
        if self.refused:  # retrying cannot help: the plan itself is out of date
            super().show_error("nothing was applied: " + message, self._replan, "plan again and review")
            return
        super().show_error(message, retry, retry_label)

    def _show_refusal(self, error: BaseException) -> None:
        self.query_one(ProgressBar).display = False  # nothing ran: no progress, no steps
        self.query_one(NavTable).display = False
        self.query_one("#summary", Static).styles.height = "1fr"
        self.query_one("#title", Static).update(Text.assemble(
            ("Apply", "bold"), f" · {self.plan.environment}  ·  ", ("refused: nothing was applied", "bold red")))
        text = Text.assemble(("Nothing was applied", "bold red"), ": the plan you approved is not what would run "
                             "now, so it was refused before anything was written.\n")
        if isinstance(error, ConfigError):
            # The files no longer load, or DSS now lacks a connection or code env they name: located below.
            text.append("The configuration cannot be applied as it is now (the error is below, with its place).\n")
        elif changed := self.dss_app.service.changed_files(self.plan):
            text.append(f"Files changed since the plan was made: {brief(changed)}.\n")
        text.append("\nr: plan again and review the new plan   esc: back to the overview", "dim")
        self.query_one("#summary", Static).update(text)

    def _replan(self) -> None:
        self.dss_app.replan(self.plan)

    def on_apply_progress(self, message: ApplyProgress) -> None:
        e = message.event
        bar = self.query_one(ProgressBar)
        table = self.query_one(NavTable)
        if e.event is ProgressEventType.START:
            bar.update(total=max(e.total, 1), progress=0)
            table.clear()
            return
        if e.address is None:
            return
        key = f"{e.action}:{e.address}"
        if e.event is ProgressEventType.BEGIN:
            if key not in table.rows:
                table.add_row(Text("… running", "cyan"), e.action or "", e.address, "", key=key)
                table.move_cursor(row=table.row_count - 1)
        elif e.event is ProgressEventType.PROGRESS and key in table.rows:  # a long step (a code env's build)
            count = f" ({e.detail_done}/{e.detail_total})" if e.detail_total else ""
            table.update_cell(key, "detail", Text(f"{e.detail}{count}", "cyan"))
        elif e.event is ProgressEventType.END and e.status is not None:
            detail = e.error or ""
            if key not in table.rows:
                table.add_row(STATUS[e.status], e.action or "", e.address, detail, key=key)
            else:
                table.update_cell(key, "status", STATUS[e.status])
                table.update_cell(key, "detail", Text(detail, "red") if e.status is StepStatus.FAILED else detail)
            bar.update(progress=e.done)

    def _finished(self, result: ApplyResult) -> None:
        self.running = False
        self.dss_app.applying = False
        self.result = result
        table = self.query_one(NavTable)
        for r in result.results:
            key = f"{r.action}:{r.address}"
            if key in table.rows and r.status is StepStatus.OK:
                table.update_cell(key, "detail", f"{r.seconds:.2f} s")
        bar = self.query_one(ProgressBar)
        bar.update(total=max(len(result.results), 1), progress=len(result.results))
        ok, failed, skipped = len(result.succeeded), len(result.failed), len(result.skipped)
        head = ("Apply complete" if result.ok else "Apply finished with errors", "bold green" if result.ok
                else "bold red")
        text = Text.assemble(head, f" in {result.seconds:.1f} s: {ok} ok, {failed} failed, {skipped} skipped; "
                             f"{result.state_writes} state writes.")
        for r in result.failed:
            text.append(f"\n  ✗ {r.action} {r.address}: {r.error}", "red")
        if not result.ok:
            text.append("\n  The state records what succeeded: plan again to finish the job.", "yellow")
        text.append("\n\nesc: back to the overview", "dim")
        self.query_one("#summary", Static).update(text)

    def action_back(self) -> None:
        if self.running:
            self.notify("the apply is running: it cannot be interrupted from here", severity="warning")
            return
        self.dss_app.back_to_overview()
