"""Reading YAML fast (ruamel's C-backed safe loader), and finding positions only when needed.

Positions cost time, so a plain load keeps none; when an error must name `file:line:col`, the file is
composed again (still in C) and the node at the error's path is looked up.

A config file is untrusted input (dss-iac runs in CI on pull requests), so before a value is built, one pass
over the parser's events (C, no recursion) refuses what would crash or exhaust the loader: nesting deeper
than MAX_DEPTH (building values recurses, the C composer overflows its stack near 30,000 levels), more than
MAX_VALUES values counting each alias as a copy of what it names (an "alias bomb" expands to billions),
and recursive aliases. Then only values DSS can store as JSON are built: dates, NaN and infinities,
integers beyond 64 bits, binary data, sets and keys that are not text are refused where they are written.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from ruamel.yaml import YAML
from ruamel.yaml.constructor import DuplicateKeyError, SafeConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.resolver import VersionedResolver

from .._text import shorten
from ..errors import ConfigError, Position

MAX_DEPTH = 64  # nested mappings and lists in one file
MAX_VALUES = 250_000  # values in one file, each alias counted as a copy of what it names
INT_RANGE = (-(2**63), 2**63 - 1)  # DSS (Java) holds integers as 64-bit longs
_DIGITS = re.compile(r"[-+]?[0-9_]+")


def unstorable(value: str | int | float) -> str | None:
    """Why DSS, whose values are JSON, cannot store a plain value built in Python (None when it can): the
    checks the YAML constructor below makes, for values that did not come from YAML (Python files, edits)."""
    if type(value) is float and not math.isfinite(value):
        return f"{value} cannot be stored by DSS, whose values are JSON: use a finite number"
    if type(value) is int and not INT_RANGE[0] <= value <= INT_RANGE[1]:
        return "an integer outside what DSS can hold (64-bit, -2^63 to 2^63-1)"
    if type(value) is str and not value.isascii() and any("\ud800" <= c <= "\udfff" for c in value):
        return "text with a lone surrogate (not valid Unicode) cannot be sent to DSS"
    return None


class _Refused(Exception):
    """A value the constructor will not build; `parse_yaml` turns it into a located ConfigError."""

    def __init__(self, message: str, mark: Any) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


def _refuse(message: str, node: Node) -> NoReturn:
    raise _Refused(message, node.start_mark)


class _JsonConstructor(SafeConstructor):
    """The safe constructor, building only what DSS stores as JSON (and compares equal after a round trip)."""

    def construct_yaml_timestamp(self, node: Any, values: Any = None) -> Any:
        _refuse(f"{shorten(node.value)} reads as a date, which DSS cannot store: quote it to keep it as text "
                f"('{shorten(node.value)}')", node)

    def construct_yaml_float(self, node: Any) -> float:
        value: float = self._explicit(super().construct_yaml_float, node, "a number")
        if not math.isfinite(value):
            why = "infinity" if math.isinf(value) else "not a number"
            _refuse(f"{shorten(node.value)} is {why} (NaN and infinities cannot be stored by DSS, whose values are "
                    "JSON): use a finite number, or quote it to keep it as text", node)
        return value

    def construct_yaml_int(self, node: Any) -> int:
        if _DIGITS.fullmatch(node.value) and len(node.value) > 40:
            value = INT_RANGE[1] + 1  # more digits than Python converts, and far more than DSS holds
        else:
            value = self._explicit(super().construct_yaml_int, node, "an integer")
        if not INT_RANGE[0] <= value <= INT_RANGE[1]:
            _refuse(f"{shorten(node.value)} is outside the integers DSS can hold (64-bit, -2^63 to 2^63-1): quote "
                    "it to keep it as text", node)
        return value

    def construct_yaml_bool(self, node: Any) -> bool:
        value: bool = self._explicit(super().construct_yaml_bool, node, "a boolean")
        return value

    @staticmethod
    def _explicit(construct: Any, node: Any, kind: str) -> Any:
        # Plain scalars reach these constructors only when they read as such; a tag (`!!int abc`) sends anything.
        try:
            return construct(node)
        except (ValueError, KeyError, IndexError):
            _refuse(f"'{shorten(node.value)}' is not {kind}, as its tag says", node)

    def construct_yaml_binary(self, node: Any) -> Any:
        _refuse("!!binary data cannot be stored by DSS, whose values are JSON: use text (base64 as a string)", node)

    def construct_yaml_set(self, node: Any) -> Any:
        _refuse("a !!set cannot be stored by DSS, whose values are JSON: use a list", node)

    def construct_yaml_omap(self, node: Any) -> Any:
        _refuse("an !!omap cannot be stored by DSS, whose values are JSON: use a mapping", node)

    def construct_yaml_pairs(self, node: Any) -> Any:
        _refuse("!!pairs cannot be stored by DSS, whose values are JSON: use a mapping", node)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        mapping = super().construct_mapping(node, deep=deep)
        for key in mapping:
            if type(key) is not str:
                key_node = next((k for k, _ in node.value if self.constructed_objects.get(k) is key), node)
                _refuse(_bad_key(key, key_node), key_node)
        return mapping


def _bad_key(key: Any, node: Node) -> str:
    if not isinstance(node.value, str):
        return "a list or a mapping cannot be a key: keys must be text"
    kind = "null" if key is None else "a boolean" if isinstance(key, bool) else "a number"
    return f"the key {shorten(node.value)} reads as {kind}, but keys must be text: quote it ('{shorten(node.value)}')"


for _tag in ("timestamp", "float", "int", "bool", "binary", "set", "omap", "pairs"):
    _JsonConstructor.add_default_constructor(_tag)


class _Yaml12Resolver(VersionedResolver):
    # The C parser reads every file as YAML 1.2 (it ignores %YAML directives), yet ruamel works the version
    # out again, through a caught AttributeError, for each scalar: 40% of the load time of a large workspace.
    @property
    def processing_version(self) -> Any:
        return (1, 2)


def _safe_yaml() -> YAML:
    # pure=False picks ruamel.yaml.clib's C parser; duplicate keys stay an error.
    yaml = YAML(typ="safe", pure=False)
    yaml.Constructor = _JsonConstructor
    yaml.Resolver = _Yaml12Resolver
    return yaml


def check_shape(text: str, shown: str) -> int:
    """The number of values in a document, aliases expanded. Refuses one nested deeper than MAX_DEPTH, with
    more than MAX_VALUES values, or with a recursive alias; syntax errors are raised as the loader raises them
    (YAMLError)."""
    opened: list[tuple[str | None, int]] = []  # per open mapping or list: its anchor, the count before it
    sizes: dict[str, int] = {}  # anchor -> values in what it names
    total = 0
    for event in _safe_yaml().parse(text):
        kind = type(event)
        if kind is ScalarEvent:
            total += 1
            if event.anchor:
                sizes[event.anchor] = 1
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            if event.anchor:
                sizes.pop(event.anchor, None)  # while open, an alias to it is recursive
            opened.append((event.anchor, total))
            total += 1
            if len(opened) > MAX_DEPTH:
                _raise_at(event, shown, f"nested more than {MAX_DEPTH} levels deep: dss-iac reads at most "
                                        f"{MAX_DEPTH} levels of mappings and lists")
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            anchor, before = opened.pop()
            if anchor:
                sizes[anchor] = total - before
        elif kind is AliasEvent:
            size = sizes.get(event.anchor)
            if size is None:
                if any(anchor == event.anchor for anchor, _ in opened):
                    _raise_at(event, shown, f"alias *{event.anchor} is inside what it names: recursive values "
                                            "cannot be stored")
                continue  # an undefined alias: the loader says so
            total += size
            if total > MAX_VALUES:
                _raise_at(event, shown, f"aliases expand this file beyond {MAX_VALUES:,} values (each alias "
                                        "counts as a copy of what it names): write the values out, or use fewer "
                                        "nested aliases")
        elif kind is DocumentStartEvent:
            sizes.clear()
    if total > MAX_VALUES:
        raise ConfigError(f"more than {MAX_VALUES:,} values in one file: split it into several project files",
                          Position(shown, 1, 1))
    return total


_STR, _NULL = "tag:yaml.org,2002:str", "tag:yaml.org,2002:null"
_BUILT = {"tag:yaml.org,2002:bool": "construct_yaml_bool", "tag:yaml.org,2002:int": "construct_yaml_int",
          "tag:yaml.org,2002:float": "construct_yaml_float"}


class _Unusual(Exception):
    """Something `_build_from_events` leaves to ruamel's loader (which builds it or says what is wrong)."""


