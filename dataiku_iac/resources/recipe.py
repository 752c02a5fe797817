"""Recipes: type, inputs and outputs, code, code env, params, tags and description.

Field model (what a plan compares):
  type         replace: DSS keeps a recipe's type for life
  inputs       sorted names, `OTHER.name` for another project's dataset; folders by name (DSS: by id)
  outputs      sorted names
  code         the code file's text, byte for byte (only when the config names a code file)
  code_env     python/r recipes: the physical env name, or None to inherit the project's
  params       open map: only the keys the config sets are compared (DSS adds engine settings of its own)
  tags         sorted set
  description
Every DSS input/output role is read (flattened); items the tool adds go to role "main", which is the
role of code, sync and SQL query recipes alike.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config.models import Recipe
from . import _shapes
from ._flow import absent_as_none, describe, merge_open, tag_set
from ._flowrefs import flow_address, folder_names_by_id, used_folder_ids
from .address import Address, split_ref
from .base import CODE_ENV, Desired, ImportContext, Kind, Listed, Remote, nonempty, version_number
from .context import EnvContext

if TYPE_CHECKING:
    from dataikuapi import DSSClient
    from dataikuapi.dss.project import DSSProject
    from dataikuapi.dss.recipe import DSSRecipeSettings

    from ..config.loader import ProjectSource

# Recipe types whose `code` is a file of the workspace.
CODE_RECIPES = frozenset({"python", "r", "shell", "sql_query", "sql_script"})
CODE_SUFFIX = {"python": ".py", "r": ".R", "shell": ".sh", "sql_query": ".sql", "sql_script": ".sql"}
ENV_TYPES = frozenset({"python", "r"})
# DSS refuses more than one output for these (their creators are single-output creators).
SINGLE_OUTPUT_TYPES = frozenset({"sync", "sql_query"})
MAIN_ROLE = "main"
# Recipe params the tool writes through another field: never part of `params`.
ENV_PARAM = "envSelection"
SIDES = ("inputs", "outputs")
# What the creators put in a new item (DSSRecipeCreator._with_input / _with_output).
NEW_ITEM: dict[str, dict[str, Any]] = {"inputs": {"deps": []}, "outputs": {"appendMode": False}}
FOLDER_ID_LENGTH = 8


class RecipeKind(Kind):
    name = "recipe"
    model = Recipe
    adoptable = frozenset({"description", "tags", "params", "code_env"})
    reshaped = {"inputs": _shapes.names, "outputs": _shapes.names}
    template = {"type": "sync", "inputs": [], "outputs": []}
    collection = "recipes"
    rank = 50
    on_dependency_replaced = "replace"
    remapped = {"code_env": CODE_ENV}
    replace_on = frozenset({"type"})
    open_maps = frozenset({"params"})

    def desired(self, source: ProjectSource, env: EnvContext) -> list[Desired]:
        key = source.key
        out: list[Desired] = []
        for name, recipe in source.spec.recipes.items():
            _check_shape(source, name, recipe)
            # Built in the order plans list the fields in.
            fields: dict[str, Any] = {"type": recipe.type, "inputs": sorted(set(recipe.inputs)),
                                      "outputs": sorted(set(recipe.outputs))}
            notes: dict[str, str] = {}
            if name in source.code:
                fields["code"] = source.code[name]
            if recipe.type in ENV_TYPES:
                fields["code_env"] = env.code_env(recipe.code_env) if recipe.code_env else None
                if recipe.code_env and fields["code_env"] != recipe.code_env:
                    notes["code_env"] = f"{recipe.code_env} -> {fields['code_env']}"
            fields.update(params=dict(recipe.params), tags=tag_set(recipe.tags), description=recipe.description)
            io = sorted({flow_address(source, ref) for ref in (*recipe.inputs, *recipe.outputs)})
            out.append(Desired(Address("recipe", key, name), fields, (Address("project", key), *io), notes))
        return out

    listed = True
    versioned = True  # every save (definition or code) bumps it, and DSS's rewiring of a renamed input (tests/contract)
    names_of = frozenset({"managed_folder"})  # its fields name the folders DSS refers to by id

    def instance_type(self, entry: Any) -> tuple[str | None, str | None]:
        return "R" if entry.type == "r" else "PYTHON", entry.type  # the code env's language

    def config_entry(self, name: str | None, fields: dict[str, Any], ctx: ImportContext) -> Any:
        f = fields
        entry = {"type": f["type"], "inputs": f["inputs"], "outputs": f["outputs"]}
        if f.get("code") and f["type"] in CODE_SUFFIX:
            path = ctx.code_dir / f"{name}{CODE_SUFFIX[f['type']]}"
            ctx.code[path] = f["code"]
            entry["code"] = Path(os.path.relpath(path, ctx.project_dir)).as_posix()
        return entry | nonempty({"code_env": f.get("code_env"), "params": f["params"], "tags": f["tags"],
                                 "description": f["description"]})

    def listing(self, project: DSSProject) -> list[Listed]:
        return [Listed(str(r["name"]), str(r["name"]), version_number(r), r) for r in map(dict, project.list_recipes())]

    def version_of(self, remote: Remote) -> int | None:
        raw = remote.raw
        return version_number(raw.get_recipe_raw_definition()) if raw is not None else None

    def read(self, client: DSSClient, address: Address, remote_id: str | None) -> Remote | None:
        project = client.get_project(address.project)
        name = remote_id or address.name
        settings = absent_as_none(lambda: project.get_recipe(name).get_settings())
        if settings is None:
            return None
        return Remote(str(name), fields_of(project, settings), settings)

    def create(self, client: DSSClient, desired: Desired) -> str:
        from dataikuapi.utils import DataikuException

        project = client.get_project(desired.address.project)
        fields, name = desired.fields, str(desired.address.name)
        ids = used_folder_ids(project, desired.depends_on)
        creator = project.new_recipe(fields["type"], name)
        for ref in fields["inputs"]:
            other, item = split_ref(ref, project.project_key)
            creator.with_input(ids.get(item, item) if other == project.project_key else item, project_key=other)
        for ref in fields["outputs"]:
            creator.with_output(ids.get(ref, ref))
        if "code" in fields and hasattr(creator, "with_script"):  # the SQL query creator has no script
            creator.with_script(fields["code"])
        lock = _flow_lock(project.project_key)
        with lock.shared():
            try:
                recipe = creator.create()
            except DataikuException:
                recipe = None
        if recipe is None:
            with lock.exclusive():
                # Another recipe may still write an output (outputs moving between recipes, or a recipe renamed
                # and its old self not deleted yet): take the outputs, then try once more; a second refusal is
                # the real error.
                _release_outputs(project, name, {ids.get(ref, ref) for ref in fields["outputs"]})
                recipe = creator.create()
        with lock.shared():
            settings = recipe.get_settings()
            _write(settings, fields, ids)
            settings.save()
        return name

    def update(self, client: DSSClient, desired: Desired, remote: Remote) -> None:
        project = client.get_project(desired.address.project)
        settings = remote.raw if remote.raw is not None else project.get_recipe(remote.remote_id).get_settings()
        ids = used_folder_ids(project, desired.depends_on)
        current = set(_refs(settings.get_recipe_raw_definition(), "outputs"))
        claimed = {ids.get(ref, ref) for ref in desired.fields["outputs"]} - current
        lock = _flow_lock(project.project_key)
        with lock.exclusive() if claimed else lock.shared():
            _release_outputs(project, remote.remote_id, claimed)
            _write(settings, desired.fields, ids, desired.removed.get("params", ()))
            settings.save()

    def delete(self, client: DSSClient, address: Address, remote_id: str) -> None:
        # DSS deletes only the recipe: its outputs and their data stay.
        client.get_project(address.project).get_recipe(remote_id).delete()


def _check_shape(source: ProjectSource, name: str, recipe: Recipe) -> None:
    """What DSS would refuse at apply time, refused at plan time with the file position."""
    if recipe.type in SINGLE_OUTPUT_TYPES and len(set(recipe.outputs)) != 1:
        raise source.file.error(f"a {recipe.type} recipe has exactly one output", ("recipes", name, "outputs"))
    if recipe.code_env is not None and recipe.type not in ENV_TYPES:
        raise source.file.error(f"a {recipe.type} recipe runs in no code env; code_env is for python and r recipes",
                                ("recipes", name, "code_env"))
    if ENV_PARAM in recipe.params:
        raise source.file.error(f"set the code env with `code_env`, not params.{ENV_PARAM}",
                                ("recipes", name, "params", ENV_PARAM))


def _refs(doc: dict[str, Any], side: str) -> list[str]:
    return [str(item["ref"]) for role in (doc.get(side) or {}).values()
            for item in (role or {}).get("items") or [] if isinstance(item, dict) and item.get("ref")]


def _release_outputs(project: DSSProject, name: str, claimed: set[str]) -> None:
    """Take the outputs this recipe claims away from the recipes that write them now (DSS: one writer each).

    Without it, outputs moving between recipes fail whenever the new writer is saved first, and a swap never
    applies. A previous writer that dss-iac manages shows its own `outputs` change in the same plan.
    """
    if not claimed:
        return  # no list call unless outputs move
    for item in project.list_recipes():
        other = dict(item)
        if other.get("name") == name or not claimed & set(_refs(other, "outputs")):
            continue
        settings = absent_as_none(project.get_recipe(other["name"]).get_settings)
        if settings is None:
            continue
        for role in (settings.get_recipe_raw_definition().get("outputs") or {}).values():
            role["items"] = [i for i in role.get("items") or [] if i.get("ref") not in claimed]
        absent_as_none(settings.save)  # the recipe may be deleted meanwhile, by this very apply


class _FlowLock:
    """Held while a recipe is written. `_release_outputs` rewrites other recipes, and must not interleave with their
    own read-merge-write saves in a parallel apply (that would undo one of the two): it holds the lock alone, while
    writes that touch only their own recipe share it (a project's recipes are written side by side)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._sharing = 0
        self._alone = False

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._alone)
            self._sharing += 1
        try:
            yield
        finally:
            with self._cond:
                self._sharing -= 1
                self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._alone and not self._sharing)
            self._alone = True
        try:
            yield
        finally:
            with self._cond:
                self._alone = False
                self._cond.notify_all()


