"""A visual recipe's typed settings: read from DSS's JSON payload, written back into it.

One form serves the plan, `import` and `adopt`: the configuration's own (`recipe_model`), defaults left out
(`canonical`). DSS's payload keys are those dataikuapi's settings classes read and write (recipe.py:
PrepareRecipeSettings.raw_steps, JoinRecipeSettings.add_join / add_condition_to_join, GroupingRecipeSettings
.set_column_aggregations, SortRecipeSettings.add_sorting_key...). Writing merges into the payload just read: keys
a step, join or window has in DSS that the configuration does not type (previews, limits...) stay.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from .recipe_model import FIELDS_OF_TYPE, Aggregation, Join, PrepareStep, Recipe, SortKey, Window, dss_type

Payload = dict[str, Any]
# Payload keys each typed field stands for: left out of `settings`, the open map of the rest.
PAYLOAD_KEYS = {"steps": ("steps",), "joins": ("joins",), "keys": ("keys",), "aggregations": ("values",),
                "global_count": ("globalCount",), "windows": ("windows",), "orders": ("orders",)}
_LIST_MODEL: dict[str, type[BaseModel]] = {"steps": PrepareStep, "joins": Join, "aggregations": Aggregation,
                                           "windows": Window, "orders": SortKey}


def typed_fields(rtype: str) -> tuple[str, ...]:
    return FIELDS_OF_TYPE.get(dss_type(rtype), ())


def canonical(name: str, value: Any) -> Any:
    """A typed field's value as plans compare it: validated by its model, defaults left out, function lists sorted.
    DSS content the model does not take (a step of an unknown shape) is kept as it is."""
    if name == "global_count":
        return bool(value)
    if name == "keys":
        return [str(k) for k in value or []]
    model = _LIST_MODEL[name]
    out = []
    for item in value or []:
        try:
            dumped = (item if isinstance(item, BaseModel) else model.model_validate(item)).model_dump(
                exclude_defaults=True, by_alias=True)
        except ValidationError:
            out.append(item)
            continue
        if name == "aggregations":
            dumped["functions"] = sorted(set(dumped["functions"]))
        out.append(dumped)
    return out


def desired_typed(recipe: Recipe) -> dict[str, Any]:
    """The typed fields of a recipe as the configuration sets them (left out: empty)."""
    return {name: canonical(name, getattr(recipe, name)) for name in typed_fields(recipe.type)}


def settings_of(rtype: str, payload: Payload) -> dict[str, Any]:
    """The payload keys no typed field stands for: the `settings` open map."""
    owned = {k for name in typed_fields(rtype) for k in PAYLOAD_KEYS[name]}
    return {k: v for k, v in payload.items() if k not in owned}


# -- reading -----------------------------------------------------------------------------------------------------

def read_typed(rtype: str, payload: Payload, inputs: Sequence[str]) -> dict[str, Any]:
    """The typed fields of a recipe from its payload; `inputs`: its main input refs, in DSS's order."""
    return {name: canonical(name, _READ[name](payload, inputs)) for name in typed_fields(rtype)}


def _step(s: dict[str, Any]) -> dict[str, Any]:
    if s.get("metaType") == "GROUP":
        return {"group": s.get("name") or "", "steps": [_step(x) for x in s.get("steps") or []],
                "disabled": bool(s.get("disabled"))}
    return {"type": s.get("type"), "params": s.get("params") or {}, "disabled": bool(s.get("disabled")),
            "comment": s.get("comment") or ""}


def _input_name(payload: Payload, inputs: Sequence[str], table: Any) -> str:
    virtual = payload.get("virtualInputs") or []
    index = virtual[table].get("index", table) if isinstance(table, int) and 0 <= table < len(virtual) else table
    return inputs[index] if isinstance(index, int) and 0 <= index < len(inputs) else f"<input {index}>"


def _join(payload: Payload, inputs: Sequence[str], j: dict[str, Any]) -> dict[str, Any]:
    return {"left": _input_name(payload, inputs, j.get("table1", 0)),
            "right": _input_name(payload, inputs, j.get("table2", 1)), "type": j.get("type", "LEFT"),
            "on": [{"left": (c.get("column1") or {}).get("name"), "right": (c.get("column2") or {}).get("name"),
                    "op": c.get("type", "EQ")} for c in j.get("on") or []],
            "conditions_mode": j.get("conditionsMode", "AND")}


def _aggregation(v: dict[str, Any]) -> dict[str, Any]:
    return {"column": v.get("column"), "functions": [k for k, on in v.items() if on is True],
            "options": {k: x for k, x in v.items() if k != "column" and not isinstance(x, bool)}}


def _window(w: dict[str, Any]) -> dict[str, Any]:
    frame = {"type": w.get("limitsType", "ROWS"), "lower": w.get("lowerBound", 0), "upper": w.get("upperBound", 0)}
    return {"partition_by": list(w.get("partitioningColumns") or []) if w.get("enablePartitioning") else [],
            "order_by": list(w.get("orders") or []) if w.get("enableOrdering") else [],
            "frame": frame if w.get("enableLimits") else None, "prefix": w.get("prefix") or ""}


