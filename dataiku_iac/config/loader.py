"""Loading a workspace: `dss-iac.yaml`, its project files and recipe code, validated as a whole."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from .._fs import RefusedFile, finish_interrupted_write
from .._gc import paused_gc
from ..errors import ConfigError, ConfigErrors, Position
from ..resources import registry
from ..resources.base import NamedFile
from . import envref
from .checks import check_projects
from .errors_map import to_config_errors
from .files import DISK, FileSource
from .models import Environment, WorkspaceFile
from .parse_cache import ParseCache
from .project_model import ProjectFile, project_file_model
from .yamlio import locate, parse_counted, parse_yaml

WORKSPACE_FILE = "dss-iac.yaml"
# Each file is held to its own limits (files.MAX_FILE_BYTES, yamlio.MAX_VALUES); so is the workspace as a
# whole, or a pull request of many files at their limits would exhaust the memory of the machine that reads it.
MAX_WORKSPACE_BYTES = 32 << 20
MAX_WORKSPACE_VALUES = 1_000_000
EDIT_JOURNAL = Path(".dss-iac") / "pending-edit.json"  # see config.edit.save


@dataclass(frozen=True)
class SourceFile:
    """A config file as read: kept so that later errors can point into it."""

    path: Path
    shown: str
    text: str

    def position(self, loc: Sequence[str | int], *, at_key: bool = False) -> Position:
        return locate(self.text, self.shown, loc, at_key=at_key)

    def error(self, message: str, loc: Sequence[str | int], *, at_key: bool = False) -> ConfigError:
        """An error at the value found along `loc`, or with `at_key` at its key (to name an object)."""
        return ConfigError(message, self.position(loc, at_key=at_key), loc=tuple(loc))


@dataclass(frozen=True)
class ProjectSource:
    """One validated project file, with the code of its recipes read from disk."""

    file: SourceFile
    spec: ProjectFile
    code: dict[str, str] = field(default_factory=dict)
    # As an environment sees it: the values its `${env:...}` references gave (see environment_view.view).
    sensitive: frozenset[str] = frozenset()

    @property
    def key(self) -> str:
        return self.spec.project.key

    def _repr_html_(self) -> str:
        """In a notebook cell: the project's flow, as its file declares it."""
        from html import escape

        from ..plan.flow import project_flow

        name, shown = escape(self.spec.project.name), escape(self.file.shown)
        return f"<p><b>{escape(self.key)}</b> ({name}), <code>{shown}</code></p>" + project_flow(self).svg()


@dataclass(frozen=True)
class InstanceSource:
    """One validated instance file (an environment's connections, code envs, groups, users, global variables)."""

    file: SourceFile
    spec: Any  # an InstanceFile (config/instance_model.py)
    # As an environment sees it: the values its `${env:...}` references gave.
    sensitive: frozenset[str] = frozenset()