# One lock per project.
_LOCKS: dict[str, _FlowLock] = {}
_LOCKS_GUARD = threading.Lock()


def _flow_lock(project_key: str) -> _FlowLock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(project_key, _FlowLock())


def _maybe_folder_id(ref: str) -> bool:
    # Folder ids are 8 letters or digits: only then is the project's folder list worth a call.
    return len(ref) == FOLDER_ID_LENGTH and ref.isalnum()


def fields_of(project: DSSProject, settings: DSSRecipeSettings) -> dict[str, Any]:
    doc = settings.get_recipe_raw_definition()
    refs = {side: _refs(doc, side) for side in SIDES}
    names: dict[str, str] = {}
    if any(_maybe_folder_id(r) for side in SIDES for r in refs[side]):
        names = folder_names_by_id(project)
    params = dict(doc.get("params") or {})
    env = params.pop(ENV_PARAM, None)
    fields: dict[str, Any] = {"type": doc["type"], "inputs": sorted({names.get(r, r) for r in refs["inputs"]}),
                              "outputs": sorted({names.get(r, r) for r in refs["outputs"]})}
    if doc["type"] in CODE_RECIPES:
        fields["code"] = settings.get_payload() or ""
    if doc["type"] in ENV_TYPES:
        fields["code_env"] = _env_name(env)
    fields.update(params=params, tags=tag_set(doc.get("tags") or []), description=doc.get("description") or "")
    return fields


