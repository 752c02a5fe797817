"""Govern artifact search: the filters, sorts and keyset pagination that dataikuapi's artifact_search.py builds.

Pagination: a page holds `pageSize` artifacts that come after `lastArtifactId` in the sort order. The
position is computed from that artifact's sort key, so a page boundary survives artifacts being added or
edited between calls; an unknown `lastArtifactId` (deleted meanwhile) is an error.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..context import Ctx
from ..errors import bad_request
from ..routing import route
from ._common import copy_doc
from .govern_model import artifact_version, artifacts, step_ids

GOVERN = ("GOVERN",)
CONDITIONS: dict[str, Callable[[str, str], bool]] = {
    "EQUALS": lambda value, cond: value == cond,
    "CONTAINS": lambda value, cond: cond in value,
    "START_WITH": lambda value, cond: value.startswith(cond),
    "END_WITH": lambda value, cond: value.endswith(cond),
}
DEFAULT_PAGE_SIZE = 20

Artifact = dict[str, Any]
Predicate = Callable[[Artifact], bool]


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value)  # numbers, booleans ("true"), objects


def _list(flt: dict[str, Any], key: str) -> list[Any]:
    values = flt.get(key, [])
    if not isinstance(values, list):
        raise bad_request(f"'{key}' of a '{flt.get('type')}' filter must be a list")
    return values


def _field_filter(flt: dict[str, Any]) -> Predicate:
    test = CONDITIONS.get(flt.get("conditionType"))  # type: ignore[arg-type]
    if test is None:
        raise bad_request(f"Invalid conditionType {flt.get('conditionType')!r}: use one of {', '.join(CONDITIONS)}")
    case_sensitive = bool(flt.get("caseSensitive", False))
    negate = bool(flt.get("negateCondition", False))
    field_id = flt.get("fieldId")
    cond = _as_text(flt.get("condition"))
    if not case_sensitive:
        cond = cond.lower()

    def matches(artifact: Artifact) -> bool:
        raw = artifact.get("name") if field_id is None else artifact.get("fields", {}).get(field_id)
        # A list field matches when one of its values does.
        values = [_as_text(v) for v in raw] if isinstance(raw, list) else [_as_text(raw)]
        hit = any(test(v if case_sensitive else v.lower(), cond) for v in values)
        return hit != negate

    return matches


def _predicate(flt: Any) -> Predicate:
    if not isinstance(flt, dict):
        raise bad_request("Each artifact filter must be a JSON object with a 'type'")
    kind = flt.get("type")
    if kind == "blueprints":
        wanted = set(_list(flt, "blueprintIds"))
        return lambda a: a["blueprintVersionId"]["blueprintId"] in wanted
    if kind == "blueprintVersions":
        pairs = {(v.get("blueprintId"), v.get("versionId")) for v in _list(flt, "blueprintVersionIds")
                 if isinstance(v, dict)}
        return lambda a: (a["blueprintVersionId"]["blueprintId"], a["blueprintVersionId"]["versionId"]) in pairs
    if kind == "artifacts":
        ids = set(_list(flt, "artifactIds"))
        return lambda a: a["id"] in ids
    if kind == "field":
        return _field_filter(flt)
    if kind == "archived":
        if not isinstance(flt.get("isArchived"), bool):
            raise bad_request("'isArchived' of an 'archived' filter must be a boolean")
        # isArchived=true widens the search to archived artifacts; false keeps them out (the default).
        return lambda a: bool(flt["isArchived"]) or not a["status"].get("archived", False)
    raise bad_request(f"Unknown artifact filter type {kind!r}: use blueprints, blueprintVersions, artifacts, "
                      "field or archived")


def _sortable(value: Any) -> tuple[int, float, str]:
    """A total order over JSON values: numbers, then text (case-insensitive), then missing values."""
    if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
        return (2, 0.0, "") if value is None else (1, 0.0, _as_text(value).lower())
    if isinstance(value, (int, float)):
        return (0, float(value), "")
    return (1, 0.0, str(value).lower())


def _id_key(artifact_id: str) -> tuple[int, str]:
    number = artifact_id.rpartition(".")[2]
    return (int(number) if number.isdigit() else 0, artifact_id)


def _sort_key(ctx: Ctx, sort: Any) -> Callable[[Artifact], tuple[Any, ...]]:
    if sort is None:
        return lambda a: _id_key(a["id"])  # creation order
    if not isinstance(sort, dict) or not isinstance(sort.get("column"), dict):
        raise bad_request("'artifactSearchSort' must be {\"direction\": ..., \"column\": {\"type\": ...}}")
    column = sort["column"]
    kind = column.get("type")
    if kind == "name":
        return lambda a: (_sortable(a.get("name")), _id_key(a["id"]))
    if kind == "workflow":
        def position(a: Artifact) -> tuple[Any, ...]:
            version = artifact_version(ctx.store, a)
            ids = step_ids(version) if version is not None else []
            step = a["status"].get("stepId")
            # Artifacts further along their workflow sort after; those without an ongoing step last.
            return (ids.index(step) if step in ids else len(ids) + 1, _id_key(a["id"]))
        return position
    if kind == "field":
        fields = column.get("fields", [])
        if not isinstance(fields, list) or not all(isinstance(f, dict) for f in fields):
            raise bad_request("'fields' of a field sort must be a list of {\"blueprintId\", \"fieldId\"}")

        def field_value(a: Artifact) -> tuple[Any, ...]:
            bp = a["blueprintVersionId"]["blueprintId"]
            field_id = next((f.get("fieldId") for f in fields if f.get("blueprintId") == bp), None)
            value = None if field_id is None else a.get("fields", {}).get(field_id)
            return (_sortable(value), _id_key(a["id"]))
        return field_value
    raise bad_request(f"Unknown artifact sort column {kind!r}: use name, workflow or field")


def _page(body: dict[str, Any]) -> tuple[int, str | None]:
    pagination = body.get("artifactSearchPagination") or {}
    if not isinstance(pagination, dict):
        raise bad_request("'artifactSearchPagination' must be {\"pageSize\": ..., \"lastArtifactId\": ...}")
    size = pagination.get("pageSize", DEFAULT_PAGE_SIZE)
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise bad_request(f"Invalid pageSize {size!r}: it must be a positive integer")
    last = pagination.get("lastArtifactId")
    if last is not None and not isinstance(last, str):
        raise bad_request("'lastArtifactId' must be an artifact id")
    return size, last


@route("POST", "/artifacts/search", nodes=GOVERN)
def search_artifacts(ctx: Ctx) -> dict[str, Any]:
    body = ctx.req.json_object()
    source = body.get("artifactSearchSource") or {"type": "all"}
    if not isinstance(source, dict) or source.get("type") != "all":
        raise bad_request(f"Unknown artifact search source {source!r}: only {{\"type\": \"all\"}} is supported")
    filters = body.get("artifactFilters") or []
    if not isinstance(filters, list):
        raise bad_request("'artifactFilters' must be a list")
    predicates = [_predicate(f) for f in filters]
    if not any(isinstance(f, dict) and f.get("type") == "archived" for f in filters):
        predicates.append(lambda a: not a["status"].get("archived", False))  # archived ones stay hidden
    sort = body.get("artifactSearchSort")
    key = _sort_key(ctx, sort)
    descending = isinstance(sort, dict) and sort.get("direction", "ASC") == "DESC"
    if isinstance(sort, dict) and sort.get("direction", "ASC") not in ("ASC", "DESC"):
        raise bad_request(f"Invalid sort direction {sort.get('direction')!r}: use ASC or DESC")
    size, last = _page(body)
    everything = {aid: r["artifact"] for aid, r in artifacts(ctx.store).items()}
    hits = sorted((a for a in everything.values() if all(p(a) for p in predicates)), key=key, reverse=descending)
    if last is not None:
        if last not in everything:
            raise bad_request(f"Unknown lastArtifactId {last}: it was deleted, restart the search")
        mark = key(everything[last])
        hits = [a for a in hits if (key(a) < mark if descending else key(a) > mark)]
    return {"uiArtifacts": [{"artifact": copy_doc(a)} for a in hits[:size]]}
