"""Python project files: a `.py` file that builds a `ProjectFile` with the models of `dataiku_iac.dsl`.

The file runs in a fresh module namespace and must set `project`. What it built is dumped and validated again as
plain data, so the planner gets exactly the model a YAML file with the same content would give. Every
failure becomes a one-line `ConfigError` with a position in the file: never a traceback.
"""

from __future__ import annotations

import ast
import contextlib
import sys
import traceback
import types
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import ConfigError, ConfigErrors, Position
from ..resources.project import Project
from .errors_map import _message
from .loader import SourceFile
from .project_model import ProjectFile, models_by_name, project_file_model
from .yamlio import MAX_DEPTH, unstorable

PROJECT_VAR = "project"
# The module name the file runs under: `if __name__ == "__main__":` blocks (debug prints) do not run.
RUN_NAME = "__dss_iac_project__"


def key_path(loc: Sequence[str | int]) -> str:
    """`("datasets", "orders", "schema", 0)` -> `datasets.orders.schema[0]`."""
    out = ""
    for step in loc:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


@dataclass(frozen=True)
class PythonSourceFile(SourceFile):
    """A project file written in Python.

    Errors found once it has run (bad references, cycles, duplicate keys...) cannot point into data the
    code computed, so they point at the `project = ...` line and name the key path in the message.
    """

    @cached_property
    def anchor(self) -> int:
        return assignment_line(self.text)

    def position(self, loc: Sequence[str | int], *, at_key: bool = False) -> Position:
        return Position(self.shown, self.anchor, 1)

    def error(self, message: str, loc: Sequence[str | int], *, at_key: bool = False) -> ConfigError:
        path = key_path(loc)
        return ConfigError(f"{path}: {message}" if path else message, self.position(loc))


