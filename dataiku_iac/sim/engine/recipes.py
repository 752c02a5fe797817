"""Visual recipes as SQL on DuckDB: sync, prepare (shaker), grouping, join, distinct, sort.

Inputs are loaded as tables `in0`, `in1`... in the recipe's input order; a recipe returns the table that
becomes its (first) output. Options the simulator does not execute (formula filters, computed columns,
unmatched-rows outputs...) fail the recipe with a message saying so ("NOT RUN"), never build something else.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from . import prepare
from .storage import DataError
from .table import Session, quote

VISUAL_TYPES = ("sync", "shaker", "grouping", "join", "distinct", "sort")
Payload = dict[str, Any]


def parse_payload(rtype: str, payload: str) -> Payload:
    try:
        parsed = json.loads(payload or "{}")
    except ValueError:
        raise DataError(f"The {rtype} recipe's payload is not valid JSON") from None
    return parsed if isinstance(parsed, dict) else {}


def _not_run(what: str) -> DataError:
    return DataError(f"{what} is not executed by the simulator (NOT RUN)")


def _no_filter(payload: Payload, *keys: str) -> None:
    for key in keys:
        if (payload.get(key) or {}).get("enabled"):
            raise _not_run(f"The recipe's {key}")


def _no_computed(payload: Payload) -> None:
    if payload.get("computedColumns"):
        raise _not_run("Computed columns")


def _sync(session: Session, inputs: list[str], payload: Payload) -> str:
    return inputs[0]


def _shaker(session: Session, inputs: list[str], payload: Payload) -> str:
    return prepare.run(session, inputs[0], list(payload.get("steps") or []))


# DSS names aggregate columns `<column>_<suffix>`.
_AGGREGATES = {"min": ("min", "MIN({c})"), "max": ("max", "MAX({c})"), "avg": ("avg", "AVG({c})"),
               "sum": ("sum", "SUM({c})"), "count": ("count", "COUNT({c})"),
               "countDistinct": ("distinct", "COUNT(DISTINCT {c})"), "stddev": ("stddev", "STDDEV_SAMP({c})"),
               "first": ("first", "FIRST({c})"), "last": ("last", "LAST({c})"), "mode": ("mode", "MODE({c})"),
               "concat": ("concat", "STRING_AGG(CAST({c} AS VARCHAR), ',')")}


def _grouping(session: Session, inputs: list[str], payload: Payload) -> str:
    _no_filter(payload, "preFilter", "postFilter")
    _no_computed(payload)
    keys = [str(k.get("column")) for k in payload.get("keys") or [] if k.get("column")]
    select = [quote(k) for k in keys]
    if payload.get("globalCount"):
        select.append("COUNT(*) AS count")
    for value in payload.get("values") or []:
        column = str(value.get("column") or "")
        for flag, (suffix, expr) in _AGGREGATES.items():
            if value.get(flag):
                select.append(f"{expr.format(c=quote(column))} AS {quote(f'{column}_{suffix}')}")
    if not select:
        raise DataError("The grouping recipe has no key and no aggregate")
    group = f" GROUP BY {', '.join(quote(k) for k in keys)}" if keys else ""
    session.con.execute(f"CREATE TABLE grouped AS SELECT {', '.join(select)} FROM {quote(inputs[0])}{group}")
    return "grouped"


_JOIN_TYPES = {"LEFT": "LEFT JOIN", "INNER": "INNER JOIN", "RIGHT": "RIGHT JOIN", "FULL": "FULL OUTER JOIN",
               "OUTER": "FULL OUTER JOIN", "CROSS": "CROSS JOIN"}
_CONDITIONS = {"EQ": "=", "NE": "<>", "LT": "<", "LTE": "<=", "GT": ">", "GTE": ">="}


def _selected(session: Session, table: str, vinput: Payload) -> list[tuple[str, str]]:
    """(column, output name) pairs a virtual input contributes."""
    available = [c["name"] for c in session.schema(table)]
    selection = vinput.get("columnsSelection") or {"mode": "ALL"}
    prefix = vinput.get("prefix") or ""
    if selection.get("mode", "ALL") == "ALL":
        pairs = [(c, c) for c in available]
    else:
        pairs = [(str(c["name"]), str(c.get("alias") or c["name"])) for c in selection.get("list") or []
                 if c.get("name") in available and c.get("selected", True)]
    return [(c, f"{prefix}_{out}" if prefix else out) for c, out in pairs]


def _join(session: Session, inputs: list[str], payload: Payload) -> str:
    _no_filter(payload, "postFilter")
    _no_computed(payload)
    vinputs = list(payload.get("virtualInputs") or [])
    joins = list(payload.get("joins") or [])
    if not vinputs or not joins:
        raise DataError("The join recipe has no join")
    for v in vinputs:
        _no_filter(v, "preFilter")
        if v.get("computedColumns"):
            raise _not_run("Pre-join computed columns")
    tables = [inputs[int(v.get("index", i))] for i, v in enumerate(vinputs)]
    sql = f"FROM {quote(tables[0])} AS t0"
    joined = {0}
    same_keys: set[tuple[int, str]] = set()  # right-hand EQ keys named as their left-hand column: output once
    for join in joins:
        left, right = int(join.get("table1", 0)), int(join.get("table2", 1))
        if left not in joined or right in joined:
            raise _not_run("A join that does not add one new input to the inputs already joined")
        kind = _JOIN_TYPES.get(str(join.get("type") or "LEFT"))
        if kind is None:
            raise _not_run(f"Join type {join.get('type')}")
        conditions = []
        for cond in join.get("on") or []:
            op = _CONDITIONS.get(str(cond.get("type") or "EQ"))
            if op is None:
                raise _not_run(f"Join condition {cond.get('type')}")
            c1, c2 = cond.get("column1") or {}, cond.get("column2") or {}
            t1, t2 = int(c1.get("table", left)), int(c2.get("table", right))
            conditions.append(f"t{t1}.{quote(str(c1.get('name')))} {op} t{t2}.{quote(str(c2.get('name')))}")
            if op == "=" and c1.get("name") == c2.get("name") and kind in ("LEFT JOIN", "INNER JOIN"):
                same_keys.add((t2, str(c2.get("name"))))
        if kind == "CROSS JOIN":
            sql += f" CROSS JOIN {quote(tables[right])} AS t{right}"
        else:
            if not conditions:
                raise DataError(f"Join {left} -> {right} has no condition")
            glue = " OR " if join.get("conditionsMode") == "OR" else " AND "
            sql += f" {kind} {quote(tables[right])} AS t{right} ON {glue.join(conditions)}"
        joined.add(right)
    select, names = [], set()
    for i, (table, vinput) in enumerate(zip(tables, vinputs, strict=True)):
        for column, out in _selected(session, table, vinput):
            if (i, column) in same_keys and out in names:
                continue
            if out in names:
                raise DataError(f"Join output would have two columns named {out}: deselect one, alias it or "
                                "give its input a prefix")
            names.add(out)
            select.append(f"t{i}.{quote(column)} AS {quote(out)}")
    session.con.execute(f"CREATE TABLE joined AS SELECT {', '.join(select)} {sql}")
    return "joined"


def _distinct(session: Session, inputs: list[str], payload: Payload) -> str:
    _no_filter(payload, "preFilter", "postFilter")
    keys = [str(k.get("column")) for k in payload.get("keys") or [] if k.get("column")]
    cols = ", ".join(quote(k) for k in keys) if keys else "*"
    count = ", COUNT(*) AS count" if payload.get("globalCount") else ""
    group = f" GROUP BY {cols}" if keys or count else ""
    if count and not keys:
        group = " GROUP BY ALL"
    distinct = "" if group else "DISTINCT "
    session.con.execute(f"CREATE TABLE deduped AS SELECT {distinct}{cols}{count} FROM {quote(inputs[0])}{group}")
    return "deduped"


def _sort(session: Session, inputs: list[str], payload: Payload) -> str:
    _no_filter(payload, "preFilter")
    _no_computed(payload)
    if payload.get("rowNumber") or payload.get("rank") or payload.get("denseRank"):
        raise _not_run("Sort recipe row numbers and ranks")
    orders = [f"{quote(str(o.get('column')))} {'DESC' if o.get('desc') else 'ASC'}"
              for o in payload.get("orders") or [] if o.get("column")]
    order = f" ORDER BY {', '.join(orders)}" if orders else ""
    session.con.execute(f"CREATE TABLE sorted AS SELECT * FROM {quote(inputs[0])}{order}")
    return "sorted"


RUNNERS: dict[str, Callable[[Session, list[str], Payload], str]] = {
    "sync": _sync, "shaker": _shaker, "grouping": _grouping, "join": _join, "distinct": _distinct, "sort": _sort,
}


def run_visual(session: Session, rtype: str, inputs: list[str], payload_text: str) -> str:
    if not inputs:
        raise DataError(f"The {rtype} recipe has no input")
    return RUNNERS[rtype](session, inputs, parse_payload(rtype, payload_text))
