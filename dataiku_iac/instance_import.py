"""`import -e ENV --instance`: write the instance file of what an environment's DSS holds (connections, code envs,
groups, users, global variables), and record it in the state, so that the next plan is empty.

Secrets are never written: each one becomes a `${env:NAME}` reference, listed with the value's place, and the
environment's `instance:` setting is added to dss-iac.yaml when it has none. An object whose name or settings no
instance kind can write (a name with a space, an unknown connection type) is left out with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from .config.envref import has_ref
from .dss.connect import read_with_retry
from .errors import ConfigError
from .importer import ImportResult, SecretRef, _dump, _record, _with_values
from .resources import Address, Remote, registry
from .secrets import is_secret_key

if TYPE_CHECKING:
    from .workspace import Workspace


def import_instance(ws: Workspace, env: str, file: Path | None = None) -> ImportResult:
    """Write the instance file of `env` (its `instance:` path, else `file`, else instance/<env>.yaml)."""
    setting = ws.environment(env).instance
    if setting is not None and file is not None and (ws.root / setting).resolve() != file.resolve():
        raise ConfigError(f"environment {env} names its instance file already ({setting}): leave out --out")
    target = ws.root / setting if setting else (file or ws.root / "instance" / f"{env}.yaml")
    if target.exists():
        raise ConfigError(f"{target} already exists: refusing to overwrite it (import writes a new instance file)",
                          file=str(target))
    if target.suffix not in (".yaml", ".yml"):
        raise ConfigError(f"{target}: import writes YAML; name a .yaml file")
    try:
        relative = target.resolve().relative_to(ws.root.resolve()).as_posix()
    except ValueError:
        raise ConfigError(f"{target} is outside the workspace: the instance file must be inside it") from None
    conn = ws.connection(env)
    remotes, doc, skipped = read_with_retry(conn, lambda: _read_instance(conn.client))
    refs = _secrets_as_refs(doc)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(_dump(doc), encoding="utf-8")
    try:
        if setting is None:
            ws.update_setting(("environments", env, "instance"), relative)
        recorded = _record(ws, env, None, remotes, _with_values(refs))
    except ConfigError as e:  # what DSS holds does not fit the configuration: keep no file of it
        target.unlink(missing_ok=True)
        if setting is None:
            ws.update_setting(("environments", env, "instance"), None)
        raise ConfigError(f"the instance of {env} cannot be imported as it is in DSS, so no file was kept: "
                          f"{e.render().splitlines()[0]}") from None
    return ImportResult(target, (), recorded, tuple(skipped), secrets=tuple(r for r, _ in refs))


def _read_instance(client: Any) -> tuple[dict[Address, Remote], dict[str, Any], list[str]]:
    """Every object of every instance kind: as read, as its kind writes it in an instance file, and what was left
    out (with why)."""
    remotes: dict[Address, Remote] = {}
    doc: dict[str, Any] = {}
    skipped: list[str] = []
    for kind in registry.instance_kinds():
        for name in kind.list_all(client):
            label = f"{kind.name.replace('_', ' ')} '{name}'"
            if not kind.single and not re.match(kind.name_pattern, name):
                skipped.append(f"{label}: its name is not a valid key ({kind.name_help})")
                continue
            address = Address.instance(kind.name, name)
            remote = kind.read(client, address, None)
            if remote is None:
                continue
            entry = kind.instance_entry(name, remote.fields)
            try:
                kind.model.model_validate(entry) if hasattr(kind.model, "model_validate") else None
            except ValidationError as e:
                first = e.errors()[0]
                skipped.append(f"{label}: {'.'.join(map(str, first['loc'])) or 'it'}: {first['msg']}")
                continue
            remotes[address] = remote
            if kind.single:
                doc[kind.section] = entry
            else:
                doc.setdefault(kind.section, {})[name] = entry
    return remotes, doc, skipped


def _secrets_as_refs(doc: dict[str, Any]) -> list[tuple[SecretRef, str]]:
    """Replace, in place, every secret of `doc` by a `${env:NAME}` reference (NAME from its place: connection
    `pg_prod`'s password -> CONNECTIONS_PG_PROD_PASSWORD); each reference with the value it replaces ("" when DSS
    hands it back encrypted or blank: the value is not known here)."""
    found: list[tuple[SecretRef, str]] = []

    def walk(node: Any, path: tuple[str | int, ...]) -> Any:
        if isinstance(node, Mapping):
            out = {}
            for k, v in node.items():
                # A blank one too: DSS blanks the secrets it holds, and the file must say where one goes.
                if isinstance(v, str) and is_secret_key(str(k)) and not has_ref(v):
                    name = re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9]", "_", "_".join(map(str, (*path, k))))).upper()
                    where = f"{'.'.join(map(str, path[:2]))} {'.'.join(map(str, (*path[2:], k)))}".strip()
                    ref = SecretRef(name.strip("_"), where, bool(v) and not v.startswith("e:AES:"))
                    found.append((ref, v if ref.shown else ""))
                    out[k] = f"${{env:{ref.name}}}"
                else:
                    out[k] = walk(v, (*path, k))
            return out
        if isinstance(node, list):
            return [walk(v, (*path, i)) for i, v in enumerate(node)]
        return node

    doc.update(walk(doc, ()))
    return found