_READ: dict[str, Callable[[Payload, Sequence[str]], Any]] = {
    "steps": lambda p, _: [_step(s) for s in p.get("steps") or []],
    "joins": lambda p, i: [_join(p, i, j) for j in p.get("joins") or []],
    "keys": lambda p, _: [k.get("column") if isinstance(k, dict) else k for k in p.get("keys") or []],
    # An aggregation with every function off computes nothing: DSS keeps such entries, the configuration does not.
    "aggregations": lambda p, _: [a for a in map(_aggregation, p.get("values") or []) if a["functions"]],
    "global_count": lambda p, _: p.get("globalCount", False),
    "windows": lambda p, _: [_window(w) for w in p.get("windows") or []],
    "orders": lambda p, _: [{"column": o.get("column"), "desc": bool(o.get("desc"))} for o in p.get("orders") or []],
}


# -- writing -----------------------------------------------------------------------------------------------------

def write_typed(rtype: str, payload: Payload, fields: dict[str, Any], inputs: Sequence[str]) -> None:
    """Write the typed fields into the payload just read (`inputs`: the main input refs, in DSS's order)."""
    for name in typed_fields(rtype):
        if name in fields:
            _WRITE[name](payload, fields[name], inputs)


def _old(payload: Payload, key: str, i: int) -> dict[str, Any]:
    items = payload.get(key) or []
    return dict(items[i]) if i < len(items) and isinstance(items[i], dict) else {}


def _dss_step(s: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    if "group" in s:
        out = {**old, "metaType": "GROUP", "name": s["group"], "disabled": bool(s.get("disabled")),
               "steps": [_dss_step(x, _old(old, "steps", i)) for i, x in enumerate(s.get("steps") or [])]}
        out.pop("type", None)
        return out
    if old.get("type") != s.get("type"):
        old = {}  # another processor at this place: nothing of the old one applies
    out = {**old, "metaType": "PROCESSOR", "type": s.get("type"), "params": s.get("params") or {},
           "disabled": bool(s.get("disabled"))}
    if s.get("comment"):
        out["comment"] = s["comment"]
    else:
        out.pop("comment", None)
    return out


def _write_steps(p: Payload, steps: list[Any], _: Sequence[str]) -> None:
    p["steps"] = [_dss_step(s, _old(p, "steps", i)) for i, s in enumerate(steps)]


def _virtual_input(p: Payload, inputs: Sequence[str], name: str) -> int:
    """The virtual input reading `name`, added when the recipe has none yet."""
    virtual = p.setdefault("virtualInputs", [])
    for n, v in enumerate(virtual):
        index = v.get("index")
        if isinstance(index, int) and 0 <= index < len(inputs) and inputs[index] == name:
            return n
    virtual.append({"index": list(inputs).index(name), "computedColumns": [], "preFilter": {"enabled": False}})
    return len(virtual) - 1


def _write_joins(p: Payload, joins: list[Any], inputs: Sequence[str]) -> None:
    out = []
    for i, j in enumerate(joins):
        t1, t2 = _virtual_input(p, inputs, j["left"]), _virtual_input(p, inputs, j["right"])
        on = [{"type": c.get("op", "EQ"), "column1": {"name": c["left"], "table": t1},
               "column2": {"name": c["right"], "table": t2}} for c in j.get("on") or []]
        out.append({**_old(p, "joins", i), "table1": t1, "table2": t2, "type": j.get("type", "LEFT"),
                    "conditionsMode": j.get("conditions_mode", "AND"), "on": on})
    p["joins"] = out


def _write_windows(p: Payload, windows: list[Any], _: Sequence[str]) -> None:
    out = []
    for i, w in enumerate(windows):
        frame = w.get("frame")
        out.append({**_old(p, "windows", i), "prefix": w.get("prefix", ""),
                    "partitioningColumns": list(w.get("partition_by") or []),
                    "enablePartitioning": bool(w.get("partition_by")),
                    "orders": [{"column": o["column"], "desc": bool(o.get("desc"))} for o in w.get("order_by") or []],
                    "enableOrdering": bool(w.get("order_by")), "enableLimits": frame is not None,
                    **({"limitsType": frame.get("type", "ROWS"), "lowerBound": frame.get("lower", 0),
                        "upperBound": frame.get("upper", 0)} if frame is not None else {})})
    p["windows"] = out


_WRITE: dict[str, Callable[[Payload, Any, Sequence[str]], None]] = {
    "steps": _write_steps,
    "joins": _write_joins,
    "keys": lambda p, keys, _: p.__setitem__("keys", [{"column": k} for k in keys]),
    "aggregations": lambda p, aggs, _: p.__setitem__("values", [
        {"column": a["column"], **a.get("options", {}), **dict.fromkeys(a["functions"], True)} for a in aggs]),
    "global_count": lambda p, on, _: p.__setitem__("globalCount", bool(on)),
    "windows": _write_windows,
    "orders": lambda p, orders, _: p.__setitem__("orders", [{"column": o["column"], "desc": bool(o.get("desc"))}
                                                            for o in orders]),
}
