"""Output for people and for pipes: colour and progress on a terminal, plain and quiet otherwise.

Data (plans, JSON) goes to stdout; progress, notes and errors go to stderr, so `dss-iac plan --json | jq`
always gets clean JSON. Everything written goes through `secrets.redact`: a value read from the environment, or
the credentials of a URL, never reaches either stream, even inside a message quoted from DSS.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from ..secrets import redact

_COLOURS = {"+": "\x1b[32m", "~": "\x1b[33m", "-": "\x1b[31m", "-/+": "\x1b[35m"}
_RESET = "\x1b[0m"


class Console:
    def __init__(self, *, no_color: bool = False, stdout: TextIO | None = None, stderr: TextIO | None = None,
                 display: Callable[[Any], None] | None = None) -> None:
        self.stdout = stdout or sys.stdout
        # Where plans and drift reports go as objects rather than text: a notebook's display(), which renders
        # their HTML (the `%dss_iac` magic in a Jupyter kernel).
        self.display = display
        self.stderr = stderr or sys.stderr
        self.color = not no_color and "NO_COLOR" not in os.environ and self.stdout.isatty()
        self.interactive = self.stderr.isatty() and os.environ.get("CI") is None

    def out(self, text: str = "") -> None:
        text = redact(text)
        self.stdout.write(text if text.endswith("\n") else text + "\n")
        self.stdout.flush()

    def note(self, text: str) -> None:
        self.stderr.write(redact(text) + "\n")
        self.stderr.flush()

    def error(self, text: str) -> None:
        text = redact(text)
        lines = text.splitlines() or [text]
        for line in lines:
            self.stderr.write(f"error: {line}\n")
        self.stderr.flush()

    def json(self, data: Any) -> None:
        self.out(json.dumps(data, indent=2, default=str))

    def show(self, obj: Any) -> bool:
        """Hand a plan or drift report to `display`, when there is one; whether it was (else print it as text)."""
        if self.display is None:
            return False
        self.stdout.flush()  # what was printed before shows before it
        self.display(obj)
        return True

    def plan_text(self, text: str) -> None:
        """A rendered plan, coloured by each line's change symbol on a terminal."""
        if not self.color:
            self.out(text)
            return
        coloured = []
        for line in text.splitlines():
            stripped = line.lstrip()
            symbol = "-/+" if stripped.startswith("-/+") else stripped[:1]
            colour = _COLOURS.get(symbol) if stripped[:2] in ("+ ", "~ ", "- ", "-/") else None
            coloured.append(f"{colour}{line}{_RESET}" if colour else line)
        self.out("\n".join(coloured))

    def confirm(self, question: str) -> bool:
        """Ask for a typed `yes`; anything else is a no."""
        self.stderr.write(f"{redact(question)}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ")
        self.stderr.flush()
        answer = sys.stdin.readline()
        return answer.strip() == "yes"

    def event(self, data: dict[str, Any]) -> None:
        """One progress event as a line of JSON on stderr (`--json`: stdout keeps the one result document)."""
        self.note(json.dumps({k: v for k, v in data.items() if v is not None}, default=str))

    @contextmanager
    def progress(self, description: str, total: int) -> Iterator[Any]:
        """A rich progress bar on a terminal; nothing when piped. Yields `advance(text, steps=1)` (0 steps: only
        says what runs now)."""
        if not self.interactive or total <= 0:
            yield lambda text="", steps=1: None
            return
        from rich.console import Console as RichConsole
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                       TextColumn("{task.fields[current]}"),
                       console=RichConsole(file=self.stderr, no_color=not self.color), transient=True)
        with bar:
            task = bar.add_task(description, total=total, current="")
            yield lambda text="", steps=1: bar.update(task, advance=steps, current=redact(text))

    @contextmanager
    def status(self, text: str) -> Iterator[Any]:
        """A line kept up to date in place on a terminal (rich); when piped, each new text once, as a note. Yields
        `update(text)`."""
        if not self.interactive:
            last = [""]

            def note(new: str) -> None:
                if new != last[0]:
                    last[0] = new
                    self.note(new)

            note(text)
            yield note
            return
        from rich.console import Console as RichConsole

        with RichConsole(file=self.stderr, no_color=not self.color).status(redact(text)) as live:
            yield lambda new: live.update(redact(new))
