"""Adopting drift: which YAML keys take the values found in DSS (`Workspace.adopt`).

Each kind says which of its managed fields are their YAML key as they are (`Kind.adoptable`) and how the others are
written back (`Kind.reshaped`).

The edits themselves are the core's (`Workspace.update_resource` for a resource's keys in its project file,
`Workspace.update_setting` for a standard variable that the environment overrides in dss-iac.yaml): only
the edited nodes change, the workspace is validated first, and a file changed on disk is refused.
"""

from __future__ import annotations

import copy
import fnmatch
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config.edit import current
from .config.files import DISK
from .config.loader import ProjectSource, WorkspaceConfig
from .config.models import Environment
from .errors import DssIacError
from .plan.diff import FieldChange
from .resources import KINDS, passthrough
from .resources._shapes import Unwritable
from .resources.address import Address
from .resources.base import CONNECTION, Kind
from .secrets import MASK


class AdoptError(DssIacError):
    """The value cannot be written back to the YAML (the message says what to do instead)."""


@dataclass(frozen=True)
class Edit:
    """One value to write: into resource `address` (its keys `keys`), or with `address` None into the
    workspace file itself at `keys`. `new` None removes the key."""

    file: Path
    shown: str
    address: str | None
    keys: tuple[str, ...]
    new: Any
    # `file` is a code or Markdown file the entry names, and `new` its whole new text (`old` its text as loaded),
    # for the managed field `keys` of `address` (a recipe's `code`, a wiki article's `body`).
    old: str | None = None

    @property
    def whole_file(self) -> bool:
        return self.old is not None

    def describe(self) -> str:
        from .plan.render_text import fmt

        if self.whole_file:
            lines = len(str(self.new).splitlines())
            return f"{self.shown}: the whole file, as DSS has {self.address}: {'.'.join(self.keys)} ({lines} line(s))"
        where = ".".join(self.keys) if self.address is None else f"{self.address}: {'.'.join(self.keys)}"
        return f"{self.shown}: {where} = {fmt(self.new) if self.new is not None else '(removed)'}"


def resource_changes(edits: Sequence[Edit]) -> dict[str, dict[str, Any]]:
    """Resource edits as `update_resource` takes them: address -> nested mapping of keys to new values."""
    out: dict[str, dict[str, Any]] = {}
    for e in edits:
        if e.address is None or e.whole_file:
            continue
        node = out.setdefault(e.address, {})
        for k in e.keys[:-1]:
            node = node.setdefault(k, {})
        node[e.keys[-1]] = e.new
    return out


def file_changes(edits: Sequence[Edit]) -> dict[Path, tuple[str, str]]:
    """Whole-file edits as `update_many` takes them: file -> (its text as loaded, its new text)."""
    return {e.file: (str(e.old), str(e.new)) for e in edits if e.whole_file}


