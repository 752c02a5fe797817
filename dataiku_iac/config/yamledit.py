"""Editing YAML text in place: change the values at a path and leave every other byte as it was.

ruamel.yaml's parser gives every node of a file its exact span. An edit rewrites only the spans of the
nodes whose values change: a scalar in place (keeping its quoting), a key appended to its mapping at the
mapping's own indentation, an item removed with its comment lines, a flow collection kept in flow style.
Comments, key order, quoting, flow style, block scalars and anchors elsewhere stay byte for byte.

Every edit is checked afterwards: the new text must parse to exactly the old data with the one value
changed, so an edit that would also change something else (a value shared through a YAML anchor or a
merge key) is refused instead of written.
"""

from __future__ import annotations

import difflib
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    DocumentEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceStartEvent,
)
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from ..errors import ConfigError
from .yamlio import parse_yaml, unstorable

MISSING: Any = object()
# Longest flow collection written for a new value before block style is used instead.
FLOW_WIDTH = 80


@dataclass(eq=False)
class Node:
    """One node of the file with its span (character offsets); aliases are leaves of their own."""

    kind: str  # map | seq | scalar | alias
    start: int
    end: int
    flow: bool = False  # a {...} or [...] collection
    in_flow: bool = False  # inside a flow collection
    style: str | None = None  # scalars: None (plain), ', ", | or >
    value: str = ""
    entries: list[tuple[Node, Node]] = field(default_factory=list)
    items: list[Node] = field(default_factory=list)


def same(a: Any, b: Any) -> bool:
    """Equal as YAML data: types matter (1, 1.0, True and "1" all differ); mapping order does not."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr)


def plain(value: Any, where: str = "value") -> Any:
    """`value` as YAML data (dicts, lists, strings, numbers, booleans, None), or a ConfigError."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise ConfigError(f"{where}: keys must be strings, got {k!r}")
            out[k] = plain(v, f"{where}.{k}")
        return out
    if isinstance(value, list | tuple):
        return [plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float | str):
        if (problem := unstorable(value)) is not None:
            raise ConfigError(f"{where}: {problem}")
        return value
    raise ConfigError(f"{where}: {type(value).__name__} values cannot be written to YAML (use text, numbers, "
                      "booleans, lists and mappings)")


# -- scalars and new values as text ----------------------------------------------------------------


def _dumper() -> YAML:
    y = YAML(typ="rt", pure=True)
    y.default_flow_style = True
    y.width = 1 << 30
    return y


_DUMPER = _dumper()


def scalar_text(value: Any, style: str | None = None) -> str:
    """A scalar as YAML text valid anywhere (flow context included), quoted as `style` asks when it can be."""
    # YAML reads NEL and the Unicode line and paragraph separators as line breaks in plain and single-quoted
    # scalars (folding them to spaces): only double quotes, with escapes, keep them.
    if isinstance(value, str) and (style == '"' or any(c in value for c in "\x85\u2028\u2029")):
        value = DoubleQuotedScalarString(value)
    elif isinstance(value, str) and style == "'" and "\n" not in value:
        value = SingleQuotedScalarString(value)
    text = _flow_item(value)
    if isinstance(value, str) and not isinstance(value, DoubleQuotedScalarString) and not _reads_as(text, value):
        # The emitter's plain or single-quoted choice does not always read back in flow context (`[0?]`,
        # `[?0]`): double quotes with escapes always do.
        text = _flow_item(DoubleQuotedScalarString(value))
    return text


def _flow_item(value: Any) -> str:
    buf = io.StringIO()
    _DUMPER.dump([value], buf)
    return buf.getvalue().strip()[1:-1]


def _reads_as(text: str, value: str) -> bool:
    try:
        return parse_yaml(f"[{text}]", "<scalar>") == [value]
    except ConfigError:
        return False