def _build_from_events(text: str) -> tuple[Any, int] | None:
    """The data and value count of an ordinary document, built in one pass over the C parser's events; None
    when the document holds anything unusual (a tag, a merge key, a duplicate or non-text key, several
    documents, a value to refuse, a syntax error, a shape check_shape refuses), which the full path (check_shape,
    then ruamel's composer and constructor) reads with its exact errors. Composing nodes in Python cost three
    quarters of the load time of a large workspace; the values built here are those ruamel builds (a hypothesis
    test compares them)."""
    yaml = _safe_yaml()
    try:
        return _build(yaml.parse(text), yaml.resolver, yaml.constructor)
    except (_Unusual, YAMLError, _Refused, ValueError, TypeError, OverflowError):
        return None


def _build(events: Any, resolver: Any, constructor: Any) -> tuple[Any, int]:
    tags: dict[tuple[str, Any], str] = {}  # (plain text, implicit) -> its resolved tag: keys repeat a lot
    anchored: dict[str, tuple[Any, int]] = {}  # anchor -> (value, values in it)
    named: set[str] = set()  # every anchor of the document: ruamel refuses one named twice
    # Open collections: [the dict or list, the key awaiting its value (mappings), its anchor, count before it].
    opened: list[list[Any]] = []
    root: Any = None
    total = documents = 0

    def place(value: Any) -> None:
        nonlocal root
        if not opened:
            root = value
            return
        frame = opened[-1]
        into = frame[0]
        if type(into) is list:
            into.append(value)
        elif frame[1] is _NO_KEY:
            if type(value) is not str or value in into:
                raise _Unusual  # a key that is not text, or a duplicate: ruamel says where
            frame[1] = value
        else:
            into[frame[1]] = value
            frame[1] = _NO_KEY

    for event in events:
        kind = type(event)
        if kind is ScalarEvent:
            if event.tag is not None and event.tag != "!":
                raise _Unusual
            total += 1
            key = (event.value, event.implicit)
            tag = tags.get(key)
            if tag is None:
                tag = tags[key] = str(resolver.resolve(ScalarNode, event.value, event.implicit))
            if tag == _STR:
                value: Any = event.value
            elif tag == _NULL:
                value = None
            else:
                method = _BUILT.get(tag)
                if method is None:
                    raise _Unusual  # a merge key, a date...
                node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
                value = getattr(constructor, method)(node)
            if event.anchor:
                if event.anchor in named:
                    raise _Unusual
                named.add(event.anchor)
                anchored[event.anchor] = (value, 1)
            place(value)
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            if event.tag is not None and event.tag != "!":
                raise _Unusual
            if event.anchor:
                if event.anchor in named:
                    raise _Unusual
                named.add(event.anchor)
            opened.append([{} if kind is MappingStartEvent else [], _NO_KEY, event.anchor, total])
            total += 1
            if len(opened) > MAX_DEPTH:
                raise _Unusual
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            value, _, anchor, before = opened.pop()
            if anchor:
                anchored[anchor] = (value, total - before)
            place(value)
        elif kind is AliasEvent:
            if event.anchor not in anchored:
                raise _Unusual
            value, size = anchored[event.anchor]
            total += size
            if total > MAX_VALUES:
                raise _Unusual
            place(value)
        elif kind is DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise _Unusual  # ruamel refuses a second document
        elif kind is not DocumentEndEvent and kind is not StreamStartEvent and kind is not StreamEndEvent:
            raise _Unusual
    if total > MAX_VALUES:
        raise _Unusual
    return root, total