def plan_adopt(config: WorkspaceConfig, env_name: str, env: Environment, address: str,
               changes: Sequence[FieldChange]) -> list[Edit]:
    """The YAML edits that make the configuration say what DSS has, for the drifted fields of `address`: in its
    project file, or in the instance file of `env_name` for an instance object."""
    parsed = Address.of(address)  # `user["jane.doe@corp.com"]` is one name, dots and all
    kind, physical, name = parsed.kind, parsed.project, parsed.name
    if parsed.in_instance:  # a connection, group, user...: the environment's instance file
        from .instance_adopt import plan_instance_adopt  # it builds on this module's Edit: imported when used

        return plan_instance_adopt(config, env_name, address, changes)
    source = next((s for s in config.projects.values() if env.project_key.format(key=s.key) == physical), None)
    if source is None:
        raise AdoptError(f"no project file declares project {physical}")
    if source.file.path.suffix == ".py":
        raise AdoptError(f"project {source.key} is written in Python ({source.file.shown}): change it there")
    edits: list[Edit] = []

    def logical(what: str, physical: Any) -> Any:  # a name DSS holds -> the file's, undoing env's remap
        return _logical(what.replace("_", " "), env_name, _remap_of(env, what), physical)

    lists: dict[tuple[str, str], list[Any]] = {}  # item-by-item fields adopted: the file's list, edited
    entries: dict[tuple[str, str], list[tuple[list[str], Any]]] = {}  # entry-by-entry: (root, key) -> DSS's values
    for c in changes:
        if c.sensitive or _has_mask(c.after):
            raise AdoptError(f"{c.path} is sensitive: its value is never shown or copied; set it in the "
                             "configuration by hand")
        root, *sub = c.path.split(".")
        _check_override(env_name, env, kind, source.key, name, root, sub)
        value = c.after
        target = f"{kind}.{source.key}" if name is None else f"{kind}.{source.key}.{name}"
        text_file = _text_file(config.root, source, KINDS[kind], name, c)
        if text_file is not None:
            edits.append(text_file)
            continue
        keys: tuple[str, ...] = (root, *sub)
        kind_of = KINDS[kind]
        if kind == "variables":
            if root not in ("standard", "local") or not sub:
                raise AdoptError(f"{target}: {c.path} cannot be adopted: variables are adopted one by one "
                                 f"(standard.NAME, local.NAME); edit {source.file.shown} by hand")
            if root == "standard" and sub[0] in env.variables and len(sub) == 1:
                # The environment overrides this variable: the value lives in dss-iac.yaml.
                edits.append(Edit(config.file.path, config.file.shown, None,
                                  ("environments", env_name, "variables", sub[0]), value))
                continue
        elif root == passthrough.SECTION:  # a passthrough object: the keys of its document, as DSS holds them
            if not sub:
                raise AdoptError(f"{target}: its document is not a mapping in DSS; edit {source.file.shown} by hand")
            keys = tuple(sub)
        elif root in kind_of.adoptable:
            if root in kind_of.remapped:
                what = kind_of.remapped[root]
                value = _logical(what.replace("_", " "), env_name, _remap_of(env, what), value)
            # Project keys as the files write them: the environment's `project_key` undone for the workspace's.
            entry = {root: value}
            kind_of.renamed_projects(entry, _key_in_files(config, env))
            value = entry[root]
        elif root in kind_of.itemwise and sub:  # one key of one item (`steps.1.sql`), or one whole item
            first = (target, root) not in lists
            if first:
                declared = current(config, target)
                lists[(target, root)] = copy.deepcopy(list((declared or {}).get(root) or []))
            try:
                value = kind_of.adopt_item(root, sub, c.after, c.before, logical)
                set_item(lists[(target, root)], sub, value)
            except Unwritable as e:
                raise AdoptError(f"{target}: {e}") from None
            if not first:
                continue  # the list's edit, made for its first change, holds this one too
            value, keys = lists[(target, root)], (root,)
        elif root in kind_of.entrywise and sub:  # one entry of an open map, written whole once all are seen
            entries.setdefault((root, sub[0]), []).append((sub[1:], c.after))
            continue
        elif root in kind_of.reshaped and len(sub) == (0 if kind_of.keyed_by is None else 1):
            declared = current(config, target)
            if kind_of.keyed_by is not None:  # a list of entries, one per `sub[0]` (permissions: one per group)
                keys = (sub[0],)
                declared = next((e for e in declared or [] if isinstance(e, dict)
                                 and e.get(kind_of.keyed_by) == sub[0]), None)
            else:
                declared = declared.get(root) if isinstance(declared, dict) else None
            try:
                value = kind_of.reshape(root, c.after, c.before, declared, source.spec)
            except Unwritable as e:
                raise AdoptError(f"{target}: {e}") from None
        else:
            why = kind_of.unadoptable.get(root, "dss-iac has no way to write it back")
            raise AdoptError(f"{target}: {c.path} cannot be adopted: {why}; edit {source.file.shown} by hand")
        edits.append(Edit(source.file.path, source.file.shown, target, keys, value))
    if entries:
        edits += _entry_edits(config, source, KINDS[kind], target, entries)
    return edits


def _entry_edits(config: WorkspaceConfig, source: ProjectSource, kind: Kind, target: str,
                 entries: Mapping[tuple[str, str], list[tuple[list[str], Any]]]) -> list[Edit]:
    """The edits of `entrywise` fields: each entry DSS changed, written whole in the kind's YAML form."""
    declared = current(config, target)
    out = []
    for (root, key), found in entries.items():
        section = declared.get(root) if isinstance(declared, Mapping) else None
        entry = section.get(key) if isinstance(section, Mapping) else None
        try:
            value = kind.adopt_entry(root, key, entry, found)
        except Unwritable as e:
            raise AdoptError(f"{target}: {e}") from None
        out.append(Edit(source.file.path, source.file.shown, target, (root, key), _replacing(entry, value)))
    return out


