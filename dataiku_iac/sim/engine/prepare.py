"""Prepare (shaker) recipes: a documented subset of DSS processors, each step one SQL statement on DuckDB.

A step of another type fails the recipe ("processor X is not executed by the simulator"): a prepare recipe
is never built with steps silently skipped. Disabled steps are skipped, as in DSS; GROUP steps run their steps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .storage import DataError
from .table import DUCK_TYPES, Session, literal, quote

Step = dict[str, Any]


def _columns(session: Session, table: str) -> list[str]:
    return [c["name"] for c in session.schema(table)]


def _targets(step: Step, available: list[str]) -> list[str]:
    params = step.get("params") or {}
    applies = params.get("appliesTo") or "SINGLE_COLUMN"
    if applies == "ALL":
        return list(available)
    if applies not in ("SINGLE_COLUMN", "COLUMNS"):
        raise DataError(f"Processor {step.get('type')}: appliesTo {applies} is not executed by the simulator")
    names = [str(c) for c in params.get("columns") or []] or ([str(params["column"])] if params.get("column") else [])
    missing = [c for c in names if c not in available]
    if missing:
        raise DataError(f"Processor {step.get('type')}: column {missing[0]} does not exist")
    if not names:
        raise DataError(f"Processor {step.get('type')} names no column")
    return names


def _select(available: list[str], replace: dict[str, str]) -> str:
    return ", ".join(f"{replace[c]} AS {quote(c)}" if c in replace else quote(c) for c in available)


def _normalised(expr: str, mode: str) -> str:
    if mode == "LOWERCASE":
        return f"lower({expr})"
    if mode == "NORMALIZED":  # case- and accent-insensitive
        return f"lower(strip_accents({expr}))"
    return expr


def _match(column: str, params: dict[str, Any]) -> str:
    """SQL: does this cell match the step's values (FULL_STRING, SUBSTRING or PATTERN matching)?"""
    mode = params.get("normalizationMode") or params.get("normalization") or "EXACT"
    cell = _normalised(f"CAST({quote(column)} AS VARCHAR)", mode)
    values = [str(v) for v in params.get("values") or []]
    matching = params.get("matchingMode") or params.get("matching") or "FULL_STRING"
    if not values:
        return "FALSE"
    if matching == "FULL_STRING":
        return f"{cell} IN ({', '.join(_normalised(literal(v), mode) for v in values)})"
    if matching == "SUBSTRING":
        return "(" + " OR ".join(f"contains({cell}, {_normalised(literal(v), mode)})" for v in values) + ")"
    if matching == "PATTERN":
        return "(" + " OR ".join(f"regexp_full_match({cell}, {literal(v)})" for v in values) + ")"
    raise DataError(f"Matching mode {matching} is not executed by the simulator")


def _row_filter(step: Step, targets: list[str], condition: Callable[[str], str]) -> tuple[str, str | None]:
    """(WHERE clause, None) for row actions, or (column condition template, cell action) for cell actions."""
    params = step.get("params") or {}
    action = params.get("action") or "REMOVE_ROW"
    join = " OR " if params.get("booleanMode") == "OR" else " AND "
    matched = "(" + join.join(f"COALESCE({condition(c)}, FALSE)" for c in targets) + ")"
    if action == "KEEP_ROW":
        return matched, None
    if action == "REMOVE_ROW":
        return f"NOT {matched}", None
    if action in ("CLEAR_CELL", "DONTCLEAR_CELL"):
        return "", action
    raise DataError(f"Processor {step.get('type')}: action {action} is not executed by the simulator")


def _filter(session: Session, src: str, dst: str, step: Step, condition: Callable[[str], str]) -> None:
    available = _columns(session, src)
    targets = _targets(step, available)
    where, cell_action = _row_filter(step, targets, condition)
    if cell_action is None:
        session.con.execute(f"CREATE TABLE {quote(dst)} AS SELECT * FROM {quote(src)} WHERE {where}")
        return
    clear_when = "" if cell_action == "CLEAR_CELL" else "NOT "
    replace = {c: f"CASE WHEN {clear_when}COALESCE({condition(c)}, FALSE) THEN NULL ELSE {quote(c)} END"
               for c in targets}
    session.con.execute(f"CREATE TABLE {quote(dst)} AS SELECT {_select(available, replace)} FROM {quote(src)}")


def _rename(session: Session, src: str, dst: str, step: Step) -> None:
    available = _columns(session, src)
    renamings = {str(r.get("from")): str(r.get("to")) for r in (step.get("params") or {}).get("renamings") or []}
    for old in renamings:
        if old not in available:
            raise DataError(f"Processor ColumnRenamer: column {old} does not exist")
    select = ", ".join(f"{quote(c)} AS {quote(renamings.get(c, c))}" for c in available)
    session.con.execute(f"CREATE TABLE {quote(dst)} AS SELECT {select} FROM {quote(src)}")


def _select_columns(session: Session, src: str, dst: str, step: Step) -> None:
    available = _columns(session, src)
    targets = _targets(step, available)
    keep = bool((step.get("params") or {}).get("keep"))
    kept = [c for c in (targets if keep else available) if keep or c not in targets]
    if not kept:
        raise DataError("Processor ColumnsSelector would remove every column")
    session.con.execute(f"CREATE TABLE {quote(dst)} AS SELECT {', '.join(quote(c) for c in kept)} FROM {quote(src)}")


def _copy(session: Session, src: str, dst: str, step: Step) -> None:
    params = step.get("params") or {}
    source, target = str(params.get("inputColumn") or ""), str(params.get("outputColumn") or "")
    available = _columns(session, src)
    if source not in available or not target:
        raise DataError(f"Processor ColumnCopier: column {source} does not exist")
    select = _select([c for c in available if c != target], {})
    session.con.execute(f"CREATE TABLE {quote(dst)} AS SELECT {select}, {quote(source)} AS {quote(target)} "
                        f"FROM {quote(src)}")


