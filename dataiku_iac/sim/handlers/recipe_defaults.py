"""What DSS gives a recipe it creates: the JSON payload of a visual recipe and the params of each type.

Read off the keys `dataikuapi`'s settings classes read and write (recipe.py: GroupingRecipeSettings,
JoinRecipeSettings, StackRecipeSettings, SortRecipeSettings, SplitRecipeSettings, PrepareRecipeSettings...)
and the shapes of recipes exported from DSS. GUESS where no helper reads a key: the other defaults below
(window frames, top-N counts, sampling selection) follow DSS's creation screens; see docs/simulator.md.
"""

from __future__ import annotations

import copy
from typing import Any

# Recipe types whose payload is a script (project.new_recipe -> CodeRecipeCreator, plus SQL query).
CODE_TYPES = frozenset({"python", "r", "sql_script", "pyspark", "sparkr", "spark_scala", "shell", "spark_sql_query",
                        "cpython", "ksql", "streaming_spark_scala", "sql_query", "hive", "impala"})
# Code recipes that run in a code env (CodeRecipeSettings.set_code_env needs params.envSelection).
ENV_TYPES = frozenset({"python", "r", "pyspark", "sparkr", "cpython"})
# Plugin recipes: DSS names their type after the plugin's recipe; their settings live in params.customConfig.
PLUGIN_PREFIX = "CustomCode_"

_NO_FILTER: dict[str, Any] = {"enabled": False}
_ENGINE: dict[str, Any] = {"engineParams": {}}


def _window() -> dict[str, Any]:
    # One window over the whole input, unordered and unbounded: DSS's "Window definitions" before any edit.
    return {"prefix": "", "partitioningColumns": [], "enablePartitioning": False, "orders": [],
            "enableOrdering": False, "enableLimits": False, "limitsType": "ROWS", "lowerBound": 0, "upperBound": 0}


# The payload of each visual type as DSS creates it, before the input count and creation settings are applied.
_PAYLOADS: dict[str, dict[str, Any]] = {
    "grouping": {"keys": [], "values": [], "globalCount": False, "computedColumns": [],
                 "preFilter": _NO_FILTER, "postFilter": _NO_FILTER, "enginesPreferences": {}},
    "upsert": {"keys": [], "computedColumns": []},
    "window": {"windows": [_window()], "values": [], "computedColumns": [], "preFilter": _NO_FILTER,
               "postFilter": _NO_FILTER},
    "distinct": {"keys": [], "globalCount": False, "computedColumns": [], "preFilter": _NO_FILTER,
                 "postFilter": _NO_FILTER},
    "sort": {"orders": [], "rowNumber": False, "rank": False, "denseRank": False, "computedColumns": [],
             "preFilter": _NO_FILTER},
    "topn": {"firstRows": 10, "lastRows": 0, "keys": [], "orders": [], "retrievedColumns": [], "rowNumber": False,
             "rank": False, "denseRank": False, "duplicateCount": False, "computedColumns": [],
             "preFilter": _NO_FILTER},
    "pivot": {"pivots": [], "explicitIdentifiers": [], "identifierColumnsSelection": "EXPLICIT", "otherColumns": [],
              "computedColumns": [], "preFilter": _NO_FILTER},
    # A new split recipe has no mode yet: SplitRecipeSettings.split_mode raises "Split mode not set yet".
    "split": {"filterSplits": [], "defaultOutputIndex": -1, "computedColumns": [], "preFilter": _NO_FILTER},
    "shaker": {"steps": [], "columnsSelection": {"mode": "ALL"}, "sorting": [], "origin": "PREPARE_RECIPE",
               "maxProcessedMemTableBytes": -1, "previewMode": "ALL_ROWS", "columnWidthsByName": {}},
    "vstack": {"mode": "UNION", "selectedColumns": [], "computedColumns": [], "postFilter": _NO_FILTER,
               "addOriginColumn": False, "originColumnName": "original_dataset", "originColumnMapping": []},
    "join": {"joins": [], "computedColumns": [], "postFilter": _NO_FILTER, "selectedColumns": []},
}
for _alias in ("fuzzyjoin", "geojoin"):
    _PAYLOADS[_alias] = _PAYLOADS["join"]

# Params of each type as DSS creates them; every recipe also gets RECIPE_DEFAULTS["params"] ({}).
_PARAMS: dict[str, dict[str, Any]] = {
    "sync": {"schemaMode": "STRICT_SYNC", "forceSchemaUpdate": False, **_ENGINE},
    "sampling": {"selection": {"samplingMethod": "FULL", "partitionSelectionMethod": "ALL", "maxRecords": 100000,
                               "targetRatio": 0.02, "filter": _NO_FILTER}, **_ENGINE},
    **{t: dict(_ENGINE) for t in ("grouping", "window", "distinct", "sort", "topn", "pivot", "split", "shaker",
                                   "vstack", "join", "upsert", "fuzzyjoin", "geojoin")},
}
_ENV_PARAMS: dict[str, Any] = {"envSelection": {"envMode": "INHERIT"},
                               "containerSelection": {"containerMode": "INHERIT"}}


def visual_payload(rtype: str, creation: dict[str, Any], n_inputs: int) -> dict[str, Any]:
    """The JSON payload of a new visual recipe (empty for types whose settings live in params)."""
    payload = copy.deepcopy(_PAYLOADS.get(rtype, {}))
    if rtype in ("grouping", "upsert"):
        key = creation.get("groupKey" if rtype == "grouping" else "upsertKey")
        payload["keys"] = [{"column": key}] if key else []
    elif rtype in ("join", "fuzzyjoin", "geojoin"):
        # DSS guesses join conditions from column names; without data the joins start with none.
        payload["virtualInputs"] = [{"index": i, "computedColumns": [], "preFilter": dict(_NO_FILTER)}
                                    for i in range(n_inputs)]
        payload["joins"] = [{"conditionsMode": "AND", "on": [], "table1": 0, "table2": i, "type": "LEFT",
                             "outerJoinOnTheLeft": True, "rightLimit": {}} for i in range(1, n_inputs)]
    elif rtype == "vstack":
        payload["virtualInputs"] = [{"index": i, "columnsMatch": [], "preFilter": dict(_NO_FILTER)}
                                    for i in range(n_inputs)]
    return payload


def initial_params(rtype: str) -> dict[str, Any]:
    """The params DSS gives a new recipe of this type (plugin recipes: an empty customConfig)."""
    if rtype in ENV_TYPES:
        return copy.deepcopy(_ENV_PARAMS)
    if rtype.startswith(PLUGIN_PREFIX):
        return {"customConfig": {}, "containerSelection": {"containerMode": "INHERIT"}}
    return copy.deepcopy(_PARAMS.get(rtype, {}))


def modelled_types() -> list[str]:
    """Every recipe type the simulator gives DSS's defaults to (code types take a script, not defaults)."""
    return sorted({*_PAYLOADS, *_PARAMS, *CODE_TYPES})