_NO_KEY = object()  # a mapping's frame awaits a key, not a value


def _raise_at(event: Any, shown: str, message: str) -> NoReturn:
    mark = event.start_mark
    raise ConfigError(message, Position(shown, mark.line + 1, mark.column + 1))


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
    return parse_counted(text, shown)[0]


def parse_counted(text: str, shown: str) -> tuple[Any, int]:
    """The document's data, and how many values it holds (aliases expanded)."""
    fast = _build_from_events(text)
    if fast is not None:
        return fast
    try:
        count = check_shape(text, shown)
        return _safe_yaml().load(text), count
    except _Refused as e:
        raise ConfigError(e.message, Position(shown, e.mark.line + 1, e.mark.column + 1)) from None
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
    tree = _tree(text)
    if tree is None:
        return Position(shown, 1, 1)
    node: Node = tree.root
    best = node.start_mark
    for i, step in enumerate(loc):
        child, key_mark = tree.child(node, step)
        if child is None:
            break
        node = child
        best = key_mark if at_key and i == len(loc) - 1 else child.start_mark
    return Position(shown, best.line + 1, best.column + 1)


class _Tree:
    """A composed file, its mappings indexed by key as they are first walked: a file with thousands of errors
    (a hostile one) is composed once and each error found in a few steps, not one pass of the file each."""

    def __init__(self, root: Node) -> None:
        self.root = root
        self._keys: dict[int, dict[str, tuple[Node, Any]]] = {}

    def child(self, node: Node, step: str | int) -> tuple[Node | None, Any]:
        if isinstance(node, MappingNode):
            keys = self._keys.get(id(node))
            if keys is None:
                keys = {}
                for key_node, value_node in node.value:
                    keys.setdefault(str(key_node.value), (value_node, key_node.start_mark))
                self._keys[id(node)] = keys
            return keys.get(str(step), (None, None))
        if isinstance(node, SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
            child = node.value[step]
            return child, child.start_mark
        return None, None


@functools.lru_cache(maxsize=2)
def _tree(text: str) -> _Tree | None:
    try:
        check_shape(text, "")  # composing, too, would crash on a hostile file
        root: Node | None = _safe_yaml().compose(text)
    except (YAMLError, ConfigError):
        return None
    return None if root is None else _Tree(root)
