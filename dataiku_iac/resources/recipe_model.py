"""The configuration of one recipe: the model a project file's `recipes:` entries are validated with.

Common settings are typed (prepare steps, join conditions, grouping keys and aggregations, window frames, sort
orders); the rest of a visual recipe's settings is the open map `settings`, in DSS's own keys. Which recipe
types exist, and which of these fields each has, is said here once (`TYPES`, `FIELDS_OF_TYPE`).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from ..config.models import Strict
from ..config.testing_models import WAIVERS_HELP, Waivers

# Visual recipes whose settings are a JSON payload (the key DSS and dataikuapi's settings classes use).
JSON_VISUAL = frozenset({"shaker", "join", "grouping", "window", "distinct", "sort", "topn", "vstack", "split",
                         "pivot", "upsert", "fuzzyjoin", "geojoin"})
# Visual recipes whose settings live in params only (payload empty).
PARAMS_VISUAL = frozenset({"sync", "sampling"})
# Code recipes: the payload is the script, kept in a file of the workspace (suffix by language).
CODE_SUFFIX = {"python": ".py", "r": ".R", "sql_script": ".sql", "sql_query": ".sql", "pyspark": ".py",
               "sparkr": ".R", "spark_scala": ".scala", "shell": ".sh", "spark_sql_query": ".sql", "hive": ".hql",
               "impala": ".sql", "cpython": ".py", "ksql": ".sql", "streaming_spark_scala": ".scala"}
CODE_RECIPES = frozenset(CODE_SUFFIX)
# Code recipes that run in a code env (DSS's params.envSelection).
ENV_TYPES = frozenset({"python", "r", "pyspark", "sparkr", "cpython"})
# Plugin recipes: DSS names their type `CustomCode_<plugin recipe id>`; their settings are params.customConfig.
PLUGIN_PREFIX = "CustomCode_"
# What a project file may call a type, when it is not DSS's own name for it.
ALIASES = {"prepare": "shaker", "stack": "vstack", "group": "grouping", "filter": "sampling"}
TYPES = JSON_VISUAL | PARAMS_VISUAL | CODE_RECIPES
_PLUGIN = re.compile(r"^CustomCode_[A-Za-z0-9_.-]+$")

# The typed fields of each type (beyond inputs, outputs, roles, params, tags, description): what the plan compares.
FIELDS_OF_TYPE: dict[str, tuple[str, ...]] = {
    "shaker": ("steps",),
    "join": ("joins",),
    "grouping": ("keys", "aggregations", "global_count"),
    "window": ("windows", "aggregations"),
    "distinct": ("keys",),
    "sort": ("orders",),
    "topn": ("keys", "orders"),
}
TYPED_FIELDS = ("steps", "joins", "keys", "aggregations", "global_count", "windows", "orders")
JOIN_TYPES = ("LEFT", "INNER", "RIGHT", "FULL", "CROSS", "ADVANCED", "LEFT_ANTI", "RIGHT_ANTI")
JOIN_OPERATORS = ("EQ", "NE", "LT", "LTE", "GT", "GTE", "WITHIN_RANGE", "K_NEAREST", "K_NEAREST_INFERIOR",
                  "CONTAINS", "STARTS_WITH")


def dss_type(name: str) -> str:
    """DSS's name of a recipe type (`prepare` -> `shaker`)."""
    return ALIASES.get(name, name)


def _known_type(value: str) -> str:
    if dss_type(value) in TYPES or _PLUGIN.match(value):
        return value
    raise ValueError(f"unknown recipe type '{value}': one of {', '.join(sorted(TYPES | set(ALIASES)))}, or "
                     f"{PLUGIN_PREFIX}<plugin recipe> for a plugin's recipe")


def is_plugin(rtype: str) -> bool:
    return rtype.startswith(PLUGIN_PREFIX)


RecipeType = Annotated[str, AfterValidator(_known_type)]
_SHOWN = {"shaker": "prepare"}  # how messages name a type
# The JSON Schema of `type`: what `_known_type` accepts.
_TYPE_SCHEMA: dict[str, Any] = {"anyOf": [{"enum": sorted(TYPES | set(ALIASES))}, {"pattern": _PLUGIN.pattern}]}


class PrepareStep(Strict):
    """One step of a prepare recipe's script: a processor with its params, or a group of steps."""

    type: str | None = Field(default=None, description="processor type (`ColumnRenamer`, `FillEmptyWithValue`...)"
                                                        "; leave out for a group")
    params: dict[str, Any] = Field(default_factory=dict, description="the processor's params, in DSS's keys")
    disabled: bool = Field(default=False, description="`true`: the step is kept but skipped")
    comment: str = Field(default="", description="the step's comment")
    group: str | None = Field(default=None, description="a group of steps: its name (then `steps`, not `type`)")
    steps: list[PrepareStep] | None = Field(default=None, description="a group's steps")

    @model_validator(mode="after")
    def _processor_or_group(self) -> PrepareStep:
        if self.type is None and self.group is None:
            raise ValueError("a prepare step needs `type` (its processor) or `group` (a group of steps)")
        if self.type is not None and self.group is not None:
            raise ValueError("a prepare step has `type` (a processor) or `group` (a group of steps), not both")
        if self.group is None and self.steps is not None:
            raise ValueError("`steps` belong to a group: set `group` instead of `type`")
        return self


class JoinCondition(Strict):
    """A condition of a join: a column of the left input against a column of the right one."""

    left: str = Field(description="column of the left input")
    right: str = Field(description="column of the right input")
    op: Literal[JOIN_OPERATORS] = Field(default="EQ", description="comparison")  # type: ignore[valid-type]


