"""`import`: write the project file of a project that exists in DSS, and record it in the state.

The project is read through the resource kinds, so what is written is exactly what they compare: a
plan right after an import is empty. For a project the workspace declares already, import adds to its
file what DSS holds there that dss-iac does not manage (the objects `plan` and `drift` list as not
managed), editing the file in place (comments kept).
"""

from __future__ import annotations

import copy
import os
import re
from collections import ChainMap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config.edit import FileEdit, problems
from .config.envref import has_ref
from .config.files import DISK
from .dss.connect import read_with_retry
from .errors import ConfigError, DSSApiError
from .resources import KINDS, Address, Remote, passthrough, registry
from .resources._shapes import Unwritable
from .resources.address import INSTANCE
from .resources.base import ImportContext, Kind
from .secrets import is_secret_key

if TYPE_CHECKING:
    from .config.loader import ProjectSource, WorkspaceConfig
    from .config.models import Environment
    from .plan.model import Unmanaged
    from .workspace import Workspace

_NAME = re.compile(r"^[A-Za-z0-9_]+$")


@dataclass(frozen=True)
class SecretRef:
    """A secret found in DSS, written to the project file as `${env:NAME}` instead of its value."""

    name: str  # the environment variable to set
    where: str  # what it is: `dataset.CHURN.raw params.password`
    shown: bool  # False when DSS handed it back encrypted: the value is not known here


@dataclass(frozen=True)
class ImportResult:
    project_file: Path
    code_files: tuple[Path, ...]
    resources: tuple[str, ...]
    skipped: tuple[str, ...]  # objects not managed: left out of the file, with the reason
    added: bool = False  # objects added to the file of a project declared already, not a new file
    secrets: tuple[SecretRef, ...] = ()  # the environment variables to set before the next plan
    passthrough: tuple[str, ...] = ()  # addresses kept as their DSS document (the `passthrough:` section)
    # Why an object the model has a typed form for was kept as its document all the same (its typed form names
    # what the workspace does not hold): address -> the problem.
    reasons: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """What `dss-iac import --json` prints: which object went which way (never a secret's value)."""
        return {"project_file": str(self.project_file), "added": self.added,
                "code_files": [str(p) for p in self.code_files],
                "typed": [a for a in self.resources if a not in self.passthrough],
                "passthrough": list(self.passthrough), "reasons": dict(self.reasons),
                "not_managed": list(self.skipped),
                "secrets": [{"name": r.name, "where": r.where, "shown": r.shown} for r in self.secrets]}


def import_project(ws: Workspace, env: str, key: str, file: Path | None = None) -> ImportResult:
    """Write a new project file for DSS project `key`; or, when the workspace declares that project (by its key
    in the files or in this environment), add to its file the objects dss-iac does not manage yet."""
    declared = declared_project(ws.config, ws.environment(env), key)
    if declared is not None:
        if file is not None:
            raise ConfigError(f"project {key} is already declared in {declared.file.shown}: import adds what it "
                              "lacks to that file; leave out --file")
        return _import_into(ws, env, declared)
    target = file or ws.root / "projects" / f"{key.lower()}.yaml"
    if target.suffix not in (".yaml", ".yml"):
        raise ConfigError(f"{target}: import writes YAML; name a .yaml file")
    if target.exists():
        raise ConfigError(f"{target} already exists: refusing to overwrite it", file=str(target))
    if not any(target.resolve().match(str((ws.root / g).resolve())) for g in ws.config.spec.projects):
        raise ConfigError(f"{target} is not matched by the project globs of dss-iac.yaml "
                          f"({', '.join(ws.config.spec.projects)}); choose a file they match")
    conn = ws.connection(env)
    remotes, skipped = read_with_retry(conn, lambda: _read_project(conn.client, key))  # reads: may retry
    logical = _logical_names(dict(ws.environment(env).remap.connections))
    shown = DISK.shown(target, ws.root)

    def edits(doc: dict[str, Any], placed: list[tuple[str, ...]], code: dict[Path, str]) -> list[FileEdit]:
        return [FileEdit(target, shown, None, _dump(doc)), *_code_edits(code)]

    settled = _settle(ws, key, remotes, lambda: ImportContext(key, logical, _code_dir(target, key), target.parent),
                      edits)
    doc, kept, code, refs = settled.doc, settled.kept, settled.code, settled.refs
    skipped += kept.not_managed
    for path in code:
        if path.exists():
            raise ConfigError(f"{path} already exists: refusing to overwrite it", file=str(path))
    written: list[Path] = []
    try:
        for path, text in [*code.items(), (target, _dump(doc))]:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(path)
        recorded = _record(ws, env, key, remotes, _with_values(refs))
    except ConfigError as e:  # what DSS holds does not fit the configuration: keep no file of it
        for path in written:
            path.unlink(missing_ok=True)
        raise ConfigError(f"project {key} cannot be imported as it is in DSS, so no file was kept: "
                          f"{e.render().splitlines()[0]}") from None
    return ImportResult(target, tuple(code), recorded, tuple(skipped), secrets=tuple(r for r, _ in refs),
                        passthrough=kept.documents(recorded), reasons=kept.reasons(recorded))