@dataclass(frozen=True)
class WorkspaceConfig:
    root: Path
    file: SourceFile
    spec: WorkspaceFile
    raw: dict[str, Any]
    projects: dict[str, ProjectSource]
    digest: str
    revision: str = ""  # the Git commit it was read from (`--at`); "" for the working tree
    # Instance files by their path in the workspace (`instance/prod.yaml`), as environments name them.
    instances: dict[str, InstanceSource] = field(default_factory=dict)

    def instance_source(self, env_name: str, environ: Mapping[str, str] | None = None) -> InstanceSource | None:
        """The instance file of an environment, its `${env:...}` references resolved (None: it declares none)."""
        path = self.spec.environments[env_name].instance if env_name in self.spec.environments else None
        source = self.instances.get(path) if path else None
        if source is None or "${env:" not in source.file.text:
            return source
        data = resolve_refs(source.file, source.spec.model_dump(exclude_unset=True), (), environ,
                            f"the instance file of environment '{env_name}'")
        from .instance_model import instance_file_model

        return InstanceSource(source.file, instance_file_model().model_validate(data), envref.sensitive_values(data))

    def environment(self, name: str, environ: Mapping[str, str] | None = None) -> Environment:
        """An environment with its `${env:...}` references resolved from `environ` (default: the process's)."""
        return self.resolve_environment(name, environ)[0]

    def bundle_source(self, name: str) -> str | None:
        """The environment whose design node makes the bundles a `deploy: bundle` environment receives: the first
        `deploy: direct` one (where `apply` builds the projects, and the pipelines promote from). None for a direct
        environment, or a workspace without one."""
        envs = self.spec.environments
        if name not in envs or envs[name].deploy != "bundle":
            return None
        return next((n for n, e in envs.items() if e.deploy == "direct"), None)

    def resolve_environment(self, name: str,
                            environ: Mapping[str, str] | None = None) -> tuple[Environment, frozenset[str]]:
        """The environment, and the values its `${env:...}` references gave (sensitive wherever they land)."""
        if name not in self.spec.environments:
            known = ", ".join(sorted(self.spec.environments))
            raise ConfigError(f"unknown environment '{name}' (declared: {known})", file=self.file.shown)
        resolved = resolve_refs(self.file, self.raw["environments"][name], ("environments", name), environ,
                                f"environment '{name}'")
        values = envref.sensitive_values(resolved)
        try:
            return Environment.model_validate(resolved), values
        except ValidationError as e:
            errors = to_config_errors(e, Environment, self.file.text, self.file.shown)
            raise _many(errors) from None


def resolve_refs(file: SourceFile, value: Any, loc: tuple[str | int, ...], environ: Mapping[str, str] | None,
                 referenced_by: str) -> Any:
    """`value` (found at `loc` in `file`) with its `${env:...}` references resolved; a missing variable or a
    malformed reference is an error at its place in the file."""
    try:
        return envref.resolve(value, loc, environ)
    except envref.MissingEnvVar as e:
        raise file.error(f"environment variable {e.name} is not set (referenced by {referenced_by})", e.loc) from None
    except envref.MalformedRef as e:
        raise file.error("malformed reference: expected ${env:NAME} (a name of letters, digits and underscores, "
                         "then '}')", e.loc) from None


def _many(errors: list[ConfigError]) -> ConfigError:
    return errors[0] if len(errors) == 1 else ConfigErrors(errors)


def _read(path: Path, root: Path, files: FileSource = DISK) -> SourceFile:
    shown = files.shown(path, root)
    try:
        text = files.read_text(path)
    except UnicodeDecodeError as e:
        raise ConfigError(f"not UTF-8 text ({e.reason} at byte {e.start})", file=shown) from None
    except RefusedFile as e:
        raise ConfigError(f"cannot read file: it {e.strerror}", file=shown) from None
    except OSError as e:
        raise ConfigError(f"cannot read file: {e.strerror}", file=shown) from None
    return SourceFile(path, shown, text)


def outside(path: Path, root: Path, files: FileSource = DISK) -> str | None:
    """Why `path` is not a file of the workspace at `root` (None when it is one): it must stay inside the
    workspace once `..` and symbolic links are followed. A pull request must not be able to make dss-iac
    read, and print in a plan, a file of the machine that runs it."""
    try:
        real = files.resolve(path)
    except (OSError, ValueError) as e:  # a path with a NUL byte, a loop of symbolic links...
        return f"is not a usable path ({e})"
    if real.is_relative_to(files.resolve(root)):
        return None
    return f"is outside the workspace (it leads to {real})"


def _validate(model: type[BaseModel], source: SourceFile, data: Any) -> Any:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("expected a mapping of keys to values at the top of the file", Position(source.shown, 1, 1))
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise _many(to_config_errors(e, model, source.text, source.shown)) from None