class Join(Strict):
    """A join between two inputs of a join recipe, named by their dataset names."""

    left: str = Field(description="input on the left (a name in `inputs`)")
    right: str = Field(description="input joined to it (a name in `inputs`)")
    type: Literal[JOIN_TYPES] = Field(default="LEFT", description="join type")  # type: ignore[valid-type]
    on: list[JoinCondition] = Field(default_factory=list, description="conditions (none for a cross join)")
    conditions_mode: Literal["AND", "OR", "CUSTOM"] = Field(default="AND", description="how the conditions combine")


class Aggregation(Strict):
    """The aggregations computed on one column (grouping and window recipes)."""

    column: str = Field(description="input column")
    functions: list[Annotated[str, Field(pattern=r"^[a-zA-Z][a-zA-Z0-9]*$")]] = Field(
        min_length=1, description="DSS's aggregation names: min, max, avg, sum, count, countDistinct, stddev, first, "
                                  "last, concat, mode; window recipes also value, lag, lead, rank...")
    options: dict[str, Any] = Field(default_factory=dict, description="other settings of the column, in DSS's keys "
                                                                      "(`type`, `concatSeparator`...)")


class SortKey(Strict):
    """A column to sort on."""

    column: str = Field(description="column name")
    desc: bool = Field(default=False, description="`true`: descending")


class Frame(Strict):
    """The bounds of a window frame, relative to the current row."""

    type: Literal["ROWS", "RANGE"] = Field(default="ROWS", description="bounds in rows or in values of the order "
                                                                       "column")
    lower: int = Field(default=0, description="start of the frame (negative: before the current row)")
    upper: int = Field(default=0, description="end of the frame")


class Window(Strict):
    """One window of a window recipe."""

    partition_by: list[str] = Field(default_factory=list, description="partitioning columns")
    order_by: list[SortKey] = Field(default_factory=list, description="ordering columns")
    frame: Frame | None = Field(default=None, description="the frame; unbounded when left out")
    prefix: str = Field(default="", description="prefix of the output columns of this window")


class Recipe(Strict):
    """A recipe: reads its inputs, writes its outputs. Visual recipes have typed settings (`steps`, `joins`,
    `keys`, `aggregations`, `windows`, `orders`) and the rest of their settings in `settings`; code recipes
    have their code in a file; plugin recipes (`CustomCode_*`) their settings in `config`."""

    type: RecipeType = Field(description="recipe type: a visual type (prepare, join, grouping, window, distinct, "
                                         "sort, topn, vstack, split, sampling, pivot, sync...), a code language "
                                         "(python, r, sql_query, sql_script, shell, pyspark, hive...) or "
                                         "`CustomCode_<recipe>` for a plugin's recipe",
                                   json_schema_extra=_TYPE_SCHEMA)
    inputs: list[str] = Field(description="dataset or folder names; `PROJECT.name` for another project's dataset "
                                          "or folder")
    outputs: list[str] = Field(min_length=1, description="datasets or folders of this project the recipe writes; "
                                                         "each has one writer only")
    roles: dict[str, str] = Field(default_factory=dict, description="input or output -> its role, for those not in "
                                                                    "role `main` (plugin recipes name their roles)")
    code: str | None = Field(default=None, description="code recipes: path of the code file, relative to this file")
    code_env: str | None = Field(default=None, description="python, r, pyspark, sparkr, cpython recipes: logical "
                                                                       "code env")
    steps: list[PrepareStep] | None = Field(default=None, description="prepare: the script's steps, in order")
    joins: list[Join] | None = Field(default=None, description="join: the joins, in order")
    keys: list[str] | None = Field(default=None, description="grouping, distinct, topn: key columns")
    aggregations: list[Aggregation] | None = Field(default=None, description="grouping, window: per-column "
                                                                             "aggregations")
    global_count: bool | None = Field(default=None, description="grouping: add a count of rows per group")
    windows: list[Window] | None = Field(default=None, description="window: the windows")
    orders: list[SortKey] | None = Field(default=None, description="sort, topn: sort columns, in order")
    settings: dict[str, Any] = Field(default_factory=dict, description="visual recipes: other settings, in DSS's "
                                                                       "payload keys (open map: only the keys set "
                                                                       "here are managed)")
    config: dict[str, Any] | None = Field(default=None, description="plugin recipes: the recipe's settings "
                                                                    "(DSS's `customConfig`; open map)")
    params: dict[str, Any] = Field(default_factory=dict, description="other recipe params, in DSS's keys (open map)")
    tags: list[str] = Field(default_factory=list, description="recipe tags")
    description: str = Field(default="", description="recipe description")
    waivers: Waivers = Field(default_factory=dict, description=WAIVERS_HELP)

    @model_validator(mode="after")
    def _fields_fit_the_type(self) -> Recipe:
        rtype = dss_type(self.type)
        allowed = FIELDS_OF_TYPE.get(rtype, ())
        for name in TYPED_FIELDS:
            if getattr(self, name) is not None and name not in allowed:
                where = ", ".join(_SHOWN.get(t, t) for t, f in FIELDS_OF_TYPE.items() if name in f)
                raise ValueError(f"`{name}` is for {where} recipes, not {self.type}")
        if self.settings and rtype not in JSON_VISUAL:
            raise ValueError(f"`settings` is for visual recipes; a {self.type} recipe keeps its settings in "
                             "`params`" + (" and `config`" if is_plugin(rtype) else ""))
        if self.config is not None and not is_plugin(rtype):
            raise ValueError("`config` is for plugin recipes (CustomCode_*)")
        return self