def declared_project(config: WorkspaceConfig, environment: Environment, key: str) -> ProjectSource | None:
    """The project file of DSS project `key`, named by its key in the files or in this environment."""
    from .config.environment_view import physical_key

    return next((s for k, s in config.projects.items() if key in (k, physical_key(environment, k))), None)


def unmanaged_hint(config: WorkspaceConfig, env: str, environment: Environment, obj: Unmanaged) -> str:
    """How to bring an object dss-iac does not manage under management: the import command when it can."""
    source = declared_project(config, environment, obj.project)
    if not _NAME.match(obj.name):
        return f"'{obj.name}' is not a valid config key (letters, digits, underscores): rename it in DSS to import it"
    if source is None:
        return ""
    if obj.name in getattr(source.spec, str(KINDS[obj.kind].collection)):
        return (f"{source.file.shown} declares another {obj.label}: rename or delete this one in DSS "
                "(or the declared one) to import it")
    if source.file.path.suffix == ".py":
        return f"declare it in {source.file.shown} (a Python project file, which import cannot edit)"
    return f"dss-iac import -e {env} --project {obj.project}"


def _import_into(ws: Workspace, env: str, source: ProjectSource) -> ImportResult:
    """Add the objects DSS holds in a declared project and dss-iac does not manage to its file, and record them."""
    from .config.edit import disk_text, save
    from .config.environment_view import physical_key
    from .config.yamledit import set_value

    key, physical = source.key, physical_key(ws.environment(env), source.key)
    if source.file.path.suffix == ".py":
        raise ConfigError(f"project {key} is declared in a Python project file, which import cannot edit: declare "
                          "the objects `dss-iac plan` lists as not managed in its code", file=source.file.shown)
    plan = ws.plan(env, targets=[f"project.{physical}"])
    client = ws.connection(env).client
    remotes: dict[Address, Remote] = {}
    skipped: list[str] = []
    for u in plan.unmanaged:
        if u.import_command is None:
            skipped.append(f"{u.label}: {u.hint}")
        elif (remote := KINDS[u.kind].read(client, Address(u.kind, u.project, u.name), u.remote_id)) is not None:
            remotes[Address(u.kind, u.project, u.name)] = remote
    path = source.file.path
    if not remotes:
        return ImportResult(path, (), (), tuple(skipped), added=True)
    logical = _logical_names(dict(ws.environment(env).remap.connections))
    before = disk_text(source.file)

    def edits(objects: dict[str, Any], placed: list[tuple[str, ...]], code: dict[Path, str]) -> list[FileEdit]:
        text = before
        for where in placed:
            entry: Any = objects
            for step in where:
                entry = entry[step]
            text = set_value(text, source.file.shown, where, entry)
        return [FileEdit(path, source.file.shown, source.file.text, text), *_code_edits(code)]

    settled = _settle(ws, key, remotes, lambda: ImportContext(key, logical, _code_dir(path, key), path.parent),
                      edits)
    kept, code, refs = settled.kept, settled.code, settled.refs
    skipped += kept.not_managed
    for code_path in code:
        if code_path.exists():
            raise ConfigError(f"{code_path} already exists: refusing to overwrite it", file=str(code_path))
    written: list[Path] = []
    try:
        for code_path, body in code.items():
            code_path.parent.mkdir(parents=True, exist_ok=True)
            code_path.write_text(body, encoding="utf-8")
            written.append(code_path)
        ws.config = save(ws.config, settled.edits[0])
    except ConfigError as e:  # the file with them would not be valid: keep it as it was, and no code file
        for code_path in written:
            code_path.unlink(missing_ok=True)
        raise ConfigError(f"what DSS holds in project {key} cannot be added to {source.file.shown} as it is, so "
                          f"nothing was written; in the file as import would write it: {e.render().splitlines()[0]}"
                          ) from None
    recorded = _record(ws, env, physical, remotes, _with_values(refs))
    return ImportResult(path, tuple(code), recorded, tuple(skipped), added=True, secrets=tuple(r for r, _ in refs),
                        passthrough=kept.documents(recorded), reasons=kept.reasons(recorded))


