"""Recipes of every type DSS has: visual, code and plugin recipes.

Field model (what a plan compares), in this order:
  type         DSS's type (`prepare` is `shaker`); replace: DSS keeps a recipe's type for life
  inputs       sorted names, `OTHER.name` for another project's dataset or folder; folders by name (DSS: by id)
  outputs      sorted names
  roles        name -> role, for the items not in role "main" (plugin recipes name their roles)
  code         code recipes: the code file's text, byte for byte (only when the config names a code file)
  code_env     python, r, pyspark, sparkr, cpython: the physical env name, or None to inherit the project's
  steps, joins, keys, aggregations, global_count, windows, orders
               the typed settings of prepare, join, grouping, window, distinct, sort and topn recipes
               (recipe_settings.py): compared whole, shown item by item in plans
  settings     visual recipes with a JSON payload: open map of the other payload keys
  config       plugin recipes: open map, DSS's params.customConfig
  params       open map: only the keys the config sets are compared (DSS adds engine settings of its own)
  tags         sorted set
  description
Every DSS input/output role is read (flattened, non-main roles in `roles`); items the tool adds go to their
role, "main" by default, which is the role of code, visual and SQL query recipes alike.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from pydantic import Field

from ..config.models import Strict
from . import _shapes
from ._flow import absent_as_none, describe, merge_open, tag_set
from ._flowrefs import (
    exposure_of,
    flow_address,
    folder_names_by_id,
    foreign_folder_ids,
    foreign_folder_names,
    is_folder_id,
    used_folder_ids,
)
from .address import Address, split_ref
from .base import CODE_ENV, Desired, ImportContext, Kind, Listed, NamedFile, Remote, nonempty, version_number
from .context import EnvContext
from .passthrough import merged, without
from .recipe_model import (
    ALIASES,
    CODE_RECIPES,
    CODE_SUFFIX,
    ENV_TYPES,
    JSON_VISUAL,
    Recipe,
    dss_type,
    is_plugin,
)
from .recipe_settings import desired_typed, read_typed, settings_of, typed_fields, write_typed

if TYPE_CHECKING:
    from dataikuapi import DSSClient
    from dataikuapi.dss.project import DSSProject
    from dataikuapi.dss.recipe import DSSRecipeSettings

    from ..config.loader import ProjectSource
    from ..config.project_model import ProjectFile

__all__ = ["CODE_RECIPES", "CODE_SUFFIX", "ENV_TYPES", "Recipe", "RecipeKind", "recipes_of"]

# DSS refuses more than one output for these (their creators are single-output creators).
SINGLE_OUTPUT_TYPES = frozenset({"sync", "sql_query"})
MAIN_ROLE = "main"
# Recipe params the tool writes through another field: never part of `params`.
ENV_PARAM = "envSelection"
PLUGIN_PARAM = "customConfig"
SIDES = ("inputs", "outputs")
# What the creators put in a new item (DSSRecipeCreator._with_input / _with_output).
NEW_ITEM: dict[str, dict[str, Any]] = {"inputs": {"deps": []}, "outputs": {"appendMode": False}}
# Types project.new_recipe has no creator for (it raises "Unknown type"): created with the base creator.
BASE_CREATOR_TYPES = frozenset({"hive", "impala", "fuzzyjoin", "geojoin"})
# What DSS gives a new recipe, left out of an imported file (an open map compares only what the file sets).
# Read off dataikuapi's creators and recipes exported from DSS; a key missing here is merely written out.
IMPORT_DEFAULTS: dict[str, Any] = {
    "schemaMode": "STRICT_SYNC", "containerSelection": {"containerMode": "INHERIT"},
    "columnsSelection": {"mode": "ALL"}, "origin": "PREPARE_RECIPE", "maxProcessedMemTableBytes": -1,
    "previewMode": "ALL_ROWS", "mode": "UNION", "originColumnName": "original_dataset", "firstRows": 10,
    "lastRows": 0, "identifierColumnsSelection": "EXPLICIT", "defaultOutputIndex": -1,
}
# How `import` names a type: DSS's name, but `prepare` for the type DSS calls `shaker` (as its screens do).
_YAML_TYPE = {ALIASES["prepare"]: "prepare"}


def recipes_of(spec: ProjectFile) -> dict[str, Recipe]:
    """The recipes a project file declares (the collection the recipe kind adds to project files)."""
    return cast(dict[str, Recipe], getattr(spec, RecipeKind.collection))


class RecipeDocument(Strict):
    """A recipe kept as its DSS document."""

    recipe: dict[str, Any] = Field(description="the recipe definition as DSS holds it (type, inputs and outputs by "
                                               "role, params...), without its name and DSS's version tags")
    payload: Any = Field(default=None, description="the payload: a visual recipe's settings (a mapping), a code "
                                                   "recipe's code (text)")


class RecipeKind(Kind):
    name = "recipe"
    model = Recipe
    adoptable = frozenset({"description", "tags", "params", "code_env", "roles", "steps", "joins", "keys",
                           "aggregations", "global_count", "windows", "orders", "settings", "config"})
    reshaped = {"inputs": _shapes.names, "outputs": _shapes.names}
    unadoptable = {"type": "DSS fixes a recipe's type when it makes it"}
    template = {"type": "sync", "inputs": [], "outputs": []}
    collection = "recipes"
    rank = 50
    on_dependency_replaced = "replace"
    remapped = {"code_env": CODE_ENV}
    replace_on = frozenset({"type"})
    open_maps = frozenset({"params", "settings", "config"})

    def files(self, name: str, entry: Any) -> list[NamedFile]:
        """A code recipe's code file; another recipe names none."""
        recipe = cast(Recipe, entry)
        if recipe.code is None:
            return []
        refused = None if recipe.type in CODE_RECIPES else f"a {recipe.type} recipe has no code; remove 'code'"
        return [NamedFile(("code",), recipe.code, name, "code", refused=refused)]

    def desired(self, source: ProjectSource, env: EnvContext) -> list[Desired]:
        key = source.key
        out: list[Desired] = []
        for name, recipe in recipes_of(source.spec).items():
            _check_shape(source, name, recipe)
            rtype = dss_type(recipe.type)
            # Built in the order plans list the fields in.
            fields: dict[str, Any] = {"type": rtype, "inputs": sorted(set(recipe.inputs)),
                                      "outputs": sorted(set(recipe.outputs))}
            roles = {k: v for k, v in sorted(recipe.roles.items()) if v != MAIN_ROLE}
            if roles or is_plugin(rtype):  # other recipes keep everything in "main": no field to show in plans
                fields["roles"] = roles
            notes: dict[str, str] = {}
            if name in source.code:
                fields["code"] = source.code[name]
            if rtype in ENV_TYPES:
                fields["code_env"] = env.code_env(recipe.code_env) if recipe.code_env else None
                if recipe.code_env and fields["code_env"] != recipe.code_env:
                    notes["code_env"] = f"{recipe.code_env} -> {fields['code_env']}"
            fields.update(desired_typed(recipe))
            if rtype in JSON_VISUAL:
                fields["settings"] = dict(recipe.settings)
            if is_plugin(rtype):
                fields["config"] = dict(recipe.config or {})
            fields.update(params=dict(recipe.params), tags=tag_set(recipe.tags), description=recipe.description)
            io = sorted({flow_address(source, ref) for ref in (*recipe.inputs, *recipe.outputs)}
                        | {e for ref in recipe.inputs if (e := exposure_of(source, ref)) is not None})
            out.append(Desired(Address("recipe", key, name), fields, (Address("project", key), *io), notes))
        return out

    listed = True
    versioned = True  # every save (definition or code) bumps it, and DSS's rewiring of a renamed input (tests/contract)
    names_of = frozenset({"managed_folder"})  # its fields name the folders DSS refers to by id

    def instance_type(self, entry: Any) -> tuple[str | None, str | None]:
        language = "R" if dss_type(entry.type) in ("r", "sparkr") else "PYTHON"
        return language, entry.type  # the code env's language

    def config_entry(self, name: str | None, fields: dict[str, Any], ctx: ImportContext) -> Any:
        """A recipe read from DSS as a project file writes it: the same fields, DSS's defaults left out."""
        f = fields
        rtype = f["type"]
        entry: dict[str, Any] = {"type": _YAML_TYPE.get(rtype, rtype), "inputs": f["inputs"], "outputs": f["outputs"]}
        if f.get("code") and rtype in CODE_SUFFIX:
            path = ctx.code_dir / f"{name}{CODE_SUFFIX[rtype]}"
            ctx.code[path] = f["code"]
            entry["code"] = Path(os.path.relpath(path, ctx.project_dir)).as_posix()
        typed = {k: f[k] for k in typed_fields(rtype) if f.get(k) not in (None, [], False)}
        return entry | nonempty({"roles": f.get("roles"), "code_env": f.get("code_env"), **typed,
                                 "settings": _without_defaults(f.get("settings") or {}),
                                 "config": _without_defaults(f.get("config") or {}, {}),
                                 "params": _without_defaults(f["params"]), "tags": f["tags"],
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
        from dataikuapi.dss.recipe import DSSRecipeCreator
        from dataikuapi.utils import DataikuException

        project = client.get_project(desired.address.project)
        fields, name = desired.fields, str(desired.address.name)
        ids = used_folder_ids(project, desired.depends_on) | foreign_folder_ids(project, fields["inputs"])
        rtype, roles = fields["type"], fields.get("roles") or {}
        base = is_plugin(rtype) or rtype in BASE_CREATOR_TYPES
        # The builder DSS's screens and dataikuapi use for the type; the base one for plugin, Hive and Impala.
        creator = DSSRecipeCreator(rtype, name, project) if base else project.new_recipe(rtype, name)
        for ref in fields["inputs"]:
            other, item = split_ref(ids.get(ref, ref), project.project_key)
            item = ids.get(item, item) if other == project.project_key else item
            if base:
                creator.with_input(item, project_key=other, role=roles.get(ref, MAIN_ROLE))
            else:
                creator.with_input(item, project_key=other)
        for ref in fields["outputs"]:
            if base:
                creator.with_output(ids.get(ref, ref), role=roles.get(ref, MAIN_ROLE))
            else:
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
        ids = used_folder_ids(project, desired.depends_on) | foreign_folder_ids(project, desired.fields["inputs"])
        current = set(_refs(settings.get_recipe_raw_definition(), "outputs"))
        claimed = {ids.get(ref, ref) for ref in desired.fields["outputs"]} - current
        lock = _flow_lock(project.project_key)
        with lock.exclusive() if claimed else lock.shared():
            _release_outputs(project, remote.remote_id, claimed)
            _write(settings, desired.fields, ids, desired.removed)
            settings.save()

    def delete(self, client: DSSClient, address: Address, remote_id: str) -> None:
        # DSS deletes only the recipe: its outputs and their data stay.
        client.get_project(address.project).get_recipe(remote_id).delete()

    # Passthrough (resources/passthrough.py): {recipe: definition without name and tags of the server, payload}.
    server_made = frozenset({"versionTag", "creationTag", "projectKey", "name"})
    document_help = ("`recipe` (the definition: type, inputs and outputs by role, params...) and `payload` (a "
                     "visual recipe's settings as a mapping, a code recipe's code as text)")

    document_model = RecipeDocument

    def document(self, remote: Remote) -> dict[str, Any] | None:
        settings = remote.raw
        return {"recipe": without(settings.get_recipe_raw_definition(), self.server_made),
                "payload": _decoded(settings.get_payload())}

    def write_document(self, client: DSSClient, address: Address, document: dict[str, Any],
                       remote: Remote | None) -> str:
        from dataikuapi.dss.recipe import DSSRecipeCreator

        project = client.get_project(address.project)
        definition = dict(document["recipe"])
        with _flow_lock(project.project_key).exclusive():
            if remote is None:
                # DSS's raw creation: the definition as it is, no output made, no check of the items.
                creator = DSSRecipeCreator(str(definition.get("type")), str(address.name), project)
                creator.recipe_proto = {**definition, "name": str(address.name)}
                creator.set_raw_mode()
                creator.creation_settings["rawPayload"] = _encoded(document.get("payload"))
                creator.create()
            settings = remote.raw if remote is not None else project.get_recipe(str(address.name)).get_settings()
            current = settings.get_recipe_raw_definition()
            new = merged(current, definition)
            current.clear()
            current.update(new)
            settings.set_payload(_encoded(merged(_decoded(settings.get_payload()), document.get("payload"))))
            settings.save()
        return str(address.name)

    def document_refs(self, document: dict[str, Any]) -> list[str]:
        return [*_refs(document.get("recipe") or {}, "inputs"), *document_outputs(document)]


def _check_shape(source: ProjectSource, name: str, recipe: Recipe) -> None:
    """What DSS would refuse at apply time, refused at plan time with the file position."""
    rtype = dss_type(recipe.type)
    if rtype in SINGLE_OUTPUT_TYPES and len(set(recipe.outputs)) != 1:
        raise source.file.error(f"a {recipe.type} recipe has exactly one output", ("recipes", name, "outputs"))
    if recipe.code_env is not None and rtype not in ENV_TYPES:
        raise source.file.error(f"a {recipe.type} recipe runs in no code env; code_env is for "
                                f"{', '.join(sorted(ENV_TYPES))} recipes", ("recipes", name, "code_env"))
    if ENV_PARAM in recipe.params:
        raise source.file.error(f"set the code env with `code_env`, not params.{ENV_PARAM}",
                                ("recipes", name, "params", ENV_PARAM))
    if is_plugin(rtype) and PLUGIN_PARAM in recipe.params:
        raise source.file.error(f"set a plugin recipe's settings with `config`, not params.{PLUGIN_PARAM}",
                                ("recipes", name, "params", PLUGIN_PARAM))
    for ref in recipe.roles:
        if ref not in recipe.inputs and ref not in recipe.outputs:
            raise source.file.error(f"'{ref}' has a role but is neither an input nor an output of the recipe",
                                    ("recipes", name, "roles", ref))
    for i, join in enumerate(recipe.joins or []):
        for side in ("left", "right"):
            if getattr(join, side) not in recipe.inputs:
                raise source.file.error(f"join input '{getattr(join, side)}' is not one of the recipe's inputs "
                                        f"({', '.join(recipe.inputs)})", ("recipes", name, "joins", i, side))


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


def _payload(settings: DSSRecipeSettings) -> dict[str, Any]:
    """A visual recipe's JSON payload (empty when DSS holds none, or not JSON)."""
    text = settings.get_payload() or ""
    try:
        doc = json.loads(text) if text.strip() else {}
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _main_inputs(doc: dict[str, Any]) -> list[str]:
    """The refs of the main inputs in DSS's order: what a join's virtual inputs point at by index."""
    items = ((doc.get("inputs") or {}).get(MAIN_ROLE) or {}).get("items") or []
    return [str(i.get("ref")) for i in items if isinstance(i, dict)]


def fields_of(project: DSSProject, settings: DSSRecipeSettings) -> dict[str, Any]:
    """A recipe as DSS holds it, in the configuration's form: what plans compare, `import` and `adopt` write."""
    doc = settings.get_recipe_raw_definition()
    rtype = str(doc["type"])
    refs = {side: _refs(doc, side) for side in SIDES}
    names: dict[str, str] = {}
    if any(is_folder_id(r) for side in SIDES for r in refs[side]):
        names = folder_names_by_id(project)
    names |= foreign_folder_names(project, refs["inputs"])  # another project's folder, by its id in DSS
    params = dict(doc.get("params") or {})
    env = params.pop(ENV_PARAM, None)
    roles = {names.get(str(item["ref"]), str(item["ref"])): role for side in SIDES
             for role, obj in (doc.get(side) or {}).items() if role != MAIN_ROLE
             for item in (obj or {}).get("items") or [] if isinstance(item, dict) and item.get("ref")}
    fields: dict[str, Any] = {"type": rtype, "inputs": sorted({names.get(r, r) for r in refs["inputs"]}),
                              "outputs": sorted({names.get(r, r) for r in refs["outputs"]})}
    if roles or is_plugin(rtype):
        fields["roles"] = dict(sorted(roles.items()))
    if rtype in CODE_RECIPES:
        fields["code"] = settings.get_payload() or ""
    if rtype in ENV_TYPES:
        fields["code_env"] = _env_name(env)
    if rtype in JSON_VISUAL:
        payload = _payload(settings)
        fields.update(read_typed(rtype, payload, _main_inputs(doc)))
        fields["settings"] = settings_of(rtype, payload)
    if is_plugin(rtype):
        config = params.pop(PLUGIN_PARAM, None)
        fields["config"] = dict(config) if isinstance(config, dict) else {}
    fields.update(params=params, tags=tag_set(doc.get("tags") or []), description=doc.get("description") or "")
    return fields


def _without_defaults(values: Mapping[str, Any], defaults: Mapping[str, Any] = IMPORT_DEFAULTS) -> dict[str, Any]:
    """An open map as `import` writes it: empty and false values, and DSS's defaults for a new recipe, left out
    (a key left out is not managed: the next plan is empty all the same)."""
    return {k: v for k, v in values.items()
            if v not in (None, "", [], {}) and v is not False and not (k in defaults and defaults[k] == v)
            and not _plain_virtual_inputs(k, v) and not _off_filter(v)}


def _off_filter(value: Any) -> bool:
    # A pre/post filter switched off ({"enabled": false}, as DSS creates them).
    return isinstance(value, dict) and value.get("enabled") is False and set(value) <= {"enabled", "uiData"}


def _plain_virtual_inputs(key: str, value: Any) -> bool:
    """Virtual inputs that only point at the inputs, in order (what a join or stack recipe gets at creation)."""
    if key != "virtualInputs" or not isinstance(value, list):
        return False
    return all(isinstance(v, dict) and v.get("index") == i and
               all(x in ([], {}, None, "", False) or _off_filter(x) for k, x in v.items() if k != "index")
               for i, v in enumerate(value))


def _env_name(selection: Any) -> str | None:
    """EXPLICIT_ENV -> its name; INHERIT (or nothing) -> None; any other mode shows as `<MODE>`."""
    mode = (selection or {}).get("envMode", "INHERIT")
    if mode == "EXPLICIT_ENV":
        return str(selection.get("envName"))
    return None if mode == "INHERIT" else f"<{mode}>"


def _set_side(doc: dict[str, Any], side: str, wanted: list[str], roles: Mapping[str, str]) -> None:
    """Keep the items still wanted in their roles, with their own settings (moved when `roles` names another role);
    add the new ones to their role ("main" unless `roles` says otherwise)."""
    by_role = doc.setdefault(side, {})
    present: dict[str, dict[str, Any]] = {}
    for role, obj in by_role.items():
        kept = []
        for item in (obj or {}).get("items") or []:
            ref = item.get("ref")
            if ref in wanted and ref not in present and roles.get(ref, role) == role:
                kept.append(item)
                present[ref] = item
            elif ref in wanted and ref not in present:
                present[ref] = {**item, "_move": True}
        if obj is not None:
            obj["items"] = kept
    for ref in wanted:
        item = present.get(ref)
        if item is not None and not item.pop("_move", False):
            continue
        target = by_role.setdefault(roles.get(ref, MAIN_ROLE), {"items": []}).setdefault("items", [])
        target.append(item if item is not None else {"ref": ref, **NEW_ITEM[side]})


def _reindexed(payload: dict[str, Any], before: list[str], after: list[str]) -> dict[str, Any]:
    """Virtual inputs point at inputs by position: keep them on the same inputs when inputs come and go."""
    for v in payload.get("virtualInputs") or [] if before != after else []:
        index = v.get("index") if isinstance(v, dict) else None
        if isinstance(index, int) and 0 <= index < len(before) and before[index] in after:
            v["index"] = after.index(before[index])
    return payload


def _write(settings: DSSRecipeSettings, fields: dict[str, Any], folder_id: dict[str, str],
           removed: Mapping[str, Iterable[str]] | None = None) -> None:
    """Write the managed fields into the recipe document; everything else in it is left as it was."""
    removed = removed or {}
    doc = settings.get_recipe_raw_definition()
    roles = {folder_id.get(ref, ref): role for ref, role in (fields.get("roles") or {}).items()}
    main_before = _main_inputs(doc)
    for side in SIDES:
        _set_side(doc, side, [folder_id.get(ref, ref) for ref in fields[side]], roles)
    params = merge_open(doc.setdefault("params", {}), fields["params"], removed.get("params", ()))
    if "code_env" in fields:
        # The shape CodeRecipeSettings.set_code_env writes.
        env = fields["code_env"]
        params[ENV_PARAM] = {"envMode": "EXPLICIT_ENV", "envName": env} if env else {"envMode": "INHERIT"}
    if "config" in fields:
        config = params.get(PLUGIN_PARAM)
        params[PLUGIN_PARAM] = merge_open(config if isinstance(config, dict) else {}, fields["config"],
                                          removed.get("config", ()))
    if "code" in fields:
        settings.set_payload(fields["code"])
    if fields["type"] in JSON_VISUAL:
        payload = _reindexed(_payload(settings), main_before, _main_inputs(doc))
        payload = merge_open(payload, fields.get("settings") or {}, removed.get("settings", ()))
        write_typed(fields["type"], payload, fields, _main_inputs(doc))
        settings.set_json_payload(payload)
    describe(doc, fields)


def document_outputs(document: Any) -> list[str]:
    """The outputs a recipe's passthrough document names (a folder by its id)."""
    recipe = document.get("recipe") if isinstance(document, dict) else None
    return _refs(recipe, "outputs") if isinstance(recipe, dict) else []


def _decoded(payload: str | None) -> Any:
    """A payload as a passthrough writes it: the JSON of a visual recipe as a mapping (readable, diffed key by key),
    anything else as its text."""
    if not payload:
        return payload or ""
    try:
        value = json.loads(payload)
    except ValueError:
        return payload
    return value if isinstance(value, dict | list) else payload


def _encoded(payload: Any) -> str:
    return payload if isinstance(payload, str) else "" if payload is None else json.dumps(payload, indent=2)