def find_root(start: Path) -> Path:
    """The workspace root: `start` or the nearest parent holding dss-iac.yaml."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / WORKSPACE_FILE).is_file():
            return folder
    raise ConfigError(f"no {WORKSPACE_FILE} in {start} or its parents (create one with `dss-iac init`)")


def load_workspace(path: Path | str = ".") -> WorkspaceConfig:
    """Read and validate a whole workspace; every problem found is reported, each with its position.
    An edit of several files that a crash cut short is finished first."""
    return load_files(_settled_root(path), DISK)


def load_settings(path: Path | str = ".") -> WorkspaceConfig:
    """dss-iac.yaml alone, validated; no project or instance file read (`projects` and `instances` empty, no
    digest): the environments and where their states are kept, in milliseconds however big the workspace."""
    root = _settled_root(path)
    wfile, raw, spec = _workspace_file(root, DISK)
    return WorkspaceConfig(root, wfile, spec, raw if isinstance(raw, dict) else {}, {}, "")


def _settled_root(path: Path | str) -> Path:
    """The workspace root, an edit of several files that a crash cut short finished first."""
    root = find_root(Path(path))
    try:
        finish_interrupted_write(root / EDIT_JOURNAL, within=root)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ConfigError(f"an interrupted edit recorded in {EDIT_JOURNAL} could not be finished: {e}") from e
    return root


def same_on_disk(config: WorkspaceConfig) -> bool:
    """Whether loading the workspace again would read the very texts `config` was made from (dss-iac.yaml, the
    same project files, their recipe code), so give the same configuration and digest. Reads, parses nothing.
    A Python project file (what it builds can depend on more than its text) or an edit left pending counts as
    a change; so does a configuration read from Git (`--at`)."""
    root = config.root
    if config.revision or (root / EDIT_JOURNAL).exists():
        return False
    try:
        if DISK.read_text(config.file.path) != config.file.text:
            return False
        sources = {src.file.path: src for src in config.projects.values()}
        found, refused = _project_files(root, config.spec, config.file, DISK)
        if refused or set(found) != set(sources) or any(p.suffix == ".py" for p in found):
            return False
        for src in sources.values():
            if DISK.read_text(src.file.path) != src.file.text:
                return False
            for _, f in named_files(src.spec):
                if f.refused is not None:
                    continue
                code = src.file.path.parent / f.path
                # A link changed since to lead outside: load again to refuse it, without reading what it names.
                if outside(code, root) is not None or DISK.read_text(DISK.resolve(code)) != src.code.get(f.key):
                    return False
    except (OSError, UnicodeDecodeError, ConfigError):  # gone, unreadable, a glob now refused: load to say why
        return False
    return True


def read_workspace_file(root: Path) -> WorkspaceFile:
    """dss-iac.yaml alone, from the disk (its projects are not read)."""
    wfile = _read(root / WORKSPACE_FILE, root, DISK)
    spec: WorkspaceFile = _validate(WorkspaceFile, wfile, parse_yaml(wfile.text, wfile.shown))
    return spec


def load_files(root: Path, files: FileSource) -> WorkspaceConfig:
    """Load the workspace at `root`, its files read from `files` (the disk, or a Git revision). Project files read
    from the disk are parsed once per text (config/parse_cache.py)."""
    with paused_gc():
        return _load_files(root, files, ParseCache(root) if files is DISK else None)


def _load_files(root: Path, files: FileSource, cache: ParseCache | None) -> WorkspaceConfig:
    wfile, raw, spec = _workspace_file(root, files)

    ppaths, errors = _project_files(root, spec, wfile, files)
    projects: dict[str, ProjectSource] = {}
    first_file: dict[str, SourceFile] = {}
    digest = hashlib.sha256()
    digest.update(wfile.text.encode())
    budget = _Budget(len(wfile.text))
    yaml_bytes = 0
    for ppath in ppaths:
        try:
            source = _read(ppath, root, files)
            budget.spend(source, len(source.text), 0)
            if ppath.suffix == ".py":
                # Imported here: YAML-only workspaces never pay for running Python.
                from .python_source import load_python_project

                source, pspec = load_python_project(source)
            else:
                data, count = _parse_project(source, files.name(source.path, root), cache)
                yaml_bytes += len(source.text)
                budget.spend(source, 0, count)
                pspec = _validate(project_file_model(), source, data)
        except _OverBudget as e:
            errors.append(e)
            break
        except ConfigErrors as e:
            errors.extend(e.errors)
            continue
        except ConfigError as e:
            errors.append(e)
            continue
        # Named the same from the disk or a Git revision: the same files give the same digest.
        digest.update(f"\0{files.name(source.path, root)}\0{source.text}".encode())
        if ppath.suffix == ".py":
            # What a Python file builds can depend on more than its text (data files it reads): digest that too.
            digest.update(pspec.model_dump_json(by_alias=True, exclude_unset=True).encode())
        key = pspec.project.key
        if key in projects:
            errors.append(source.error(f"project {key} is already declared in {first_file[key].shown}",
                                       ("project", "key")))
            continue
        code, code_errors = _read_code(pspec, source, root, files)
        errors.extend(code_errors)
        try:
            budget.spend(source, sum(len(text) for text in code.values()), 0)
        except _OverBudget as e:
            errors.append(e)
            break
        for name in sorted(code):
            digest.update(f"\0{key}.{name}\0{code[name]}".encode())
        projects[key] = ProjectSource(source, pspec, code)
        first_file[key] = source
    errors.extend(check_projects(projects))
    instances: dict[str, InstanceSource] = {}
    for name, env in spec.environments.items():
        if env.instance is None or env.instance in instances:
            continue
        try:
            instances[env.instance] = _instance_file(root, env.instance, files, wfile, name)
        except ConfigErrors as e:
            errors.extend(e.errors)
            continue
        except ConfigError as e:
            errors.append(e)
            continue
        digest.update(f"\0{env.instance}\0{instances[env.instance].file.text}".encode())
    if cache is not None:
        cache.save(yaml_bytes)
    if errors:
        raise _many(errors)
    return WorkspaceConfig(root, wfile, spec, raw if isinstance(raw, dict) else {}, projects, digest.hexdigest(),
                           instances=instances)


def _parse_project(source: SourceFile, name: str, cache: ParseCache | None) -> tuple[Any, int]:
    """A project file's data and value count: from the cache when it holds this very text."""
    found = cache.get(name, source.text) if cache is not None else None
    if found is not None:
        return found
    data, count = parse_counted(source.text, source.shown)
    if cache is not None:
        cache.put(name, source.text, data, count)
    return data, count


