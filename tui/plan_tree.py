"""The plan's tree: its nodes are made once per plan; a filter shows some of them, without making new ones.

A plan of 25,000 changes makes 27,000 nodes: making them again on every filter keystroke took up to 1.7 s (the
garbage collector scanning the new objects among the plan's). Here a filter only chooses which of the nodes
each group shows, and the lines of the tree are laid out again from lines kept per node.

Textual (8.2.8, pinned exactly: the SVG snapshots depend on it) keeps a node's children in `_children` and lays
the tree out in `_build`; this module relies on both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.widgets._tree import TreeNode, _TreeLine
from textual.widgets.tree import TreeDataType

from .widgets import NavTree


class PlanTree(NavTree):
    """The plan's tree: space is include / exclude (not Tree's fold), shown in the footer with enter."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "screen.toggle_target", "Include/exclude", id="toggle"),
        Binding("enter", "select_cursor", "Detail", id="open-detail"),
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Per node id, made once: its line (as the last of its siblings shown, or not) and its label's width.
        self._node_lines: dict[tuple[int, bool], _TreeLine[Any]] = {}
        self._label_widths: dict[int, tuple[int, int]] = {}
        # Per group of leaves (a kind), the lines of the leaves it showed last, while it shows the same list.
        self._blocks: dict[int, tuple[list[TreeNode[Any]], list[_TreeLine[Any]], int]] = {}

    def clear(self) -> PlanTree:
        self._node_lines.clear()
        self._label_widths.clear()
        self._blocks.clear()
        super().clear()
        return self

    def process_label(self, label: str | Text) -> Text:
        # A one-line Text is its own first line: Tree would copy it (twice per node added).
        if isinstance(label, Text) and "\n" not in label.plain:
            return label
        return super().process_label(label)

    def add_nodes(self, parent: TreeNode[Any], items: Sequence[tuple[Text, Any]], *, expand: bool,
                  leaves: bool) -> list[TreeNode[Any]]:
        """Nodes added under `parent`, in order (what `add` / `add_leaf` do, without their per-node checks)."""
        made = []
        for label, data in items:
            node = self._add_node(parent, label, data, expand)
            node._allow_expand = not leaves
            made.append(node)
        parent._children.extend(made)
        parent._updates += 1
        self._invalidate()
        return made

    def show_children(self, parent: TreeNode[Any], children: list[TreeNode[Any]]) -> None:
        """Show these of `parent`'s nodes under it, in this order; the others are kept, hidden. Call `relaid`
        once all groups are set. Leaves' labels must not change until `clear`: their lines are reused while
        their group shows the very same list."""
        parent._children = children

    def relabel(self, node: TreeNode[Any], label: Text, data: Any) -> None:
        node._label = label
        node.data = data
        node._updates += 1

    def relaid(self) -> None:
        """Lay the tree out again (after `show_children` and `relabel`)."""
        self._invalidate()

    def _build(self) -> None:
        """Textual's `_build`, with each node's line and label width kept instead of made again, and the lines of
        a group of leaves reused while it shows the same ones."""
        lines: list[_TreeLine[Any]] = []
        kept, widths, blocks, measure = self._node_lines, self._label_widths, self._blocks, self.get_label_width
        depth = self.guide_depth  # reactive attributes: read once, not per line
        widest = 0

        def line_of(path: list[TreeNode[Any]], node: TreeNode[Any], last: bool, indent: int) -> _TreeLine[Any]:
            nonlocal widest
            line = kept.get((node._id, last))
            if line is None:
                line = kept[node._id, last] = _TreeLine([*path, node], last)
            known = widths.get(node._id)
            if known is None or known[0] != node._updates:
                known = widths[node._id] = (node._updates, measure(node))
            widest = max(widest, known[1] + indent)  # what _TreeLine._get_guide_width adds: depth per level
            return line

        def add(path: list[TreeNode[Any]], node: TreeNode[Any], last: bool, indent: int) -> None:
            nonlocal widest
            line = line_of(path, node, last, indent)
            lines.append(line)
            children = node._children
            if not node._expanded or not children:
                return
            end = len(children) - 1
            if children[0]._allow_expand:
                for i, child in enumerate(children):
                    add(line.path, child, i == end, indent + depth)
                return
            block = blocks.get(node._id)
            if block is None or block[0] is not children:
                before = widest
                widest = 0
                block = (children, [line_of(line.path, child, i == end, indent + depth)
                                    for i, child in enumerate(children)], widest)
                blocks[node._id] = block
                widest = max(before, widest)
            lines.extend(block[1])
            widest = max(widest, block[2])

        for node in [self.root] if self.show_root else self.root._children:
            add([], node, True, 0)
        for i, line in enumerate(lines):
            line.path[-1]._line = i
        cursor = self.cursor_node
        shown = cursor is not None and cursor._line < len(lines) and lines[cursor._line].path[-1] is cursor
        self._tree_lines_cached = lines
        self.virtual_size = Size(widest if lines else self.size.width, len(lines))
        if self.cursor_line != -1:
            if cursor is not None:
                # Its node hidden now (its line is another's, from an earlier layout): the first line.
                self.cursor_line = cursor._line if shown else (0 if lines else -1)
            if self.cursor_line >= len(lines):
                self.cursor_line = -1

    def get_label_width(self, node: TreeNode[TreeDataType]) -> int:
        # What `render_label` draws, a one-line label after its icon, measured without drawing it.
        icon = (self.ICON_NODE_EXPANDED if node.is_expanded else self.ICON_NODE) if node._allow_expand else ""
        return cell_len(icon) + node._label.cell_len
