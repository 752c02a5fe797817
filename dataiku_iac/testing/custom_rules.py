"""A team's own static rules: the functions marked `@lint_rule` in the Python files that `tests.custom_rules`
lists. Running those files is opt-in (they are named in dss-iac.yaml); a file that cannot be read or run is a
configuration error at its place, never a traceback.
"""

from __future__ import annotations

import importlib.util
import traceback
from collections.abc import Iterable, Iterator
from pathlib import Path as FilePath
from typing import Any

from ..config.loader import WorkspaceConfig
from ..errors import ConfigError, Position
from .rules import RULE_ATTRIBUTE, Hit, ProjectContext, Rule, RuleSpec


def load_custom_rules(config: WorkspaceConfig, taken: Iterable[str] = ()) -> list[Rule]:
    rules: list[Rule] = []
    seen = set(taken)
    for i, rel in enumerate(config.spec.tests.custom_rules):
        where = ("tests", "custom_rules", i)
        path = (config.root / rel).resolve()
        if config.root.resolve() not in path.parents or path.suffix != ".py":
            raise config.file.error(f"custom rules file '{rel}' must be a .py file inside the workspace", where)
        if not path.is_file():
            raise config.file.error(f"custom rules file '{rel}' not found", where)
        for spec in _specs(path, rel, i):
            if spec.id in seen:
                raise config.file.error(f"rule id '{spec.id}' of {rel} is already taken (built-in rule, or another "
                                        "custom rule)", where)
            seen.add(spec.id)
            rules.append(Rule(spec.id, spec.summary, spec.severity, _checker(spec), rel))
    return rules


def _specs(path: FilePath, shown: str, index: int) -> list[RuleSpec]:
    module_spec = importlib.util.spec_from_file_location(f"dss_iac_custom_rules_{index}", path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except SyntaxError as e:
        raise ConfigError(f"syntax error in custom rules: {e.msg}", Position(shown, e.lineno or 1,
                                                                             e.offset or 1)) from None
    except Exception as e:
        raise ConfigError(f"custom rules failed to load: {type(e).__name__}: {e}",
                          Position(shown, _line_in(e, path), 1)) from None
    found = [v for v in vars(module).values() if isinstance(getattr(v, RULE_ATTRIBUTE, None), RuleSpec)]
    if not found:
        raise ConfigError("no function in this file is marked @dataiku_iac.lint_rule(...)", Position(shown, 1, 1))
    return [getattr(f, RULE_ATTRIBUTE) for f in found]


def _line_in(e: BaseException, path: FilePath) -> int:
    """The line of `path` where an exception was raised (the deepest frame in that file)."""
    frames = [f for f in traceback.extract_tb(e.__traceback__) if FilePath(f.filename) == path]
    return frames[-1].lineno or 1 if frames else 1


def _checker(spec: RuleSpec) -> Any:
    def check(ctx: ProjectContext) -> Iterator[Hit]:
        found = spec.function(ctx.spec)
        for item in found or ():
            yield _hit(item)

    check.__name__ = spec.function.__name__
    return check


def _hit(item: Any) -> Hit:
    """What a custom rule yields: a message (about the project), or (path, message) with the path as a tuple of
    keys or as dotted text (`datasets.orders.format`)."""
    if isinstance(item, Hit):
        return item
    if isinstance(item, str):
        return Hit(("project",), item)
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], str):
        path, message = item
        if isinstance(path, str):
            path = tuple(int(p) if p.isdigit() else p for p in path.split("."))
        if isinstance(path, list | tuple) and all(isinstance(p, str | int) for p in path):
            return Hit(tuple(path), message)
    raise TypeError(f"a rule yields a message or (path, message), not {item!r:.80}")