def _workspace_file(root: Path, files: FileSource) -> tuple[SourceFile, Any, WorkspaceFile]:
    """dss-iac.yaml: its text, as parsed, as validated."""
    if (why := outside(root / WORKSPACE_FILE, root, files)) is not None:
        raise ConfigError(f"{WORKSPACE_FILE} {why}: it must be a file of the workspace folder", file=WORKSPACE_FILE)
    wfile = _read(root / WORKSPACE_FILE, root, files)
    raw = parse_yaml(wfile.text, wfile.shown)
    spec: WorkspaceFile = _validate(WorkspaceFile, wfile, raw)
    return wfile, raw, spec


def _instance_file(root: Path, path: str, files: FileSource, wfile: SourceFile, env_name: str) -> InstanceSource:
    """An instance file, validated; a secret written as a literal is an error at its place."""
    from .instance_model import instance_file_model, literal_secrets

    where = ("environments", env_name, "instance")
    if (why := outside(root / path, root, files)) is not None:
        raise wfile.error(f"instance file '{path}' {why}", where)
    try:
        source = _read(root / path, root, files)
    except ConfigError as e:
        raise wfile.error(f"instance file '{path}' of environment '{env_name}': {e.message}", where) from None
    data = parse_yaml(source.text, source.shown)
    secrets = [source.error(f"a secret written in the file ({'.'.join(map(str, loc))}): give it as ${{env:NAME}} "
                            "and set NAME where dss-iac runs", loc) for loc in literal_secrets(data)]
    if secrets:
        raise _many(secrets)
    return InstanceSource(source, _validate(instance_file_model(), source, data))


class _OverBudget(ConfigError):
    """The workspace is too large to read on: reading stops at the file that crossed the line."""


