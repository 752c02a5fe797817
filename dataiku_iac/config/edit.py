"""Changing one resource in its YAML project file: `Workspace.update_resource`, `.create_resource` and
`.remove_resource` are built on this module.

An edit is made to the file's text in memory (`yamledit`: only the nodes whose values change are
rewritten), the whole workspace is validated with the edited text, and only then is the file written,
atomically. A file that changed on disk since the workspace was loaded is refused: writing over it would
lose someone's edits.
"""

from __future__ import annotations

import copy
import fnmatch
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from .._fs import write_together
from ..errors import ConfigError, ConfigErrors
from ..resources import passthrough, registry
from ..resources.address import Address
from .files import DISK, FileSource
from .loader import EDIT_JOURNAL, ProjectSource, SourceFile, WorkspaceConfig, load_files
from .yamledit import Layout, plain, remove_value, set_value
from .yamlio import parse_yaml


@dataclass(frozen=True)
class FileEdit:
    """One file's new text, not yet written: `before` is its text as loaded (None for a new file), `after`
    None deletes the file."""

    path: Path
    shown: str
    before: str | None
    after: str | None


def resource_path(address: Address, data: Any = None) -> tuple[str, ...]:
    """Where a resource's configuration sits in its project file (`data`, parsed): in its kind's place, or in the
    `passthrough:` section when the file keeps it there as its DSS document."""
    kind = registry.get(address.kind)
    if kind.collection is not None and address.name is not None and _find(data, passthrough.place(
            kind, address.name)) is not None and _find(data, kind.config_path(address.name)) is None:
        return passthrough.place(kind, address.name)
    return kind.config_path(address.name)


def _find(data: Any, path: Sequence[str]) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def merge(current: Any, changes: Mapping[str, Any]) -> dict[str, Any]:
    """`current` with `changes` merged in: nested mappings merge key by key, None removes a key, anything
    else (lists included) replaces the value."""
    out = copy.deepcopy(current) if isinstance(current, dict) else {}
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping):
            out[key] = merge(out.get(key), value)
        else:
            out[key] = plain(value, key)
    return out