def _code_dir(project_file: Path, key: str) -> Path:
    """Where imported recipe code goes: `recipes/<key>/` beside a `projects/` folder, else beside the file."""
    if project_file.parent.name == "projects":
        return project_file.parent.parent / "recipes" / key.lower()
    return project_file.parent / f"{key.lower()}_recipes"


def _read_project(client: Any, key: str) -> tuple[dict[Address, Remote], list[str]]:
    from dataikuapi.utils import DataikuException

    project = client.get_project(key)
    remotes: dict[Address, Remote] = {}
    skipped: list[str] = []
    try:
        project.get_summary()
    except DataikuException as e:
        raise DSSApiError(f"cannot import {key}: {e}") from None
    found: list[tuple[Address, str | None]] = []
    for kind in registry.project_kinds():
        if not kind.listed:
            found.append((Address(kind.name, key), None))
            continue
        for name, remote_id in kind.list_in(project):
            if not _NAME.match(name):
                skipped.append(f"{kind.name.replace('_', ' ')} '{name}': its name is not a valid config key "
                               "(letters, digits, underscores)")
                continue
            found.append((Address(kind.name, key, name), remote_id))
    for address, listed_id in found:
        remote = KINDS[address.kind].read(client, address, listed_id)
        if remote is not None:
            remotes[address] = remote
    return remotes, skipped


def _logical_names(remap: Mapping[str, str]) -> dict[str, str]:
    """physical -> logical. Where several logical names map to one physical connection, the first in
    alphabetical order: any of them gives the same connection in this environment (the one the import
    reads), and the file must name one that is mapped, not the physical name."""
    seen: dict[str, list[str]] = {}
    for logical, physical in remap.items():
        seen.setdefault(physical, []).append(logical)
    return {physical: sorted(names)[0] for physical, names in seen.items()}


@dataclass
class _Kept:
    """How import keeps the objects whose typed form the model does not cover."""

    passthrough: list[Address]  # as their DSS document
    not_managed: list[str]  # left out, with the reason
    why: dict[Address, str] = field(default_factory=dict)  # kept as documents though typed: the problem
    # Write-only secrets of typed entries whose value DSS's document shows, by their place in the file.
    secrets: dict[tuple[str | int, ...], str] = field(default_factory=dict)

    def documents(self, recorded: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted(str(a) for a in self.passthrough if str(a) in recorded))

    def reasons(self, recorded: tuple[str, ...]) -> dict[str, str]:
        return {str(a): why for a, why in sorted(self.why.items(), key=lambda x: str(x[0])) if str(a) in recorded}


