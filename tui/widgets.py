"""Widgets shared by the screens: vi-style lists, the error banner, and the base screen that runs I/O in
thread workers."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.binding import ActiveBinding, Binding, BindingType
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Static, Tree
from textual.worker import Worker, get_current_worker

from dataiku_iac import DssIacError, redact

from .view import fit_widths

if TYPE_CHECKING:
    from .app import DssIacApp

T = TypeVar("T")

VI_KEYS: list[BindingType] = [
    Binding("j", "cursor_down", "Down", show=False, id="down"),
    Binding("k", "cursor_up", "Up", show=False, id="up"),
    Binding("g", "scroll_home", "First", show=False, id="first"),
    Binding("G", "scroll_end", "Last", show=False, id="last"),
]


class NavTree(Tree[Any]):
    BINDINGS: ClassVar[list[BindingType]] = [*VI_KEYS]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._filling = False

    @contextmanager
    def filling(self) -> Iterator[None]:
        """Add many nodes, laid out once at the end: Textual (8.2.8, pinned) drops and redraws the whole tree's
        layout on every node added, a quarter of the time it takes to show a plan of 25,000 changes."""
        self._filling = True
        try:
            yield
        finally:
            self._filling = False
            self._invalidate()

    def _invalidate(self) -> None:
        if not self._filling:
            super()._invalidate()


class NavTable(DataTable[Any]):
    BINDINGS: ClassVar[list[BindingType]] = [*VI_KEYS]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._widths: tuple[int, ...] = ()

    async def _on_idle(self, event: events.Idle) -> None:
        # Textual (8.2.8, pinned) sizes columns to new rows on idle, but lines drawn before that stay cached at
        # the old widths ("never appl" in a terminal that painted early): when the widths change, draw again.
        await super()._on_idle(event)
        widths = tuple(column.get_render_width(self) for column in self.columns.values())
        if widths != self._widths:
            self._widths = widths
            self.notify_style_update()
            self.refresh()

    def add_keyed_columns(self, *columns: tuple[str, str]) -> None:
        """Columns as (key, label) pairs: rows and updates then name a column by its key."""
        for key, label in columns:
            self.add_column(label, key=key)

    def action_scroll_home(self) -> None:
        if self.row_count:
            self.move_cursor(row=0)

    def action_scroll_end(self) -> None:
        if self.row_count:
            self.move_cursor(row=self.row_count - 1)


@dataclass(frozen=True)
class Col:
    key: str
    label: str
    min_width: int  # the narrowest the column gets before the table scrolls sideways


Cell = Text | str


class FitTable(NavTable):
    """A table that fits its width: the widest columns shrink first, cut cells end in an ellipsis, and no column
    goes off screen while the others still have room to give (Textual's own columns only grow)."""

    def __init__(self, columns: Sequence[Col], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = list(columns)
        self.data: dict[str, list[Cell]] = {}

    def show(self, rows: Sequence[tuple[str, Sequence[Cell]]]) -> None:
        """Replace the rows (keyed), keeping the cursor's line."""
        self.data = {key: list(cells) for key, cells in rows}
        self._fit()

    def set_cells(self, column: str, values: Mapping[str, Cell]) -> None:
        """New values of one column, by row key (rows not shown are ignored)."""
        at = [c.key for c in self.spec].index(column)
        for row, value in values.items():
            if row in self.data:
                self.data[row][at] = value
        self._fit()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        width = self.size.width
        if len(self.data) + 1 > self.size.height:  # the rows will scroll: leave room for the scrollbar
            width -= self.styles.scrollbar_size_vertical
        if width <= 0:
            return  # not laid out yet: the first resize fits it
        natural = [max([cell_len(c.label), *(_width(row[i]) for row in self.data.values())])
                   for i, c in enumerate(self.spec)]
        widths = fit_widths(natural, [c.min_width for c in self.spec], width - 2 * self.cell_padding * len(self.spec))
        cursor = self.cursor_row
        self.clear(columns=True)
        for c, w in zip(self.spec, widths, strict=True):
            self.add_column(_cut(c.label, w), key=c.key, width=w)
        for key, row in self.data.items():
            self.add_row(*(_cut(cell, w) for cell, w in zip(row, widths, strict=True)), key=key)
        if self.row_count:
            self.move_cursor(row=min(max(cursor, 0), self.row_count - 1))


def _width(cell: Cell) -> int:
    return cell.cell_len if isinstance(cell, Text) else cell_len(cell)


def _cut(cell: Cell, width: int) -> Text:
    text = cell.copy() if isinstance(cell, Text) else Text(cell)
    text.truncate(width, overflow="ellipsis")
    return text


class OpenTable(FitTable):
    """A list whose enter opens the line: the footer says so."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "select_cursor", "Open", id="open")]


def describe_error(error: BaseException) -> str:
    """One readable line (or a few, for a list of configuration errors); never a traceback, never a value read
    from the environment."""
    if isinstance(error, DssIacError):
        return redact(str(error))
    return redact(f"{type(error).__name__}: {error}")


class ErrorBanner(Static):
    """An error of the screen's last operation, with the key that retries it."""

    DEFAULT_CSS = """
    ErrorBanner { display: none; background: $error 30%; color: $text; padding: 0 1; height: auto; max-height: 8; }
    ErrorBanner.shown { display: block; }
    """

    def show_error(self, message: str, retry: str | None) -> None:
        """`retry`: what `r` does about it ("retry", "plan again"), or None."""
        hint = f"  (r: {retry})" if retry else ""
        self.update(Text.assemble(("error: ", "bold"), message, (hint, "bold")))
        self.add_class("shown")

    def clear(self) -> None:
        self.remove_class("shown")
        self.update("")


class StatusLine(Static):
    DEFAULT_CSS = "StatusLine { height: 1; color: $text-muted; padding: 0 1; }"


class IOScreen(Screen[Any]):
    """A screen whose DSS, state and Git calls all run in thread workers: the screen never freezes.

    `run_io(fn, done)` runs `fn` in a thread and hands its result to `done` on the UI thread; a failure
    goes to `failed` if given, and shows in the error banner, where `r` runs the same operation again.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "refresh", "Refresh", id="refresh"),
        Binding("escape", "back", "Back", id="back"),
    ]
    # The actions the footer shows first, in this order: a narrow terminal cuts the footer on the right.
    FOOTER: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        super().__init__()
        self._retry: Callable[[], None] | None = None
        self._busy: dict[str, str] = {}

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """Textual's, with the FOOTER actions first (the footer lists them in this order)."""
        rank = {action: i for i, action in enumerate(self.FOOTER)}
        found = super().active_bindings
        return dict(sorted(found.items(), key=lambda kv: rank.get(kv[1].binding.action.split(".")[-1], len(rank))))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # esc on the first screen has nowhere to go back to: not offered in the footer there.
        return not (action == "back" and self in self.app.screen_stack[:2])

    @property
    def dss_app(self) -> DssIacApp:
        return self.app  # type: ignore[return-value]

    @staticmethod
    def bottom() -> list[Widget]:
        """What every screen ends with: the status line, the error banner, the footer."""
        return [StatusLine(), ErrorBanner(), Footer()]

    @property
    def busy(self) -> bool:
        return bool(self._busy)

    def reload(self) -> None:
        """Load the screen's data (again)."""

    def action_refresh(self) -> None:
        retry, self._retry = self._retry, None
        self.query_one(ErrorBanner).clear()
        (retry or self.reload)()

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()

    def run_io(self, fn: Callable[[], T], done: Callable[[T], None], *, group: str, doing: str,
               retry: Callable[[], None] | None = None,
               failed: Callable[[BaseException], None] | None = None) -> Worker[None]:
        self._busy[group] = doing
        self._show_busy()

        def job() -> None:
            worker = get_current_worker()
            try:
                result: Any = fn()
                error: BaseException | None = None
            except Exception as e:  # shown in the app, never raised through it
                result, error = None, e
            if not worker.is_cancelled:
                self.app.call_from_thread(self._deliver, group, result, error, done, retry, failed)

        return self.run_worker(job, thread=True, group=group, exclusive=True, exit_on_error=False,
                               description=doing)

    def _deliver(self, group: str, result: Any, error: BaseException | None, done: Callable[[Any], None],
                 retry: Callable[[], None] | None, failed: Callable[[BaseException], None] | None) -> None:
        self._busy.pop(group, None)
        if not self.is_attached:
            return
        self._show_busy()
        if error is not None:
            if failed is not None:
                failed(error)
            self.show_error(describe_error(error), retry or self.reload)
            return
        done(result)

    def show_error(self, message: str, retry: Callable[[], None] | None, retry_label: str = "retry") -> None:
        self._retry = retry
        self.query_one(ErrorBanner).show_error(message, retry_label if retry is not None else None)

    def _show_busy(self) -> None:
        for status in self.query(StatusLine):
            status.update(" · ".join(f"⟳ {d}" for d in self._busy.values()) if self._busy else "")


class EnvScreen(IOScreen):
    """A screen about one environment, titled `Name · env`."""

    def __init__(self, env: str) -> None:
        super().__init__()
        self.env = env

    def title_bar(self, name: str) -> Static:
        return Static(Text.assemble((name, "bold"), f" · {self.env}"), id="title", classes="title")