def flow_text(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{scalar_text(k)}: {flow_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow_text(v) for v in value) + "]"
    return scalar_text(value)


def _literal_able(value: Any) -> bool:
    """A string that a `|` block scalar holds exactly."""
    return (isinstance(value, str) and value.rstrip("\n") != "" and not value.startswith((" ", "\n", "\t"))
            and all(c.isprintable() or c in "\n\t" for c in value))


def _literal_ok(value: Any) -> bool:
    """A multi-line string: it reads best as a `|` block."""
    return _literal_able(value) and "\n" in value.rstrip("\n")


def _literal(value: str, indent: int, style: str | None = None) -> tuple[str, list[str]]:
    """The indicator (with its chomping) and the body lines of a block scalar: `|`, or `>` when the old value
    was folded and the new one is a single line (folding then changes nothing)."""
    stripped = value.rstrip("\n")
    trailing = len(value) - len(stripped)
    mark = ">" if style == ">" and "\n" not in stripped else "|"
    indicator = mark + ("-" if trailing == 0 else "" if trailing == 1 else "+")
    body = [f"{' ' * indent}{line}" if line else "" for line in stripped.split("\n")]
    body.extend([""] * (trailing - 1 if trailing > 1 else 0))
    return indicator, body


class Layout:
    """How the file indents: nested mappings by `step`, sequence dashes `seq_offset` past their key."""

    def __init__(self, step: int = 2, seq_offset: int = 2) -> None:
        self.step = step
        self.seq_offset = seq_offset

    def inline(self, value: Any, flow_items: bool = False) -> str | None:
        """The value on one line in block context, or None when it needs lines of its own."""
        if isinstance(value, dict | list):
            if not value:
                return "{}" if isinstance(value, dict) else "[]"
            leaf = isinstance(value, list) and all(not isinstance(v, dict | list) for v in value)
            text = flow_text(value)
            if (leaf or flow_items) and len(text) <= FLOW_WIDTH and not any(_literal_ok(v) for v in value):
                return text
            return None
        return None if _literal_ok(value) else scalar_text(value)

    def entry(self, key: str, value: Any, indent: int) -> list[str]:
        head = f"{' ' * indent}{scalar_text(key)}:"
        one = self.inline(value)
        if one is not None:
            return [f"{head} {one}"]
        if isinstance(value, str):
            indicator, body = _literal(value, indent + self.step)
            return [f"{head} {indicator}", *body]
        nested = indent + (self.step if isinstance(value, dict) else self.seq_offset)
        return [head, *self.block(value, nested)]

    def block(self, value: dict[str, Any] | list[Any], indent: int, flow_items: bool = False) -> list[str]:
        """A non-empty mapping or sequence in block style, each line indented by `indent` at least."""
        out: list[str] = []
        if isinstance(value, dict):
            for k, v in value.items():
                out.extend(self.entry(k, v, indent))
            return out
        for item in value:
            out.extend(self.item(item, indent, flow_items))
        return out

    def item(self, item: Any, indent: int, flow_items: bool = False) -> list[str]:
        sp = " " * indent
        one = self.inline(item, flow_items and isinstance(item, dict))
        if one is not None:
            return [f"{sp}- {one}"]
        if isinstance(item, str):
            indicator, body = _literal(item, indent + 2)
            return [f"{sp}- {indicator}", *body]
        sub = self.block(item, indent + 2)
        return [f"{sp}- {sub[0][indent + 2:]}", *sub[1:]]


# -- the file as nodes with spans ------------------------------------------------------------------------


def parse_nodes(text: str) -> Node | None:
    """The first document's root node, or None for an empty file; YAML errors are the caller's."""
    starts = [0]
    starts.extend(i + 1 for i, c in enumerate(text) if c == "\n")

    def pos(mark: Any) -> int:
        return min(starts[mark.line] + mark.column, len(text)) if mark.line < len(starts) else len(text)

    stack: list[tuple[Node, list[Node]]] = []  # open collections, with a map's pending key
    root: Node | None = None

    def attach(node: Node) -> None:
        nonlocal root
        if not stack:
            root = node
            return
        parent, pending = stack[-1]
        if parent.kind == "seq":
            parent.items.append(node)
        elif not pending:
            pending.append(node)
        else:
            key = pending.pop()
            if node.kind == "scalar" and node.value == "" and node.style is None and node.start == node.end:
                # An empty value is marked at the next token, maybe lines below: it sits right after the colon.
                colon = _colon_after(text, key.end)
                if colon is not None:
                    node.start = node.end = colon
            parent.entries.append((key, node))

    for ev in YAML(typ="safe", pure=False).parse(text):  # the C parser: five times faster on large files
        in_flow = bool(stack) and (stack[-1][0].flow or stack[-1][0].in_flow)
        if isinstance(ev, MappingStartEvent | SequenceStartEvent):
            node = Node("map" if isinstance(ev, MappingStartEvent) else "seq", pos(ev.start_mark),
                        pos(ev.end_mark), flow=bool(ev.flow_style), in_flow=in_flow)
            attach(node)
            stack.append((node, []))
        elif isinstance(ev, CollectionEndEvent):
            node, _ = stack.pop()
            node.end = pos(ev.end_mark)
        elif isinstance(ev, ScalarEvent):
            attach(Node("scalar", pos(ev.start_mark), pos(ev.end_mark), in_flow=in_flow, style=ev.style or None,
                        value=ev.value))
        elif isinstance(ev, AliasEvent):
            attach(Node("alias", pos(ev.start_mark), pos(ev.end_mark), in_flow=in_flow))
        elif isinstance(ev, DocumentEndEvent):
            break
    return root


def _colon_after(text: str, pos: int) -> int | None:
    i = pos
    while i < len(text) and text[i] in " \t":
        i += 1
    return i + 1 if i < len(text) and text[i] == ":" else None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


class Editor:
    """Edits to one YAML text, collected as (start, end, new text) spans of the original and applied at once."""

    def __init__(self, text: str, shown: str) -> None:
        self.text = text
        self.shown = shown
        self.nl = "\r\n" if "\r\n" in text else "\n"
        try:
            self.root = parse_nodes(text)
        except YAMLError as e:
            raise ConfigError(f"cannot edit: the file is not valid YAML ({str(e).splitlines()[0]})",
                              file=shown) from None
        self.layout = self._detect_layout()
        self.edits: list[tuple[int, int, str]] = []

    # -- positions --------------------------------------------------------------------------------------
    def line_start(self, pos: int) -> int:
        return self.text.rfind("\n", 0, pos) + 1

    def eol(self, pos: int) -> int:
        """Just past the newline that ends the line holding `pos` (or the end of the text)."""
        i = self.text.find("\n", pos)
        return len(self.text) if i < 0 else i + 1

    def col(self, pos: int) -> int:
        return pos - self.line_start(pos)

    def end(self, n: Node) -> int:
        """Where the node's content ends: before trailing blank lines and the comments that follow it."""
        if n.kind == "map" and not n.flow and n.entries:
            key, value = n.entries[-1]
            return max(key.end, self.end(value))
        if n.kind == "seq" and not n.flow and n.items:
            return self.end(n.items[-1])
        if n.kind == "scalar" and n.style in ("|", ">"):
            return n.start + len(self.text[n.start:n.end].rstrip())
        return n.end

    def _line(self, start: int) -> str:
        return self.text[start:self.eol(start)]

    def _prev_line_start(self, start: int) -> int | None:
        return None if start == 0 else self.line_start(start - 1)

    def leading(self, line_start: int, col: int) -> int:
        """Start of the comment lines right above a line, at the same indentation: they describe it."""
        pos = line_start
        while (prev := self._prev_line_start(pos)) is not None:
            line = self.text[prev:pos]
            if line.strip().startswith("#") and _indent(line) == col:
                pos = prev
            else:
                break
        return pos

    def trailing(self, pos: int, col: int) -> int:
        """Past the comment lines right below, indented deeper than `col`: they belong to what is above."""
        while pos < len(self.text):
            line = self._line(pos)
            if line.strip().startswith("#") and _indent(line) > col:
                pos += len(line)
            else:
                break
        return pos

    def _blank(self, start: int | None) -> bool:
        return start is not None and start < len(self.text) and self._line(start).strip() == ""

    def _detect_layout(self) -> Layout:
        step = offset = None
        todo = [self.root] if self.root is not None else []
        while todo and (step is None or offset is None):
            n = todo.pop(0)
            for key, value in n.entries:
                if value.kind == "map" and step is None and self._block_collection(value):
                    step = self.col(self.first(value)) - self.col(key.start)
                if value.kind == "seq" and offset is None and self._block_collection(value):
                    offset = self.col(self.first(value)) - self.col(key.start)
            todo.extend(v for _, v in n.entries)
            todo.extend(n.items)
        return Layout(step if step and step > 0 else 2, offset if offset is not None and offset >= 0 else 2)

    # -- applying ------------------------------------------------------------------------------------------
    def edit(self, start: int, end: int, new: str) -> None:
        self.edits.append((start, end, new.replace("\n", self.nl) if self.nl != "\n" else new))

    def insert_lines(self, pos: int, lines: list[str]) -> None:
        """Whole lines inserted at a line start (after the last line when the text has no final newline)."""
        prefix = "\n" if pos == len(self.text) and self.text and not self.text.endswith("\n") else ""
        self.edit(pos, pos, prefix + "".join(f"{line}\n" for line in lines))

    def result(self) -> str:
        out = self.text
        last = len(self.text) + 1
        # From the end of the text back; of two insertions at one place, the later-made goes in first, so
        # that they read in the order they were made (a block scalar's lines, then an item appended after it).
        order = sorted(range(len(self.edits)), key=lambda i: (self.edits[i][0], self.edits[i][1], i), reverse=True)
        for start, end, new in (self.edits[i] for i in order):
            if end > last:
                raise ConfigError("cannot make this edit in place (overlapping changes); edit the file by hand",
                                  file=self.shown)
            out = out[:start] + new + out[end:]
            last = start
        return out

    # -- reconciling a node with its new value --------------------------------------------------------------
    def reconcile(self, n: Node, old: Any, new: Any, ctx: tuple[Any, ...]) -> None:
        """Make node `n` (whose value is `old`) hold `new`, rewriting as little text as possible."""
        if same(old, new):
            return
        if n.kind == "map" and isinstance(old, dict) and isinstance(new, dict) and n.entries:
            self._reconcile_map(n, old, new, ctx)
        elif n.kind == "seq" and isinstance(old, list) and isinstance(new, list) and n.items:
            self._reconcile_seq(n, old, new, ctx)
        else:
            self.replace(n, new, ctx, old)

    def _local(self, n: Node) -> dict[str, tuple[int, Node, Node]]:
        return {k.value: (i, k, v) for i, (k, v) in enumerate(n.entries) if k.kind == "scalar" and k.value != "<<"}

    def _reconcile_map(self, n: Node, old: dict[str, Any], new: dict[str, Any], ctx: tuple[Any, ...]) -> None:
        local = self._local(n)
        merged = len(local) != len(n.entries)
        gone = [k for k in old if k not in new]
        for k in gone:
            if k not in local:
                raise ConfigError(f"cannot remove '{k}': it comes from a YAML merge key (<<); edit the file by hand",
                                  file=self.shown)
        added = {k: v for k, v in new.items() if k not in local}
        if n.flow:
            if gone or added:
                self.edit(n.start, n.end, self._flow_rebuild(n, old, new))
                return
            for k, v in new.items():
                _, _, vn = local[k]
                self.reconcile(vn, old[k], v, ("value", local[k][1], n))
            return
        if len(gone) == len(local) and not added and not merged:
            self.replace(n, new, ctx, old)
            return
        for k, v in new.items():
            if k in local and k in old:
                self.reconcile(local[k][2], old[k], v, ("value", local[k][1], n))
        self._remove_entries(n, sorted(local[k][0] for k in gone))
        if added:
            self._add_entries(n, added)

    def _reconcile_seq(self, n: Node, old: list[Any], new: list[Any], ctx: tuple[Any, ...]) -> None:
        ops = difflib.SequenceMatcher(a=[_canon(x) for x in old], b=[_canon(x) for x in new],
                                      autojunk=False).get_opcodes()
        pairs: list[tuple[int, int]] = []
        deleted: list[int] = []
        inserts: list[tuple[int, list[Any]]] = []
        for tag, i1, i2, j1, j2 in ops:
            if tag == "equal":
                continue
            common = min(i2 - i1, j2 - j1) if tag == "replace" else 0
            pairs.extend((i1 + k, j1 + k) for k in range(common))
            deleted.extend(range(i1 + common, i2))
            if j1 + common < j2:
                inserts.append((i1 + common, new[j1 + common:j2]))
        if not new:
            self.replace(n, new, ctx, old)
            return
        if n.flow and (deleted or inserts):
            self.edit(n.start, n.end, self._flow_rebuild(n, old, new))
            return
        if len(deleted) == len(old) and not pairs:
            self.replace(n, new, ctx, old)
            return
        for i, j in pairs:
            self.reconcile(n.items[i], old[i], new[j], ("item", n))
        for i in deleted:
            self._remove_item(n, i, deleted)
        for at, values in inserts:
            self._insert_items(n, at, values)

    # -- flow collections -------------------------------------------------------------------------------------
    def _flow_rebuild(self, n: Node, old: Any, new: Any) -> str:
        """A flow collection written again, reusing the text of the entries that do not change."""
        opening = self.text.find("{" if n.kind == "map" else "[", n.start)
        prefix = self.text[n.start:opening] if opening >= 0 else ""
        if n.kind == "map":
            local = self._local(n)
            parts = []
            for k, v in new.items():
                if k in local and k in old:
                    _, kn, vn = local[k]
                    if same(old[k], v):
                        parts.append(self.text[kn.start:self.end(vn)])
                    else:
                        parts.append(f"{self.text[kn.start:kn.end]}: {self._flow_value(vn, old[k], v)}")
                else:
                    parts.append(f"{scalar_text(k)}: {flow_text(v)}")
            return prefix + "{" + ", ".join(parts) + "}"
        ops = difflib.SequenceMatcher(a=[_canon(x) for x in old], b=[_canon(x) for x in new],
                                      autojunk=False).get_opcodes()
        items: list[str] = []
        for tag, i1, i2, j1, j2 in ops:
            if tag == "equal":
                items.extend(self.text[it.start:self.end(it)] for it in n.items[i1:i2])
            elif tag == "replace" and i2 - i1 == j2 - j1:
                items.extend(self._flow_value(n.items[i1 + k], old[i1 + k], new[j1 + k]) for k in range(i2 - i1))
            else:
                items.extend(flow_text(v) for v in new[j1:j2])
        return prefix + "[" + ", ".join(items) + "]"

    def _flow_value(self, n: Node, old: Any, new: Any) -> str:
        if n.kind == "scalar" and not isinstance(new, dict | list):
            return scalar_text(new, n.style)
        if n.kind in ("map", "seq") and n.flow and type(old) is type(new) and isinstance(new, dict | list):
            return self._flow_rebuild(n, old, new)
        return flow_text(new)

    # -- block collections ----------------------------------------------------------------------------------
    def _entry_span(self, key: Node, value: Node) -> tuple[int, int]:
        first = self.line_start(key.start)
        col = self.col(key.start)
        return self.leading(first, col), self.trailing(self.eol(self.end(value)), col)

    def _trim_blank(self, start: int, end: int, first: bool, col: int) -> tuple[int, int]:
        """One blank line fewer around a removed block, so that no double gap (or gap at the top) is left."""
        prev = self._prev_line_start(start)
        after = self._line(end) if end < len(self.text) else ""
        dedent = end >= len(self.text) or (after.strip() != "" and _indent(after) < col)
        if self._blank(prev) and (self._blank(end) or dedent) and prev is not None:
            return prev, end
        if first and self._blank(end) and not self._blank(prev):
            return start, self.eol(end)
        return start, end

    def _remove_entries(self, n: Node, removed: list[int]) -> None:
        done: set[int] = set()
        for i in removed:
            if i in done:
                continue
            key, value = n.entries[i]
            if self.text[self.line_start(key.start):key.start].strip():
                # The first key of a list item shares the dash's line: the next key kept moves up onto it.
                nxt = next((j for j in range(i + 1, len(n.entries)) if j not in removed), None)
                if nxt is None:
                    raise ConfigError("cannot remove every key of a list item in place; edit the file by hand",
                                      file=self.shown)
                self.edit(key.start, n.entries[nxt][0].start, "")
                done.update(range(i, nxt))
                continue
            start, end = self._entry_span(key, value)
            first = all(j in removed for j in range(i))
            self.edit(*self._trim_blank(start, end, first, self.col(key.start)), "")

    def _add_entries(self, n: Node, added: dict[str, Any]) -> None:
        col = self.col(n.entries[0][0].start)
        lines: list[str] = []
        for k, v in added.items():
            lines.extend(self.layout.entry(k, v, col))
        if len(n.entries) > 1:
            last_key = n.entries[-1][0]
            above = self._prev_line_start(self.leading(self.line_start(last_key.start), col))
            if self._blank(above):
                lines.insert(0, "")  # the mapping's entries are spaced out: so is the new one
        self.insert_lines(self.eol(self.end(n)), lines)

    def _dash(self, item: Node) -> int:
        dash = self.text.rfind("-", 0, item.start)
        if dash < 0 or self.text[dash + 1:item.start].strip():
            raise ConfigError("cannot locate a list item's dash; edit the file by hand", file=self.shown)
        return dash

    def _flow_items(self, n: Node) -> bool:
        return any(it.kind == "map" and it.flow for it in n.items)

    def _remove_item(self, n: Node, i: int, removed: Sequence[int]) -> None:
        item = n.items[i]
        dash = self._dash(item)
        col = self.col(dash)
        start = self.leading(self.line_start(dash), col)
        end = self.trailing(self.eol(self.end(item)), col)
        first = i == 0 or all(j in removed for j in range(i))
        self.edit(*self._trim_blank(start, end, first, col), "")

    def _insert_items(self, n: Node, at: int, values: list[Any]) -> None:
        col = self.col(self._dash(n.items[0]))
        lines: list[str] = []
        for v in values:
            lines.extend(self.layout.item(v, col, self._flow_items(n)))
        if at < len(n.items):
            dash = self._dash(n.items[at])
            pos = self.leading(self.line_start(dash), col)
        else:
            pos = self.trailing(self.eol(self.end(n)), col)
        self.insert_lines(pos, lines)

    # -- replacing a node whole ------------------------------------------------------------------------
    def first(self, n: Node) -> int:
        """Where a block collection's content starts (after any anchor or tag left on its key's line)."""
        if n.kind == "map" and not n.flow and n.entries:
            return n.entries[0][0].start
        if n.kind == "seq" and not n.flow and n.items:
            return self._dash(n.items[0])
        return n.start

    def _block_collection(self, n: Node) -> bool:
        return n.kind in ("map", "seq") and not n.flow and bool(n.entries or n.items)

    def replace(self, n: Node, new: Any, ctx: tuple[Any, ...], old: Any = MISSING) -> None:
        end = self.end(n)
        style = n.style if n.kind == "scalar" else None
        if ctx[0] == "root":
            self.edit(n.start, end, flow_text(new))
            return
        if n.in_flow:
            self.edit(n.start, end, self._flow_value(n, old, new))
            return
        if isinstance(new, str) and (_literal_ok(new) or (style in ("|", ">") and _literal_able(new))):
            self._replace_block(n, new, ctx, end)
            return
        if not isinstance(new, dict | list):
            self._replace_inline(n, scalar_text(new, style), ctx, end)
            return
        if n.flow and old is not MISSING and type(old) is type(new) and new:
            text = self._flow_rebuild(n, old, new)
            if len(text) <= FLOW_WIDTH + 40:
                self.edit(n.start, n.end, text)
                return
        one = self.layout.inline(new, ctx[0] == "item" and self._flow_items(ctx[1]))
        if one is not None:
            self._replace_inline(n, one, ctx, end)
        else:
            self._replace_block(n, new, ctx, end)

    def _body_indent(self, n: Node, default: int) -> int:
        """The indentation of a block scalar's text, kept when its text is replaced."""
        if n.kind == "scalar" and n.style in ("|", ">"):
            for line in self.text[self.eol(n.start):n.end].splitlines():
                if line.strip():
                    return _indent(line)
        return default

    def _key_colon(self, key: Node) -> int:
        colon = _colon_after(self.text, key.end)
        if colon is None:
            raise ConfigError("cannot locate a key's colon; edit the file by hand", file=self.shown)
        return colon

    def _replace_inline(self, n: Node, one: str, ctx: tuple[Any, ...], end: int) -> None:
        if self._block_collection(n) and ctx[0] == "value":
            # The value moves up onto its key's line (before any comment there); the lines that held it go.
            colon = self._key_colon(ctx[1])
            self.edit(colon, colon, f" {one}")
            self.edit(self.line_start(self.first(n)), self.eol(end), "")
            return
        pad = " " if n.start > 0 and self.text[n.start - 1] == ":" else ""
        self.edit(n.start, end, pad + one)

    def _replace_block(self, n: Node, new: Any, ctx: tuple[Any, ...], end: int) -> None:
        if ctx[0] == "value":
            key_col = self.col(ctx[1].start)
            if isinstance(new, str):
                indicator, body = _literal(new, self._body_indent(n, key_col + self.layout.step), n.style)
                if self._block_collection(n):
                    colon = self._key_colon(ctx[1])
                    self.edit(colon, colon, f" {indicator}")
                    self.edit(self.line_start(self.first(n)), self.eol(end), "".join(f"{b}\n" for b in body))
                else:
                    pad = " " if self.text[n.start - 1] == ":" else ""
                    self.edit(n.start, end, pad + indicator)
                    self.insert_lines(self.eol(end), body)
                return
            if self._block_collection(n) and (n.kind == "map") == isinstance(new, dict):
                indent = self.col(self.first(n))
            else:
                indent = key_col + (self.layout.step if isinstance(new, dict) else self.layout.seq_offset)
            lines = self.layout.block(new, indent)
            if self._block_collection(n):
                self.edit(self.line_start(self.first(n)), self.eol(end), "".join(f"{line}\n" for line in lines))
            else:
                start = n.start - 1 if n.start > 0 and self.text[n.start - 1] == " " else n.start
                self.edit(start, end, "")
                self.insert_lines(self.eol(end), lines)
            return
        # A sequence item: its first line goes on the dash's line, after the dash.
        col = self.col(self._dash(n)) + 2
        if isinstance(new, str):
            indicator, body = _literal(new, self._body_indent(n, col), n.style)
            self.edit(n.start, end, indicator)
            self.insert_lines(self.eol(end), body)
            return
        lines = self.layout.block(new, col)
        head = lines[0][col:]
        if self._block_collection(n):
            self.edit(n.start, end, self.nl.join([head, *lines[1:]]))
        else:
            self.edit(n.start, end, head)
            self.insert_lines(self.eol(end), lines[1:])

    def add_root_entries(self, data: dict[str, Any], added: dict[str, Any]) -> None:
        if self.root is None or self.root.kind != "map":
            raise ConfigError("cannot edit: the file's top level is not a mapping", file=self.shown)
        if self.root.flow or not self.root.entries:
            self.edit(self.root.start, self.root.end, self._flow_rebuild(self.root, data, {**data, **added}))
        else:
            self._add_entries(self.root, added)


# -- edits at a path ----------------------------------------------------------------------------------------


def _step(editor: Editor, node: Node | None, data: Any, key: str, where: Sequence[str]) -> tuple[Node, Node] | None:
    shown = ".".join(where) or "the top level"
    if node is None or node.kind != "map" or not isinstance(data, dict):
        raise ConfigError(f"cannot edit '{'.'.join([*where, key])}': {shown} is not a mapping", file=editor.shown)
    local = editor._local(node)
    return (local[key][1], local[key][2]) if key in local else None


def _nest(path: Sequence[str], value: Any) -> Any:
    for key in reversed(path):
        value = {key: value}
    return value


def _unshared(data: Any) -> Any:
    """A deep copy where aliased nodes become separate objects (deepcopy would keep them shared)."""
    if isinstance(data, dict):
        return {k: _unshared(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_unshared(v) for v in data]
    return data


def _set_in(data: Any, path: Sequence[str], value: Any) -> Any:
    out = _unshared(data)
    target = out
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value
    return out


def _check(text: str, shown: str, expected: Any) -> str:
    try:
        got = parse_yaml(text, shown)
    except ConfigError as e:
        raise ConfigError(f"cannot make this edit in place (it would give invalid YAML: {e.message}); edit the file "
                          "by hand", file=shown) from None
    if not same(got, expected):
        raise ConfigError("cannot make this edit in place without changing other values (they share it through a "
                          "YAML anchor, alias or merge key); edit the file by hand", file=shown)
    return text


def set_value(text: str, shown: str, path: Sequence[str], value: Any) -> str:
    """`text` with the value at `path` (keys from the top) replaced by `value`, missing mappings created."""
    value = plain(value, ".".join(path))
    editor = Editor(text, shown)
    data = parse_yaml(text, shown) if editor.root is not None else None
    if editor.root is None:
        return _check(editor.text + flow_text(_nest(path, value)) + "\n", shown, _nest(path, value))
    node: Node = editor.root
    current: Any = data
    ctx: tuple[Any, ...] = ("root",)
    for i, key in enumerate(path):
        if node.kind == "alias":
            # Inside an alias: the alias becomes an explicit copy holding the change.
            editor.replace(node, _set_in(current, path[i:], value), ctx, current)
            break
        found = _step(editor, node, current, key, path[:i])
        if found is None:
            if node is editor.root:
                editor.add_root_entries(current, {key: _nest(path[i + 1:], value)})
            else:
                editor.reconcile(node, current, {**current, key: _nest(path[i + 1:], value)}, ctx)
            break
        key_node, child = found
        ctx = ("value", key_node, node)
        node, current = child, current[key]
    else:
        editor.reconcile(node, current, value, ctx)
    return _check(editor.result(), shown, _set_in(data, path, value))


def remove_value(text: str, shown: str, path: Sequence[str]) -> str:
    """`text` without the key at `path` (and the comment lines that describe it)."""
    editor = Editor(text, shown)
    data = parse_yaml(text, shown)
    parent_path, key = path[:-1], path[-1]
    parent: Any = data
    node: Node | None = editor.root
    ctx: tuple[Any, ...] = ("root",)
    for i, step in enumerate(parent_path):
        found = _step(editor, node, parent, step, parent_path[:i])
        if found is None:
            raise ConfigError(f"nothing to remove: no '{'.'.join(path[:i + 1])}'", file=shown)
        ctx = ("value", found[0], node)
        node, parent = found[1], parent[step]
    if node is None or (_step(editor, node, parent, key, parent_path) is None and key not in parent):
        raise ConfigError(f"nothing to remove: no '{'.'.join(path)}'", file=shown)
    new_parent = {k: v for k, v in parent.items() if k != key}
    editor.reconcile(node, parent, new_parent, ctx)
    expected = _unshared(data)
    target = expected
    for step in parent_path:
        target = target[step]
    del target[key]
    return _check(editor.result(), shown, expected)