@dataclass(frozen=True)
class _Refused:
    """An object whose typed form (or, `left_out`, whose document too) would not validate in the workspace."""

    left_out: bool
    reason: str


@dataclass(frozen=True)
class _Settled:
    """A project's objects as import writes them, once the workspace validates with them."""

    doc: dict[str, Any]
    kept: _Kept
    code: dict[Path, str]
    refs: list[tuple[SecretRef, str]]
    edits: list[FileEdit]


def _settle(ws: Workspace, key: str, remotes: dict[Address, Remote], context: Callable[[], ImportContext],
            edits_of: Callable[[dict[str, Any], list[tuple[str, ...]], dict[Path, str]], list[FileEdit]]) -> _Settled:
    """Write `remotes` (objects of project `key`, its key in the files) as `edits_of` places them, validating the
    whole workspace with them: an object the problems point into is written again as its DSS document (a scenario
    step building a dataset the project does not have, a recipe reading a project the workspace does not
    declare: a document names what it likes), or, when that does not validate either or its kind has no
    document, left out as not managed; a project-level section that does not validate is left out (DSS's is
    then left alone). Refused only when a problem belongs to no object import writes."""
    from .workspace import check_environments

    refused: dict[Address, _Refused] = {}
    while True:
        ctx = context()
        doc, placed, kept = _project_doc(remotes, ctx, refused)
        refs = _secrets_as_refs(key, doc, kept.secrets)  # in place: the entries carry `${env:...}` for their secrets
        edits = edits_of(doc, placed, dict(ctx.code))
        found = problems(ws.config, *edits, check=check_environments)  # as each environment resolves it too
        if not found:
            return _Settled(doc, kept, dict(ctx.code), refs, edits)
        blamed: dict[Address, _Refused] = {}
        for problem in found:
            address = _owner(problem.loc, remotes, set(kept.passthrough))
            now = refused.get(address) if address is not None else None
            if address is None or (now is not None and now.left_out):  # not an object import writes
                raise ConfigError(f"project {key} cannot be imported as it is in DSS, so nothing was written: "
                                  f"{problem.render().splitlines()[0]}") from None
            kind = KINDS[address.kind]
            # A typed object goes to its document; a document, or a kind without one, is left out.
            left_out = now is not None or address in kept.passthrough or not kind.writes_documents
            blamed.setdefault(address, _Refused(left_out, problem.message))
        refused.update(blamed)


def _owner(loc: tuple[str | int, ...] | None, remotes: dict[Address, Remote],
           documents: set[Address]) -> Address | None:
    """The object of `remotes` whose entry in a project file `loc` points into (None: none of them)."""
    if not loc:
        return None
    path = tuple(str(s) for s in loc)
    if path[0] == passthrough.SECTION and len(path) > 2:
        kind = registry.by_collection(path[1])
        found = [a for a in documents if kind is not None and a.kind == kind.name and a.name == path[2]]
        return found[0] if found else None
    kind = registry.by_collection(path[0])
    if kind is not None and len(path) > 1:
        return next((a for a in remotes if a.kind == kind.name and a.name == path[1] and a not in documents), None)
    # A project-level section: the kind whose place is the longest prefix of `loc` (`project` itself is not one
    # import can leave out).
    levels = [k for k in registry.project_kinds() if k.project_level and k.name != "project"
              and path[:len(k.config_path(None))] == k.config_path(None)]
    if not levels:
        return None
    level = max(levels, key=lambda k: len(k.config_path(None)))
    return next((a for a in remotes if a.kind == level.name), None)


def _code_edits(code: dict[Path, str]) -> list[FileEdit]:
    return [FileEdit(path, str(path), None, text) for path, text in code.items()]


