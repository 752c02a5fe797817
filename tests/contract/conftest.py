"""Contract-test plugin: with DSS_IAC_TRACE_API=<file>, record which test calls each method of the classes in
api_surface.CLASSES (one JSON file per xdist worker, `<file>.<worker>`); gen_api_table reads them."""

from __future__ import annotations

import functools
import inspect
import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.contract.api_surface import CLASSES, public_methods

TRACE_ENV = "DSS_IAC_TRACE_API"
_calls: dict[str, str] = {}
_current: list[str] = [""]


def _traced(key: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        test = _current[0]
        if test and (key not in _calls or test < _calls[key]):
            _calls[key] = test
        return fn(*args, **kwargs)
    return wrapper


def _install() -> None:
    for cls in CLASSES:
        for name in public_methods(cls):
            key = f"{cls.__name__}.{name}"
            static = inspect.getattr_static(cls, name)
            if isinstance(static, property):
                # Wrapped on the class itself, so that subclasses and instances see the traced version.
                wrapped: Any = property(_traced(key, static.fget) if static.fget else None,
                                        _traced(key, static.fset) if static.fset else None)
            elif isinstance(static, staticmethod | classmethod):
                wrapped = type(static)(_traced(key, static.__func__))
            else:
                wrapped = _traced(key, getattr(cls, name))
            setattr(cls, name, wrapped)


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get(TRACE_ENV):
        _install()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Only calls made by the test itself count, not those of fixtures (a project's deletion at teardown)."""
    name = getattr(item, "originalname", item.name)
    # The table's own test probes methods on purpose: that covers nothing.
    if item.path.name != "test_api_table.py":
        _current[0] = f"{item.path.relative_to(item.config.rootpath).as_posix()}::{name}"
    yield
    _current[0] = ""


def pytest_unconfigure(config: pytest.Config) -> None:
    target = os.environ.get(TRACE_ENV)
    if target:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        with open(f"{target}.{worker}", "w", encoding="utf-8") as f:
            json.dump(_calls, f, sort_keys=True)
