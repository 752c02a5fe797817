"""Progress reported from inside one apply step, for steps DSS runs as a long task (a code env's build).

The applier runs each step with a reporter installed (`reporting`); a kind calls `report` while it waits on
DSS, and front ends hear each report as a `progress` event of that step. Outside an apply, `report` does
nothing. A context variable, so that steps running in parallel threads each report under their own address.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class StepProgress:
    """Where a long step is: what it does now, and, when DSS counts them, how many of how many parts are done."""

    detail: str
    done: int | None = None
    total: int | None = None


Reporter = Callable[[StepProgress], None]
_reporter: ContextVar[Reporter | None] = ContextVar("dss_iac_step_reporter", default=None)


def report(detail: str, done: int | None = None, total: int | None = None) -> None:
    """Tell whoever runs the current step where it is (nothing outside an apply)."""
    reporter = _reporter.get()
    if reporter is not None:
        reporter(StepProgress(detail, done, total))


@contextmanager
def reporting(reporter: Reporter) -> Iterator[None]:
    """Run a step with `reporter` hearing its reports."""
    token = _reporter.set(reporter)
    try:
        yield
    finally:
        _reporter.reset(token)