def _objects_doc(remotes: dict[Address, Remote], ctx: ImportContext, kept: _Kept,
                 refused: Mapping[Address, _Refused]) -> list[tuple[tuple[str, ...], Any]]:
    """Each object of `remotes` as its kind writes it in a project file, with where it goes there (in the order of
    the kinds, then by name); the code files they need land in `ctx.code`. An object whose typed form the kind's
    model does not cover is written as its DSS document (the `passthrough:` section), or, when its kind cannot
    write an object back from its document, left out as not managed (`kept` says which)."""
    out: list[tuple[tuple[str, ...], Any]] = []
    for kind in registry.project_kinds():
        for a, r in sorted(((a, r) for a, r in remotes.items() if a.kind == kind.name), key=lambda x: str(x[0].name)):
            placed = _entry(kind, a, r, ctx, kept, refused.get(a))
            if placed is not None:
                out.append(placed)
    return out


def _entry(kind: Kind, a: Address, r: Remote, ctx: ImportContext, kept: _Kept,
           refused: _Refused | None) -> tuple[tuple[str, ...], Any] | None:
    label = kind.name.replace("_", " ")
    if refused is not None and refused.left_out:
        kept.not_managed.append(f"{label} '{a.name}': {refused.reason}" if a.name is not None else
                                f"{label} of project {ctx.project_key}: {refused.reason} (DSS's are left alone)")
        return None
    code = dict(ctx.code)
    entry, typed = None, False
    if refused is None:
        try:
            entry = kind.config_entry(a.name, r.fields, ctx)
            typed = entry is None or kind.project_level or kind.covers(_as_written(kind.config_path(a.name), entry))
        except (KeyError, TypeError, ValueError, AttributeError, Unwritable):  # a shape the typed form cannot say
            entry, typed = None, False
    else:
        kept.why[a] = refused.reason
    if typed:
        if entry is None:
            return None
        kept.secrets |= {(*kind.config_path(a.name), *where): v for where, v in kind.shown_secrets(a.name, r).items()}
        return kind.config_path(a.name), entry
    ctx.code.clear()
    ctx.code.update(code)  # the typed form's code files are not written
    document = kind.document(r) if kind.writes_documents else None
    if document is None:
        kept.not_managed.append(f"{label} '{a.name}': the configuration has no form for it, "
                                f"and {label} objects cannot be kept as DSS documents")
        return None
    kept.passthrough.append(a)
    return passthrough.place(kind, str(a.name)), document


def _as_written(path: tuple[str, ...], entry: Any) -> Any:
    """A typed entry (at `path` in a project file) as import writes it: its secrets turned into `${env:}`
    references (a model refuses a literal secret, and DSS gives none back anyway)."""
    doc: dict[str, Any] = {}
    node = doc
    for step in path[:-1]:
        node = node.setdefault(step, {})
    node[path[-1]] = copy.deepcopy(entry)
    _secrets_as_refs("PROBE", doc)
    for step in path[:-1]:
        doc = doc[step]
    return doc[path[-1]]


def _project_doc(remotes: dict[Address, Remote], ctx: ImportContext, refused: Mapping[Address, _Refused]
                 ) -> tuple[dict[str, Any], list[tuple[str, ...]], _Kept]:
    """The objects of `remotes` as a project file's document, where each sits in it, and what was not typed."""
    doc: dict[str, Any] = {}
    kept = _Kept([], [])
    # The `passthrough:` section last: the typed configuration reads first.
    placed = sorted(_objects_doc(remotes, ctx, kept, refused), key=lambda p: p[0][0] == passthrough.SECTION)
    for path, entry in placed:
        node = doc
        for step in path[:-1]:
            node = node.setdefault(step, {})
        node[path[-1]] = entry
    return doc, [path for path, _ in placed], kept