class _Budget:
    """What the files of a workspace add up to, refused (with the file that crossed the line) past the limits."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.values = 0

    def spend(self, source: SourceFile, size: int, values: int) -> None:
        self.size += size
        self.values += values
        if self.size > MAX_WORKSPACE_BYTES:
            raise _OverBudget(f"the workspace's files add up to more than {MAX_WORKSPACE_BYTES >> 20} MiB here: "
                              "dss-iac reads no more (split it into several workspaces)", file=source.shown)
        if self.values > MAX_WORKSPACE_VALUES:
            raise _OverBudget(f"the workspace's files hold more than {MAX_WORKSPACE_VALUES:,} values here: "
                              "dss-iac reads no more (split it into several workspaces)", file=source.shown)


def _project_files(root: Path, spec: WorkspaceFile, wfile: SourceFile,
                   files: FileSource = DISK) -> tuple[list[Path], list[ConfigError]]:
    found: dict[Path, None] = {}
    errors: list[ConfigError] = []
    for i, pattern in enumerate(spec.projects):
        if not pattern or "\0" in pattern or Path(pattern).is_absolute() or ".." in Path(pattern).parts:
            errors.append(wfile.error(f"project glob '{pattern}' must be a relative path inside the workspace",
                                      ("projects", i)))
            continue
        if not Path(pattern).parts:  # '.' or './': the workspace folder itself, which pathlib cannot glob
            errors.append(wfile.error(f"project glob '{pattern}' names the workspace folder, not files: use "
                                      "'projects/*.yaml'", ("projects", i)))
            continue
        # Running code is opt-in: only a glob ending in .py picks Python files, never a broad `projects/*`.
        suffixes = (".py",) if pattern.endswith(".py") else (".yaml", ".yml")
        try:
            matches = sorted(p for p in files.glob(root, pattern) if p.suffix in suffixes)
        except (OSError, ValueError) as e:
            errors.append(wfile.error(f"project glob '{pattern}' cannot be searched: {e}", ("projects", i)))
            continue
        for p in matches:
            if (why := outside(p, root, files)) is not None:
                name = p.relative_to(root).as_posix()
                errors.append(wfile.error(f"project file '{name}' (matched by '{pattern}') {why}: project files "
                                          "must be inside the workspace folder", ("projects", i)))
            else:
                found[p] = None
    return list(found), errors


def named_files(pspec: ProjectFile) -> list[tuple[tuple[str | int, ...], NamedFile]]:
    """The files the objects of a project file name (`Kind.files`), each with where its path is written."""
    return [((kind.collection, name, *f.where), f) for kind in registry.kinds() if kind.collection is not None
            for name, entry in getattr(pspec, kind.collection, {}).items() for f in kind.files(name, entry)]


def _read_code(pspec: ProjectFile, source: SourceFile, root: Path,
               files: FileSource = DISK) -> tuple[dict[str, str], list[ConfigError]]:
    code: dict[str, str] = {}
    errors: list[ConfigError] = []
    for loc, f in named_files(pspec):
        key, rel, what = f.key, f.path, f.what
        if f.refused is not None:
            errors.append(source.error(f.refused, loc))
            continue
        if (why := outside(source.path.parent / rel, root, files)) is not None:
            errors.append(source.error(f"{what} '{rel}' {why}: {what}s must be inside the workspace folder", loc))
            continue
        path = files.resolve(source.path.parent / rel)
        try:
            code[key] = files.read_text(path)
        except FileNotFoundError:
            errors.append(source.error(f"{what} '{rel}' not found (looked for {path})", loc))
        except RefusedFile as e:
            errors.append(source.error(f"{what} '{rel}' {e.strerror}", loc))
        except UnicodeDecodeError as e:
            errors.append(source.error(f"{what} '{rel}' is not UTF-8 text ({e.reason} at byte {e.start})", loc))
        except OSError as e:
            errors.append(source.error(f"cannot read {what} '{rel}': {e.strerror}", loc))
    return code, errors
