"""The palette's "Embedded DSS info": the URLs and API key of the workspace's embedded DSS, to reach it with
dataikuapi or any other tool while the app keeps running (every process of the workspace shares it)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from .service import Service


class EmbeddedInfoScreen(ModalScreen[None]):
    DEFAULT_CSS = "EmbeddedInfoScreen { align: center middle; } .embedded-info { width: 104; }"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="close"),
        Binding("q", "close", "Close", show=False, id="close-q"),
    ]

    def __init__(self, service: Service) -> None:
        super().__init__()
        self.service = service

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog embedded-info"):
            yield Static(Text("Embedded DSS  (esc closes)", "bold"))
            yield Static("starting or finding the embedded DSS...", id="embedded-info")

    def on_mount(self) -> None:
        self.run_worker(self._load, thread=True, exit_on_error=False)

    def _load(self) -> None:  # may start the server: off the UI thread
        try:
            text = Text(self.service.embedded_info())
        except Exception as e:  # shown in the dialog, never raised through the app
            text = Text(f"the embedded DSS is not available: {e}", "red")
        self.app.call_from_thread(self._show, text)

    def _show(self, text: Text) -> None:
        if self.is_attached:
            self.query_one("#embedded-info", Static).update(text)

    def action_close(self) -> None:
        self.dismiss(None)