def _secrets_as_refs(key: str, doc: dict[str, Any],
                     shown: Mapping[tuple[str | int, ...], str] | None = None) -> list[tuple[SecretRef, str]]:
    """Replace, in place, every secret of `doc` (a value under a key DSS keeps secret, anywhere: params, variables,
    metadata) by a `${env:NAME}` reference; return each reference with the value it replaces (from `shown`, by
    place, for a secret read as write-only whose value DSS's document holds)."""
    known = shown or {}
    found: list[tuple[SecretRef, str]] = []
    taken: set[str] = set()

    def name_for(path: tuple[str | int, ...]) -> str:
        base = re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9]", "_", "_".join(map(str, (key, *path))))).strip("_").upper()
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name)
        return name

    def where(path: tuple[str | int, ...]) -> str:
        if path[0] == passthrough.SECTION:  # passthrough.<collection>.<name>...: where in the object's document
            path = path[1:]
        kind = registry.by_collection(str(path[0]))
        if kind is not None and len(path) > 2:
            address, rest = f"{kind.name}.{key}.{path[1]}", path[2:]
        else:  # in the `project:` section: the project-level kind whose place is the longest prefix of `path`
            level = max((k for k in KINDS.values() if k.project_level and path[:len(k.config_path(None))]
                         == k.config_path(None)), key=lambda k: len(k.config_path(None)))
            address, rest = f"{level.name}.{key}", path[len(level.config_path(None)):]
        return f"{address} {'.'.join(map(str, rest))}"

    def walk(node: Any, path: tuple[str | int, ...], secret: bool) -> Any:
        if isinstance(node, dict):
            flagged = node.get("secret") is True
            return {k: walk(v, (*path, k), secret or is_secret_key(str(k)) or (flagged and k == "value"))
                    for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, (*path, i), secret) for i, v in enumerate(node)]
        # An empty secret hides nothing (and DSS keeps a secret it blanked when sent back blank): left as it is.
        if secret and isinstance(node, str) and node and not has_ref(node):
            value = known.get(path, node)
            ref = SecretRef(name_for(path), where(path), not value.startswith("e:AES:"))
            found.append((ref, value if ref.shown else ""))
            return f"${{env:{ref.name}}}"
        return node

    doc.update(walk(doc, (), False))
    return found


def _with_values(refs: list[tuple[SecretRef, str]]) -> Mapping[str, str]:
    """The process environment, with the variables of `refs` set to the values DSS holds (to record the state)."""
    return ChainMap({ref.name: value for ref, value in refs}, os.environ)


def _dump(doc: dict[str, Any]) -> str:
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.default_flow_style = False
    yaml.width = 110
    out = StringIO()
    out.write("# Imported from DSS by `dss-iac import`; edit freely: this file is now the source of truth.\n")
    yaml.dump(doc, out)
    return out.getvalue()


def _record(ws: Workspace, env: str, key: str | None, remotes: dict[Address, Remote],
            environ: Mapping[str, str]) -> tuple[str, ...]:
    """Record what was imported, as the config now describes it (its `${env:...}` read from `environ`), so that
    the next plan is empty."""
    from .config.loader import load_workspace
    from .plan.refresh import version_held
    from .resources import build_desired
    from .state.lease import whoami
    from .state.model import ResourceState

    config = load_workspace(ws.root)
    # The objects of project `key`; with None, those of the instance (`import --instance`).
    project = INSTANCE if key is None else key
    desired = {a: d for a, d in build_desired(config, ws.env_context(env, environ)).items() if a.project == project}
    with ws.locked_state(env, "import") as (store, state, _):
        sealer = state.sealer()
        for address, d in desired.items():
            remote = remotes.get(address)
            if remote is None:
                continue
            fields = sealer.scrub(dict(d.fields))
            # Its version, so that plans need not read it again while DSS keeps it (when DSS holds what is recorded).
            version = version_held(KINDS[address.kind], remote, d.fields, fields, sealer)
            state.resources[str(address)] = ResourceState(address.kind, remote.remote_id, fields,
                                                          [str(x) for x in d.depends_on], version)
        state.stamp(whoami())
        store.commit(state, "import")
    return tuple(sorted(str(a) for a in desired if a in remotes))