def _fill_empty(session: Session, src: str, dst: str, step: Step) -> None:
    available = _columns(session, src)
    value = (step.get("params") or {}).get("value")
    types = {c["name"]: c["type"] for c in session.schema(src)}
    replace = {}
    for c in _targets(step, available):
        filler = f"TRY_CAST({literal(value)} AS {_duck(types[c])})"
        replace[c] = f"COALESCE({quote(c)}, {filler})"
    session.con.execute(f"CREATE TABLE {quote(dst)} AS SELECT {_select(available, replace)} FROM {quote(src)}")


def _duck(dss: str) -> str:
    return DUCK_TYPES.get(dss, "VARCHAR")


def _remove_empty(session: Session, src: str, dst: str, step: Step) -> None:
    available = _columns(session, src)
    targets = _targets(step, available)
    keep = bool((step.get("params") or {}).get("keep"))
    join = " OR " if (step.get("params") or {}).get("booleanMode") == "OR" else " AND "
    empty = "(" + join.join(f"({quote(c)} IS NULL OR CAST({quote(c)} AS VARCHAR) = '')" for c in targets) + ")"
    where = empty if keep else f"NOT {empty}"
    session.con.execute(f"CREATE TABLE {quote(dst)} AS SELECT * FROM {quote(src)} WHERE {where}")


def _numeric_range(column: str, params: dict[str, Any]) -> str:
    cell = f"TRY_CAST({quote(column)} AS DOUBLE)"
    parts = []
    if params.get("min") is not None:
        parts.append(f"{cell} >= {literal(float(params['min']))}")
    if params.get("max") is not None:
        parts.append(f"{cell} <= {literal(float(params['max']))}")
    return "(" + " AND ".join(parts or [f"{cell} IS NOT NULL"]) + ")"


_STRING_MODES = {"TO_UPPER": "upper({c})", "TO_LOWER": "lower({c})", "TRIM": "trim({c})",
                 "NORMALIZE_WHITESPACE": "trim(regexp_replace({c}, '\\s+', ' ', 'g'))",
                 "CAPITALIZE": "upper({c}[1]) || lower({c}[2:])"}


def _string_transform(session: Session, src: str, dst: str, step: Step) -> None:
    available = _columns(session, src)
    mode = (step.get("params") or {}).get("mode") or ""
    if mode not in _STRING_MODES:
        raise DataError(f"Processor StringTransformer: mode {mode} is not executed by the simulator")
    replace = {c: _STRING_MODES[mode].format(c=f"CAST({quote(c)} AS VARCHAR)") for c in _targets(step, available)}
    session.con.execute(f"CREATE TABLE {quote(dst)} AS SELECT {_select(available, replace)} FROM {quote(src)}")


def _find_replace(session: Session, src: str, dst: str, step: Step) -> None:
    available = _columns(session, src)
    params = step.get("params") or {}
    if params.get("output"):
        raise DataError("Processor FindReplace: writing to another column is not executed by the simulator")
    matching = params.get("matching") or "SUBSTRING"
    replace = {}
    for c in _targets(step, available):
        expr = f"CAST({quote(c)} AS VARCHAR)"
        for pair in params.get("mapping") or []:
            old, new = literal(str(pair.get("from") or "")), literal(str(pair.get("to") or ""))
            if matching == "FULL_STRING":
                expr = f"CASE WHEN {expr} = {old} THEN {new} ELSE {expr} END"
            elif matching == "SUBSTRING":
                expr = f"replace({expr}, {old}, {new})"
            elif matching == "PATTERN":
                expr = f"regexp_replace({expr}, {old}, {new}, 'g')"
            else:
                raise DataError(f"Processor FindReplace: matching {matching} is not executed by the simulator")
        replace[c] = expr
    session.con.execute(f"CREATE TABLE {quote(dst)} AS SELECT {_select(available, replace)} FROM {quote(src)}")


PROCESSORS: dict[str, Callable[[Session, str, str, Step], None]] = {
    "ColumnRenamer": _rename,
    "ColumnsSelector": _select_columns,
    "ColumnCopier": _copy,
    "FillEmptyWithValue": _fill_empty,
    "RemoveRowsOnEmpty": _remove_empty,
    "FilterOnValue": lambda s, a, b, st: _filter(s, a, b, st, lambda c: _match(c, st.get("params") or {})),
    "FilterOnNumericalRange": lambda s, a, b, st: _filter(s, a, b, st,
                                                          lambda c: _numeric_range(c, st.get("params") or {})),
    "StringTransformer": _string_transform,
    "FindReplace": _find_replace,
}


def flatten(steps: list[Step]) -> list[Step]:
    """Enabled processor steps, GROUP steps unfolded."""
    out: list[Step] = []
    for step in steps:
        if not isinstance(step, dict) or step.get("disabled"):
            continue
        if step.get("metaType") == "GROUP":
            out += flatten(step.get("steps") or [])
        else:
            out.append(step)
    return out


def unsupported(steps: list[Step]) -> list[str]:
    return sorted({str(s.get("type")) for s in flatten(steps) if s.get("type") not in PROCESSORS})


def run(session: Session, source: str, steps: list[Step]) -> str:
    """Apply the steps to table `source`; return the name of the resulting table."""
    missing = unsupported(steps)
    if missing:
        raise DataError(f"Processor {missing[0]} is not executed by the simulator (NOT RUN)")
    current = source
    for i, step in enumerate(flatten(steps)):
        target = f"{source}__step{i}"
        PROCESSORS[str(step["type"])](session, current, target, step)
        current = target
    return current