def _env_name(selection: Any) -> str | None:
    """EXPLICIT_ENV -> its name; INHERIT (or nothing) -> None; any other mode shows as `<MODE>`."""
    mode = (selection or {}).get("envMode", "INHERIT")
    if mode == "EXPLICIT_ENV":
        return str(selection.get("envName"))
    return None if mode == "INHERIT" else f"<{mode}>"


def _set_side(doc: dict[str, Any], side: str, wanted: list[str]) -> None:
    """Keep the items still wanted, in their roles and with their own settings; add the new ones to "main"."""
    roles = doc.setdefault(side, {})
    present: set[str] = set()
    for role in roles.values():
        role["items"] = [item for item in role.get("items") or [] if item.get("ref") in wanted]
        present.update(item["ref"] for item in role["items"])
    new = [ref for ref in wanted if ref not in present]
    if new:
        items = roles.setdefault(MAIN_ROLE, {"items": []}).setdefault("items", [])
        items.extend({"ref": ref, **NEW_ITEM[side]} for ref in new)


def _write(settings: DSSRecipeSettings, fields: dict[str, Any], folder_id: dict[str, str],
           removed_params: Iterable[str] = ()) -> None:
    """Write the managed fields into the recipe document; everything else in it is left as it was."""
    doc = settings.get_recipe_raw_definition()
    for side in SIDES:
        _set_side(doc, side, [folder_id.get(ref, ref) for ref in fields[side]])
    params = merge_open(doc.setdefault("params", {}), fields["params"], removed_params)
    if "code_env" in fields:
        # The shape CodeRecipeSettings.set_code_env writes.
        env = fields["code_env"]
        params[ENV_PARAM] = {"envMode": "EXPLICIT_ENV", "envName": env} if env else {"envMode": "INHERIT"}
    if "code" in fields:
        settings.set_payload(fields["code"])
    describe(doc, fields)