def changes_between(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The `changes` that turn `old` into `new` under `merge` (None for each key that goes)."""
    out: dict[str, Any] = {key: None for key in old if key not in new}
    for key, value in new.items():
        before = old.get(key)
        if isinstance(value, Mapping) and isinstance(before, Mapping):
            inner = changes_between(before, value)
            if inner:
                out[key] = inner
        elif key not in old or before != value or type(before) is not type(value):
            out[key] = value
    return out


def _universal(text: str) -> str:
    """Text as Python's text mode reads it (what the loader kept): every line break a \\n."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _project(config: WorkspaceConfig, key: str) -> ProjectSource:
    if key not in config.projects:
        known = ", ".join(sorted(config.projects)) or "none"
        raise ConfigError(f"no project {key} in this workspace (projects: {known})")
    return config.projects[key]


READ_ONLY_PYTHON = ("is a Python project file: its resources are built by code, so edit the code itself; only "
                    "YAML project files can be edited here")


def read_only(config: WorkspaceConfig, key: str) -> str | None:
    """Why project `key` cannot be edited in place (its file is Python code), or None when it can."""
    source = _project(config, key)
    return f"{source.file.shown} {READ_ONLY_PYTHON}" if source.file.path.suffix == ".py" else None


def _source(config: WorkspaceConfig, address: Address) -> ProjectSource:
    source = _project(config, address.project)
    if source.file.path.suffix == ".py":
        raise ConfigError(READ_ONLY_PYTHON, file=source.file.shown)
    return source


def disk_text(file: SourceFile) -> str:
    """The file's text on disk, line breaks as they are; refused when it is not what was loaded."""
    try:
        raw = file.path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError("was deleted since the workspace was loaded: nothing was written; load the workspace "
                          "again", file=file.shown) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read file: {e}", file=file.shown) from None
    if _universal(raw) != file.text:
        raise ConfigError("changed on disk since the workspace was loaded: nothing was written, so no edit is "
                          "lost; load the workspace again and redo the change", file=file.shown)
    return raw


def current(config: WorkspaceConfig, address: Address | str) -> Any:
    """A resource's configuration as its file says it (no defaults added), or None when it is not declared."""
    address = Address.of(address)
    source = _source(config, address)
    return _at(parse_yaml(source.file.text, source.file.shown), address)


def declared(config: WorkspaceConfig, address: Address | str) -> Any:
    """Like `current`, for any project file: a Python one gives what its code built (the keys it set)."""
    address = Address.of(address)
    source = _project(config, address.project)
    if source.file.path.suffix != ".py":
        return current(config, address)
    return _at(source.spec.model_dump(mode="json", by_alias=True, exclude_unset=True), address)


def _at(data: Any, address: Address) -> Any:
    return copy.deepcopy(_find(data, resource_path(address, data)))


def _path_in(source: ProjectSource, address: Address) -> tuple[str, ...]:
    return resource_path(address, parse_yaml(source.file.text, source.file.shown))


def _what(address: Address) -> str:
    return f"{address.kind.replace('_', ' ')} {address}"


def update(config: WorkspaceConfig, address: Address | str, changes: Mapping[str, Any] | list[Any]) -> FileEdit:
    """The edit that changes an existing resource: `changes` maps its keys to new values (nested mappings
    merge, None removes a key). Permissions take a list (all groups), or a mapping of group name to the flags
    to change (None removes the group's entry)."""
    address = Address.of(address)
    source = _source(config, address)
    before = current(config, address)
    if before is None:
        raise ConfigError(f"{_what(address)} is not declared in {source.file.shown}; create it with "
                          "create_resource")
    keyed_by = registry.get(address.kind).keyed_by
    if keyed_by is not None:
        after: Any = _entries(address.kind, keyed_by, before, changes)
    else:
        if not isinstance(changes, Mapping):
            raise ConfigError(f"changes to {address} must be a mapping of keys to new values")
        after = merge(before, changes)
        if address.kind == "project" and after.get("key") != before.get("key"):
            raise ConfigError(f"the key of project {address.project} cannot change (it is the project's identity "
                              "in DSS); create a new project instead")
    return _edit(source, _path_in(source, address), after)


def _entries(kind: str, key: str, before: Any, changes: Mapping[str, Any] | list[Any]) -> list[Any]:
    """A list of entries keyed by `key` (permissions by group), changed by a whole new list, or by a mapping of
    key values to the keys to change in their entry (None removes the entry)."""
    if isinstance(changes, list | tuple):
        return plain(list(changes), kind)
    if not isinstance(changes, Mapping):
        raise ConfigError(f"changes to {kind} must be a list of entries, or a mapping of {key} name to flags")
    entries = [dict(e) if isinstance(e, dict) else e for e in (before or [])]
    for value, flags in changes.items():
        index = next((i for i, e in enumerate(entries) if isinstance(e, dict) and e.get(key) == value), None)
        if flags is None:
            if index is not None:
                entries.pop(index)
        elif not isinstance(flags, Mapping):
            raise ConfigError(f"{kind} of {key} {value}: expected a mapping of flags to true/false")
        elif index is None:
            entries.append(merge({key: value}, flags))
        else:
            entries[index] = merge(entries[index], flags)
    return entries


def create(config: WorkspaceConfig, address: Address | str, value: Mapping[str, Any] | list[Any]) -> FileEdit:
    """The edit that declares a new resource (a new project gets a file of its own)."""
    address = Address.of(address)
    if address.kind == "project":
        return _new_project(config, address, value)
    source = _source(config, address)
    if current(config, address) is not None:
        raise ConfigError(f"{_what(address)} is already declared in {source.file.shown}; change it with "
                          "update_resource")
    if registry.get(address.kind).keyed_by is None and not isinstance(value, Mapping):
        raise ConfigError(f"the configuration of {address} must be a mapping of keys to values")
    return _edit(source, resource_path(address), plain(value if isinstance(value, list) else dict(value)))


def remove(config: WorkspaceConfig, address: Address | str) -> FileEdit:
    """The edit that takes a resource out of its file, with the comment lines just above it; a project is
    removed with its whole file (the next plan then destroys it where it was applied)."""
    address = Address.of(address)
    source = _source(config, address)
    if address.kind == "project":
        disk_text(source.file)  # refused if it changed since loading: its edits would be lost with it
        return FileEdit(source.file.path, source.file.shown, source.file.text, None)
    if current(config, address) is None:
        raise ConfigError(f"{_what(address)} is not declared in {source.file.shown}: nothing to remove")
    raw = disk_text(source.file)
    after = remove_value(raw, source.file.shown, _path_in(source, address))
    return FileEdit(source.file.path, source.file.shown, source.file.text, after)


def update_setting(config: WorkspaceConfig, keys: Sequence[str], value: Any) -> FileEdit:
    """The edit that sets a key of the workspace file itself (for example `environments.prod.variables.x`);
    None removes it. Settings are not resources, but the same in-place editing and checks apply."""
    if not keys:
        raise ConfigError("no key to set in the workspace file", file=config.file.shown)
    raw = disk_text(config.file)
    if value is not None:
        after = set_value(raw, config.file.shown, tuple(keys), value)
    else:
        data: Any = parse_yaml(config.file.text, config.file.shown)
        for key in keys:
            if not isinstance(data, dict) or key not in data:
                return FileEdit(config.file.path, config.file.shown, config.file.text, raw)  # nothing to remove
            data = data[key]
        after = remove_value(raw, config.file.shown, tuple(keys))
    return FileEdit(config.file.path, config.file.shown, config.file.text, after)


def instance_file(config: WorkspaceConfig, env: str) -> SourceFile:
    """The instance file environment `env` names (its connections, groups, users...), as loaded."""
    if env not in config.spec.environments:
        raise ConfigError(f"no environment {env} in {config.file.shown} "
                          f"(environments: {', '.join(config.spec.environments) or 'none'})")
    path = config.spec.environments[env].instance
    if path is None or path not in config.instances:
        raise ConfigError(f"environment {env} names no instance file: add `instance: instance/{env}.yaml` to it in "
                          f"{config.file.shown}, or run `dss-iac import -e {env} --instance`")
    return config.instances[path].file


def instance_declared(config: WorkspaceConfig, env: str, address: Address | str) -> Any:
    """An instance object as the environment's instance file says it (no defaults added), or None."""
    address = Address.of(address)
    file = instance_file(config, env)
    return copy.deepcopy(_find(parse_yaml(file.text, file.shown), _instance_path(address)))


def instance_objects(config: WorkspaceConfig, env: str) -> dict[str, Any]:
    """Every object the instance file of `env` declares, by address (`connection.pg_prod`), as the file says it;
    empty when the environment names no instance file."""
    if env in config.spec.environments and config.spec.environments[env].instance is None:
        return {}
    file = instance_file(config, env)
    data = parse_yaml(file.text, file.shown)
    out: dict[str, Any] = {}
    for kind in registry.instance_kinds():
        section = data.get(kind.section) if isinstance(data, dict) else None
        if kind.single:
            if section is not None:
                out[str(Address.instance(kind.name, kind.single))] = copy.deepcopy(section)
        elif isinstance(section, dict):
            out.update((str(Address.instance(kind.name, name)), copy.deepcopy(v)) for name, v in section.items())
    return out


def instance_updates(config: WorkspaceConfig, env: str, changes: Mapping[Address, Mapping[str, Any] | None],
                     created: Mapping[Address, Mapping[str, Any]] | None = None) -> FileEdit:
    """One edit of the environment's instance file: each object's keys changed as `update` changes a resource's
    (nested mappings merge, None removes a key; None for the whole object removes it), and the `created` objects
    declared. Only the changed nodes of
    the file are rewritten, so its comments stay."""
    file = instance_file(config, env)
    raw = disk_text(file)
    for address, change in changes.items():
        before = instance_declared(config, env, address)
        if before is None:
            raise ConfigError(f"{_what(address)} is not declared in {file.shown}; create it instead")
        if change is None:  # the object taken out of the file, with the comment lines just above it
            raw = remove_value(raw, file.shown, _instance_path(address))
        else:
            raw = set_value(raw, file.shown, _instance_path(address), merge(before, change))
    for address, value in (created or {}).items():
        if instance_declared(config, env, address) is not None:
            raise ConfigError(f"{_what(address)} is already declared in {file.shown}; change it instead")
        raw = set_value(raw, file.shown, _instance_path(address), plain(dict(value), str(address)))
    return FileEdit(file.path, file.shown, file.text, raw)


def _instance_path(address: Address) -> tuple[str, ...]:
    if not address.in_instance:
        raise ConfigError(f"{address} is not an instance object (a connection, code env, group, user or the "
                          "instance variables)")
    return registry.get(address.kind).config_path(address.name)


def edits_of(config: WorkspaceConfig, env: str | None, resources: Mapping[str, Any] | None = None,
             created: Mapping[str, Any] | None = None) -> list[FileEdit]:
    """The file edits for changes to resources (`update`'s changes by address) and new ones (`create`'s value by
    address): a project resource's in its project file, an instance object's in the instance file of `env`
    (all of them one edit of that file)."""
    out: list[FileEdit] = []
    changed: dict[Address, Any] = {}
    new: dict[Address, Any] = {}
    for given, target, make in ((resources, changed, update), (created, new, create)):
        for a, value in (given or {}).items():
            address = Address.of(a)
            if address.in_instance:
                target[address] = value
            else:
                out.append(make(config, address, value))
    if changed or new:
        if env is None:
            raise ConfigError(f"{next(iter([*changed, *new]))} is an instance object: name the environment whose "
                              "instance file declares it")
        out.append(instance_updates(config, env, changed, new))
    return out


def _edit(source: ProjectSource, path: tuple[str, ...], value: Any) -> FileEdit:
    raw = disk_text(source.file)
    return FileEdit(source.file.path, source.file.shown, source.file.text,
                    set_value(raw, source.file.shown, path, value))


def _new_project(config: WorkspaceConfig, address: Address, value: Mapping[str, Any] | list[Any]) -> FileEdit:
    if address.project in config.projects:
        raise ConfigError(f"project {address.project} is already declared in "
                          f"{config.projects[address.project].file.shown}")
    if not isinstance(value, Mapping):
        raise ConfigError(f"the configuration of {address} must be a mapping of keys to values")
    data = plain(dict(value), "project")
    if data.setdefault("key", address.project) != address.project:
        raise ConfigError(f"the configuration's key {data['key']!r} is not the address's {address.project}")
    data = {"key": address.project, **{k: v for k, v in data.items() if k != "key"}}
    path = _new_file_path(config, address.project)
    shown = DISK.shown(path, config.root)
    text = "\n".join(Layout().block({"project": data}, 0)) + "\n"
    return FileEdit(path, shown, None, text)


def _new_file_path(config: WorkspaceConfig, key: str) -> Path:
    """A file for a new project, from the first YAML glob whose file name has one `*` and no other wildcard."""
    for pattern in config.spec.projects:
        pure = PurePosixPath(pattern)
        if pure.suffix not in (".yaml", ".yml") or any(c in str(pure.parent) for c in "*?["):
            continue
        if pure.name.count("*") != 1 or any(c in pure.name for c in "?["):
            continue
        path = config.root / pure.parent / pure.name.replace("*", key.lower())
        if path.exists():
            raise ConfigError(f"cannot create project {key}: {DISK.shown(path, config.root)} already exists")
        return path
    raise ConfigError(f"cannot choose a file for project {key}: no project glob of the form 'folder/*.yaml' in "
                      f"{config.file.shown}; create the file yourself")


class _Overlay:
    """The disk, with the edited files read from memory: the loader validates the workspace as it would be."""

    def __init__(self, root: Path, edits: Sequence[FileEdit]) -> None:
        self.root = root
        self.edits = edits
        self.texts = {e.path: _universal(e.after) for e in edits if e.after is not None}
        self.deleted = {e.path for e in edits if e.after is None}

    def read_text(self, path: Path) -> str:
        if path in self.deleted:
            raise FileNotFoundError(path)
        return self.texts[path] if path in self.texts else DISK.read_text(path)

    def glob(self, root: Path, pattern: str) -> list[Path]:
        found = [p for p in DISK.glob(root, pattern) if p not in self.deleted]
        for edit in self.edits:
            if edit.before is not None or edit.path in found:
                continue
            rel = edit.path.relative_to(root).as_posix()
            if fnmatch.fnmatchcase(rel, pattern) and ("**" in pattern or rel.count("/") == pattern.count("/")):
                found.append(edit.path)
        return found

    def resolve(self, path: Path) -> Path:
        return DISK.resolve(path)

    def name(self, path: Path, root: Path) -> str:
        return DISK.name(path, root)

    def shown(self, path: Path, root: Path) -> str:
        return DISK.shown(path, root)


def validate(config: WorkspaceConfig, *edits: FileEdit) -> WorkspaceConfig:
    """The workspace as it would be with the edits made, validated as a whole; nothing is written."""
    paths = [e.path for e in edits]
    if len(set(paths)) != len(paths):
        raise ConfigError("two edits of the same file cannot be made together: make them one after the other")
    for edit in edits:
        _check_disk(config, edit)
    overlay: FileSource = _Overlay(config.root, edits)
    new = load_files(config.root, overlay)
    for edit in edits:
        if edit.before is None and not any(p.file.path == edit.path for p in new.projects.values()):
            raise ConfigError("the new file would not be read: no project glob matches it", file=edit.shown)
    return new


def named_files(config: WorkspaceConfig) -> set[Path]:
    """The files the project files name (recipe and scenario code, wiki articles' Markdown), resolved."""
    from .loader import named_files as files_of

    out: set[Path] = set()
    for source in config.projects.values():
        folder = source.file.path.parent
        out |= {DISK.resolve(folder / f.path) for _, f in files_of(source.spec) if f.refused is None}
    return out


def file_text(config: WorkspaceConfig, path: Path, before: str, after: str) -> FileEdit:
    """A file a project file names given new text (`before`: its text as the workspace loaded it): written with
    the other edits of a `save`, and refused like them when it changed on disk since."""
    return FileEdit(DISK.resolve(path), DISK.shown(path, config.root), before, after)


def problems(config: WorkspaceConfig, *edits: FileEdit,
             check: Callable[[WorkspaceConfig], None] | None = None) -> list[ConfigError]:
    """Every problem of the workspace as it would be with the edits made (new files among them: a project file
    and the code files it names), each with where it is; none when it would be valid. Nothing is written. `check`
    may find more, as for `save`."""
    try:
        new = load_files(config.root, _Overlay(config.root, edits))
        if check is not None:
            check(new)
    except ConfigErrors as e:
        return list(e.errors)
    except ConfigError as e:
        return [e]
    return []


def _check_disk(config: WorkspaceConfig, edit: FileEdit) -> None:
    if edit.before is None:
        if edit.path.exists():
            raise ConfigError("appeared on disk since the edit was prepared: nothing was written", file=edit.shown)
        return
    files = [config.file, *(p.file for p in config.projects.values()), *(i.file for i in config.instances.values())]
    source = next((f for f in files if f.path == edit.path), None)
    if source is None and edit.path in named_files(config):  # a code or Markdown file: `before` is its text as loaded
        source = SourceFile(edit.path, edit.shown, edit.before)
    if source is None or source.text != edit.before:
        raise ConfigError("the edit was prepared against another version of the workspace: nothing was written",
                          file=edit.shown)
    disk_text(source)


def save(config: WorkspaceConfig, *edits: FileEdit,
         check: Callable[[WorkspaceConfig], None] | None = None) -> WorkspaceConfig:
    """Validate the workspace with all the edits, then write the files as one (a crash part-way is finished
    by the next load); the new configuration. Nothing is written unless every edit is valid and every file
    is as it was loaded. `check` may refuse the new configuration further (by raising ConfigError): the
    workspace checks what each environment resolves there, which this layer cannot."""
    new = validate(config, *edits)
    if check is not None:
        check(new)
    for edit in edits:
        _check_disk(config, edit)  # again, just before writing: the window for a lost edit stays tiny
    write_together(config.root / EDIT_JOURNAL,
                   {edit.path: None if edit.after is None else edit.after.encode("utf-8") for edit in edits})
    return new
