"""Modal screens: the typed approval, a yes/no confirmation, and the help."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, OptionList, Static
from textual.widgets.option_list import Option

from dataiku_iac import brief

from .keys import KEYS


class ApproveModal(ModalScreen[bool | None]):
    """Approval: the user types the environment's name. Dismissed with `allow_delete`, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="cancel")]

    def __init__(self, env: str, summary: str, risky: Sequence[str]) -> None:
        super().__init__()
        self.env = env
        self.summary = summary
        self.risky = list(risky)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text.assemble(("Approve the plan", "bold"), f"\n\n{self.summary} in environment ",
                                       (self.env, "bold"), ".\nType the environment's name to apply it "
                                       "(esc cancels)."))
            if self.risky:
                yield Static(Text(f"\n{self.env} is protected and this plan deletes or replaces {len(self.risky)} "
                                  f"resource(s): {brief(self.risky)}.", "bold red"))
                yield Checkbox("allow deleting and replacing (--allow-delete)", id="allow-delete")
            yield Input(placeholder=self.env, id="confirm")
            yield Static("", id="hint")

    def on_mount(self) -> None:
        self.query_one("#confirm", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        hint = self.query_one("#hint", Static)
        if event.value.strip() != self.env:
            hint.update(Text(f"type exactly {self.env!r} to approve", "red"))
            return
        allow = bool(self.risky) and self.query_one("#allow-delete", Checkbox).value
        if self.risky and not allow:
            hint.update(Text("tick 'allow deleting and replacing' to apply this plan here", "red"))
            return
        self.dismiss(allow)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmModal(ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "yes", "Yes", id="yes"),
        Binding("enter", "yes", "Yes", show=False, id="yes-enter"),
        Binding("n", "no", "No", id="no"),
        Binding("escape", "no", "No", show=False, id="no-escape"),
    ]

    def __init__(self, title: str, lines: Sequence[str], question: str) -> None:
        super().__init__()
        self.title_text = title
        self.lines = list(lines)
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text.assemble((self.title_text, "bold"), "\n\n", "\n".join(self.lines), "\n\n",
                                       (self.question + "  (y / n)", "bold")))

    def action_yes(self) -> None:
        self.dismiss(True)

    def action_no(self) -> None:
        self.dismiss(False)


class EnvironmentPicker(ModalScreen[str | None]):
    """`-e` named no environment of the workspace: the error, and the real environments to choose from.
    Dismissed with the name chosen, or None (esc: every environment)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "All environments", id="cancel"),
        Binding("j", "pick_down", "Down", show=False, id="down"),
        Binding("k", "pick_up", "Up", show=False, id="up"),
    ]

    def __init__(self, error: str, choices: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self.error = error
        self.choices = list(choices)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text.assemble(("Choose an environment", "bold"), "\n\n", (self.error, "red")))
            yield OptionList(*[Option(Text.assemble((name, "bold"), "  ", (what, "dim")), id=name)
                               for name, what in self.choices], id="environments")
            yield Static(Text("enter: open it   esc: show every environment", "dim"))

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_pick_down(self) -> None:
        self.query_one(OptionList).action_cursor_down()

    def action_pick_up(self) -> None:
        self.query_one(OptionList).action_cursor_up()

    def action_cancel(self) -> None:
        self.dismiss(None)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="close"),
        Binding("question_mark", "close", "Close", show=False, id="close-help"),
        Binding("q", "close", "Close", show=False, id="close-q"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog help"):
            yield Static(Text("Keys  (esc closes)", "bold"))
            width = max(len(key) for _, keys in KEYS for key, _ in keys)
            for section, keys in KEYS:
                # A table per section (a section's title never widens the key column), all aligned.
                table = Table(box=None, show_header=False, padding=(0, 2), pad_edge=False)
                table.add_column(style="bold cyan", no_wrap=True, min_width=width)
                table.add_column()
                for key, what in keys:
                    table.add_row(key, what)
                yield Static(Text(f"\n{section}", "bold underline"))
                yield Static(table)

    def action_close(self) -> None:
        self.dismiss(None)
