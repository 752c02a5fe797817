"""Reading YAML fast (ruamel's C-backed safe loader), and finding positions only when needed.

Positions cost time, so a plain load keeps none; when an error must name `file:line:col`, the file is
composed again (still in C) and the node at the error's path is looked up.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, SequenceNode

from ..errors import ConfigError, Position


def _safe_yaml() -> YAML:
    # pure=False picks ruamel.yaml.clib's C parser; duplicate keys stay an error.
    return YAML(typ="safe", pure=False)


def display_path(path: Path, root: Path | None = None) -> str:
    """A path as the user should see it in errors: relative to the workspace when inside it."""
    if root is not None:
        try:
            return str(path.resolve().relative_to(root.resolve()))
        except ValueError:
            pass
    return str(path)


def load_yaml(path: Path, shown_as: str | None = None) -> Any:
    """Parse one YAML file to plain Python data; syntax errors carry their position."""
    shown = shown_as or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", file=shown) from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"not UTF-8 text ({e.reason} at byte {e.start})", file=shown) from None
    except OSError as e:
        raise ConfigError(f"cannot read file: {e.strerror}", file=shown) from None
    return parse_yaml(text, shown)


def parse_yaml(text: str, shown: str) -> Any:
    try:
        return _safe_yaml().load(text)
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        if isinstance(e, DuplicateKeyError):
            first = f" (first defined on line {e.context_mark.line + 1})" if e.context_mark else ""
            message = f"duplicate key {_duplicate_key(e)}{first}: names must be unique"
        else:
            message = f"YAML syntax error: {(e.problem or e.context or 'invalid YAML').strip()}"
        pos = Position(shown, mark.line + 1, mark.column + 1) if mark is not None else None
        raise ConfigError(message, pos, file=shown) from None
    except YAMLError as e:
        raise ConfigError(f"YAML syntax error: {str(e).splitlines()[0]}", file=shown) from None


def _duplicate_key(e: MarkedYAMLError) -> str:
    text = str(e.problem or "")
    quote = text.find('"')
    return text[quote:].split(" ", 1)[0] if quote >= 0 else ""


def locate(text: str, shown: str, loc: Sequence[str | int], *, at_key: bool = False) -> Position:
    """The position of the deepest node along `loc` (keys and list indexes) in a YAML text.

    It points at the value, or with `at_key` at the key of the last step (for "unknown key" errors).
    """
    try:
        node: Node | None = _safe_yaml().compose(text)
    except YAMLError:
        return Position(shown, 1, 1)
    if node is None:
        return Position(shown, 1, 1)
    best = node.start_mark
    for i, step in enumerate(loc):
        child, key_mark = _child(node, step)
        if child is None:
            break
        node = child
        best = key_mark if at_key and i == len(loc) - 1 else child.start_mark
    return Position(shown, best.line + 1, best.column + 1)


def _child(node: Node, step: str | int) -> tuple[Node | None, Any]:
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            if str(key_node.value) == str(step):
                return value_node, key_node.start_mark
        return None, None
    if isinstance(node, SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
        child = node.value[step]
        return child, child.start_mark
    return None, None