def assignment_line(text: str) -> int:
    """The line of the last module-level assignment to `project` (1 when there is none)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return 1
    line = 1
    for node in _module_level(tree):
        targets: list[ast.expr]
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign | ast.AugAssign | ast.NamedExpr) and getattr(node, "value", None):
            targets = [node.target]
        else:
            continue
        if any(_binds(t) for t in targets):
            line = max(line, node.lineno)
    return line


def _module_level(node: ast.AST) -> Iterator[ast.AST]:
    # Names bound inside functions, classes and lambdas are theirs, not the module's.
    for child in ast.iter_child_nodes(node):
        if not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            yield child
            yield from _module_level(child)


def _binds(target: ast.expr) -> bool:
    if isinstance(target, ast.Name):
        return target.id == PROJECT_VAR
    if isinstance(target, ast.Tuple | ast.List):
        return any(_binds(t) for t in target.elts)
    if isinstance(target, ast.Starred):
        return _binds(target.value)
    return False


def load_python_project(source: SourceFile) -> tuple[PythonSourceFile, ProjectFile]:
    """Run a `.py` project file and return its `project`, validated as a YAML project would be."""
    pysource = PythonSourceFile(source.path, source.shown, source.text)
    namespace = _run(pysource)
    if PROJECT_VAR not in namespace:
        raise ConfigError(f"no variable '{PROJECT_VAR}': a Python project file must set "
                          f"`{PROJECT_VAR} = ProjectFile(...)` (from dataiku_iac.dsl) or a dict of the same shape",
                          file=pysource.shown)
    return pysource, _to_spec(pysource, namespace[PROJECT_VAR])


def _run(source: PythonSourceFile) -> dict[str, Any]:
    """Run the file's text in a fresh module, as `runpy.run_path` does, and return its namespace.

    The text already read is what runs, not the file on disk again: the digest covers exactly what ran,
    and a workspace read from a Git revision runs that revision's code.
    """
    filename = str(source.path)
    module = types.ModuleType(RUN_NAME)
    module.__file__ = filename
    previous = sys.modules.get(RUN_NAME)
    try:
        # dont_inherit: this module's `from __future__` imports must not leak into the user's code.
        code = compile(source.text, filename, "exec", dont_inherit=True)
        # Registered while it runs: dataclasses and typing.get_type_hints look the module up by name.
        sys.modules[RUN_NAME] = module
        # print() in a project file must never corrupt the command's output (`plan --json`...).
        with contextlib.redirect_stdout(sys.stderr):
            exec(code, module.__dict__)
    except (Exception, SystemExit) as e:
        raise _run_error(e, source) from None
    finally:
        if previous is None:
            sys.modules.pop(RUN_NAME, None)
        else:
            sys.modules[RUN_NAME] = previous
    return dict(module.__dict__)


def _run_error(e: BaseException, source: PythonSourceFile) -> ConfigError:
    kind = type(e).__name__
    if isinstance(e, SyntaxError) and e.filename == str(source.path):
        return ConfigError(f"{kind}: {e.msg}", Position(source.shown, e.lineno or 1, e.offset or 1))
    where = _frame_position(e, source)
    if isinstance(e, ValidationError):
        # A model built with bad values in the file: one line per problem, at the constructor call.
        errors = [ConfigError(f"{kind}: {m}", where, file=source.shown) for m in _validation_messages(e)]
        return errors[0] if len(errors) == 1 else ConfigErrors(errors)
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    return ConfigError(f"{kind}: {lines[0]}" if lines else kind, where, file=source.shown)


def _frame_position(e: BaseException, source: PythonSourceFile) -> Position | None:
    """Where the innermost frame of the file was when the exception went through it."""
    frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == str(source.path)]
    line = frames[-1].lineno if frames else None
    if not line:
        return None
    colno = frames[-1].colno
    col = 1
    lines = source.text.split("\n")
    if colno is not None and line <= len(lines):
        # colno counts UTF-8 bytes; editors count characters.
        col = len(lines[line - 1].encode()[:colno].decode(errors="ignore")) + 1
    return Position(source.shown, line, col)


def _validation_messages(e: ValidationError) -> list[str]:
    model = models_by_name().get(e.title)
    out = []
    for err in e.errors():
        if isinstance(model, type) and issubclass(model, BaseModel):
            message, loc, _ = _message(dict(err), model)
        else:
            message, loc = err["msg"], tuple(err["loc"])
        out.append(f"{key_path((e.title, *loc))}: {message}")
    return out


def _to_spec(source: PythonSourceFile, value: Any) -> ProjectFile:
    if isinstance(value, dict):
        value = _validate(source, value)
    elif not isinstance(value, ProjectFile):
        hint = " (wrap it: `project = ProjectFile(project=...)`)" if isinstance(value, Project) else ""
        raise source.error(f"'{PROJECT_VAR}' must be a ProjectFile or a dict of the same shape, not "
                           f"{type(value).__name__}{hint}", ())
    # Dumped and validated again as plain data: the same model YAML gives (same keys set, lists not tuples,
    # no objects YAML cannot hold), and whatever skipped validation (model_construct) is validated now.
    # warnings=False: a bad value set by model_copy is reported by the validation below, not as a warning.
    try:
        dumped = value.model_dump(by_alias=True, exclude_unset=True, warnings=False)
    except (ValueError, RecursionError) as e:  # a value that contains itself
        raise source.error(f"'{PROJECT_VAR}' cannot be read as data: {str(e).splitlines()[0]}", ()) from None
    return _validate(source, _plain(dumped, (), source))


def _validate(source: PythonSourceFile, data: dict[str, Any]) -> ProjectFile:
    try:
        return project_file_model().model_validate(data)
    except ValidationError as e:
        errors = []
        for err in e.errors():
            message, loc, _ = _message(dict(err), project_file_model())
            errors.append(source.error(message, loc))
        raise errors[0] if len(errors) == 1 else ConfigErrors(errors) from None


def _plain(value: Any, loc: tuple[str | int, ...], source: PythonSourceFile) -> Any:
    """`value` as the plain types YAML gives: str, int, float, bool, None, lists and dicts with string keys,
    held to the limits a YAML file is held to (see yamlio)."""
    if len(loc) > MAX_DEPTH:
        raise source.error(f"nested more than {MAX_DEPTH} levels deep below here (or a value that contains itself):"
                           f" dss-iac reads at most {MAX_DEPTH} levels of mappings and lists", loc[:6])
    if value is None or type(value) is bool:
        return value
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise source.error(f"key {k!r} is a {type(k).__name__}: keys must be strings", loc)
            out[str.__str__(k)] = _plain(v, (*loc, k), source)
        return out
    if isinstance(value, list | tuple):
        return [_plain(v, (*loc, i), source) for i, v in enumerate(value)]
    # Subclasses of plain types (str and int enums) are stored as their plain value.
    for base in (int, float, str):
        if isinstance(value, base):
            plain = base(value) if base is not str else str.__str__(value)
            if (problem := unstorable(plain)) is not None:
                raise source.error(problem, loc)
            return plain
    raise source.error(f"a {type(value).__name__} is not plain data: use str, int, float, bool, None, lists "
                       "and dicts, as a YAML file would", loc)