def _replacing(old: Any, new: Any) -> Any:
    """`new` as an edit that replaces `old` whole: the keys of `old` it lacks set to None (edits merge mappings)."""
    if not isinstance(old, Mapping) or not isinstance(new, Mapping):
        return new
    return {**{k: None for k in old if k not in new}, **{k: _replacing(old.get(k), v) for k, v in new.items()}}


def _text_file(root: Path, source: ProjectSource, kind: Kind, name: str | None, change: FieldChange) -> Edit | None:
    """Adopting a managed field that is the text of a file the entry names (a code recipe's code, a Python scenario's
    script, a Python step's or trigger's code, a wiki article's Markdown): DSS's text written into that file."""
    entry = getattr(source.spec, str(kind.collection), {}).get(name) if kind.collection and name else None
    if entry is None or not isinstance(change.after, str) or not isinstance(change.before, str):
        return None
    rel = next((f.path for f in kind.files(str(name), entry) if f.field == change.path and f.refused is None), None)
    if rel is None:
        return None
    path = DISK.resolve(source.file.path.parent / str(rel))
    return Edit(path, DISK.shown(path, root), f"{kind.name}.{source.key}.{name}", tuple(change.path.split(".")),
                change.after, old=change.before)


def _key_in_files(config: WorkspaceConfig, env: Environment) -> Callable[[str], str]:
    """A DSS project key -> the key the workspace's files give it (keys of other projects are left as they are)."""
    back = {env.project_key.format(key=k): k for k in config.projects}
    return lambda key: back.get(key, key)


def set_item(items: list[Any], sub: Sequence[str], value: Any) -> None:
    """Set `value` at `sub` (an index, then keys) in a list of YAML items; None removes the key (or the item)."""
    i = int(sub[0])
    if len(sub) == 1:
        if value is None:
            del items[i:]  # an item gone from DSS: the items after it read as moved up, so this is the last
        elif i < len(items):
            items[i] = value
        else:
            items.append(value)
        return
    node = items[i]
    for k in sub[1:-1]:
        node = node.setdefault(k, {})
    if value is None:
        node.pop(sub[-1], None)
    else:
        node[sub[-1]] = value


def set_path(doc: dict[str, Any], path: str, value: Any) -> None:
    """Set a dotted path in nested dicts (and lists of items, by index: `steps.1.sql`); None removes the key (how
    a FieldChange says "absent")."""
    root, *sub = path.split(".")
    if sub and isinstance(doc.get(root), list) and sub[0].isdigit():
        set_item(doc[root], sub, value)
        return
    *parents, last = path.split(".")
    node = doc
    for p in parents:
        nxt = node.get(p)
        if not isinstance(nxt, dict):
            nxt = {}
            node[p] = nxt
        node = nxt
    if value is None:
        node.pop(last, None)
    else:
        node[last] = value


def _has_mask(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_mask(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_mask(v) for v in value)
    return value == MASK


def _check_override(env_name: str, env: Environment, kind: str, key: str, name: str | None, root: str,
                    sub: list[str]) -> None:
    target = f"{kind}.{key}" if name is None else f"{kind}.{key}.{name}"
    for pattern, change in env.overrides.items():
        if not fnmatch.fnmatchcase(target, pattern) or root not in change:
            continue
        inner = change[root]
        if not sub or not isinstance(inner, Mapping) or sub[0] in inner:
            raise AdoptError(f"{kind} field {root} is set for environment {env_name} by its override '{pattern}' "
                             "in dss-iac.yaml: change it there")


def _remap_of(env: Environment, what: str) -> Mapping[str, str]:
    return env.remap.connections if what == CONNECTION else env.remap.code_envs


def _logical(what: str, env_name: str, mapping: Mapping[str, str], physical: Any) -> Any:
    if not mapping or physical is None:
        return physical
    logical = sorted(k for k, v in mapping.items() if v == physical)
    if len(logical) != 1:
        why = "no logical name maps to it" if not logical else f"several logical names map to it ({', '.join(logical)})"
        raise AdoptError(f"{what} {physical} cannot be written back: in environment {env_name} {why}")
    return logical[0]
