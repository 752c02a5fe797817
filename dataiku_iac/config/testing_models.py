"""The configuration of tests: data tests declared on datasets (in the style of dbt's), waivers of static rules,
and the `tests:` section of dss-iac.yaml (the team's naming, tagging and description rules, Python rules of its
own, and scenarios run as tests). See docs/testing.md.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

RULE_ID = r"^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+$"  # flow.orphan, naming.dataset, team.parquet-only
TEST_NAME = r"^[A-Za-z0-9_]+$"
NAMED_KINDS = ("project", "dataset", "managed_folder", "recipe", "scenario", "zone")
KindName = Literal["project", "dataset", "managed_folder", "recipe", "scenario", "zone"]
Severity = Literal["error", "warning", "off"]
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(m|h|d)$")
_UNITS = {"m": 60.0, "h": 3600.0, "d": 86400.0}

Reason = Annotated[str, Field(pattern=r"\S")]  # not blank
Waivers = dict[Annotated[str, Field(pattern=RULE_ID)], Reason]
WAIVERS_HELP = ("static rules not applied to this object: rule id -> why (the reason is shown in every test "
                "report), e.g. `flow.orphan: kept for the auditors`")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def seconds(duration: str) -> float:
    """`30m`, `12h`, `2d` -> seconds."""
    found = _DURATION.match(duration)
    if found is None:
        raise ValueError(f"expected a duration such as 30m, 12h or 2d, got '{duration}'")
    return float(found.group(1)) * _UNITS[found.group(2)]


class Bounds(_Strict):
    """Hard bounds fail the test; soft ones (`warn_`) only warn. Each is optional; set at least one."""

    min: float | None = Field(default=None, description="fail below this value")
    max: float | None = Field(default=None, description="fail above this value")
    warn_min: float | None = Field(default=None, description="warn below this value")
    warn_max: float | None = Field(default=None, description="warn above this value")

    @model_validator(mode="after")
    def _some_bound(self) -> Bounds:
        if all(v is None for v in (self.min, self.max, self.warn_min, self.warn_max)):
            raise ValueError("set at least one of min, max, warn_min, warn_max")
        for low, high in (("min", "max"), ("warn_min", "warn_max"), ("min", "warn_max"), ("warn_min", "max")):
            lo, hi = getattr(self, low), getattr(self, high)
            if lo is not None and hi is not None and lo > hi:
                raise ValueError(f"{low} ({lo:g}) is above {high} ({hi:g})")
        return self


class RowCount(Bounds):
    """Bounds on the number of rows."""


class ColumnRange(Bounds):
    """Every value of a column within bounds (empty values are not checked)."""

    column: str = Field(description="the column whose values are checked")


class AcceptedValues(_Strict):
    """Every value of a column is one of these."""

    column: str = Field(description="the column whose values are checked")
    values: list[str | int | float | bool] = Field(min_length=1, description="the values allowed")


class Freshness(_Strict):
    """How old the newest data may be: the newest value of `column`, or the dataset's last build."""

    column: str | None = Field(default=None, description="a date column; omitted: the time of the last build")
    warn_after: str | None = Field(default=None, description="warn when older than this: 30m, 12h, 2d")
    error_after: str | None = Field(default=None, description="fail when older than this: 30m, 12h, 2d")

    @field_validator("warn_after", "error_after")
    @classmethod
    def _duration(cls, v: str | None) -> str | None:
        if v is not None:
            seconds(v)
        return v

    @model_validator(mode="after")
    def _some_limit(self) -> Freshness:
        if self.warn_after is None and self.error_after is None:
            raise ValueError("set warn_after, error_after or both")
        if self.warn_after and self.error_after and seconds(self.warn_after) > seconds(self.error_after):
            raise ValueError(f"warn_after ({self.warn_after}) is longer than error_after ({self.error_after})")
        return self


class SqlCheck(Bounds):
    """A SQL query on the dataset's connection; bounds on the first column of its first row. SQL datasets only."""

    query: str = Field(description="the query; `${table}` stands for the dataset's table")


class PythonCheck(_Strict):
    """A check written in Python, run by DSS as a custom data quality rule."""

    script: str = Field(description="Python code defining `process(last_values, dataset, partition_id)`, which "
                                    "returns `('OK' | 'WARNING' | 'ERROR', message)`")

    @field_validator("script")
    @classmethod
    def _defines_process(cls, v: str) -> str:
        if not re.search(r"^def process\(", v, re.MULTILINE):
            raise ValueError("the script must define `def process(last_values, dataset, partition_id):`")
        return v


TEST_TYPES = ("row_count", "not_null", "unique", "accepted_values", "range", "freshness", "sql", "python")


class DataTest(_Strict):
    """One data test of a dataset: exactly one of its test keys (row_count, not_null, ...). Applied as a DSS data
    quality rule on the dataset, run by `dss-iac test -e ENV` (and by DSS, in its Data Quality tab)."""

    name: str | None = Field(default=None, pattern=TEST_NAME,
                             description="the test's name, unique in the dataset; by default made from its type "
                                         "and column (`not_null_customer_id`)")
    description: str = Field(default="", description="what the test guards against, shown in reports")
    row_count: RowCount | None = Field(default=None, description="bounds on the number of rows")
    not_null: str | None = Field(default=None, description="a column that has no empty value")
    unique: str | None = Field(default=None, description="a column whose values are all different")
    accepted_values: AcceptedValues | None = Field(default=None, description="a column's values are in a list")
    range: ColumnRange | None = Field(default=None, description="a column's values are within bounds")
    freshness: Freshness | None = Field(default=None, description="the data is recent enough")
    sql: SqlCheck | None = Field(default=None, description="bounds on a SQL query's result")
    python: PythonCheck | None = Field(default=None, description="a check written in Python")

    @model_validator(mode="after")
    def _one_type(self) -> DataTest:
        given = [t for t in TEST_TYPES if getattr(self, t) is not None]
        if len(given) != 1:
            what = f"got {', '.join(given)}" if given else "got none"
            raise ValueError(f"a data test has exactly one of {', '.join(TEST_TYPES)} ({what})")
        return self

    @property
    def type(self) -> str:
        return next(t for t in TEST_TYPES if getattr(self, t) is not None)

    @property
    def column(self) -> str | None:
        spec: Any = getattr(self, self.type)
        return spec if isinstance(spec, str) else getattr(spec, "column", None)

    @property
    def test_name(self) -> str:
        if self.name:
            return self.name
        column = self.column
        return f"{self.type}_{column}" if column else self.type


class TestSettings(_Strict):
    """The `tests:` section of dss-iac.yaml: the team's rules for static tests, and scenarios run as tests."""

    __test__ = False  # not a pytest class

    scenarios: list[Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*\.[A-Za-z0-9_]+$")]] = Field(
        default_factory=list, description="scenarios `dss-iac test -e ENV` runs as tests besides those with "
                                          "`test: true`, as PROJECT.scenario")
    naming: dict[KindName, str] = Field(
        default_factory=dict, description="kind -> regular expression every name of that kind must match "
                                          "(`project`: the project key)")
    required_tags: dict[KindName, list[str]] = Field(
        default_factory=dict, description="kind -> tags every object of that kind must carry")
    required_descriptions: list[KindName] = Field(
        default_factory=list, description="kinds whose objects must have a description")
    custom_rules: list[str] = Field(
        default_factory=list, description="Python files, relative to the workspace, whose functions decorated "
                                          "with `@dataiku_iac.lint_rule(...)` check each project")
    severity: dict[Annotated[str, Field(pattern=RULE_ID)], Severity] = Field(
        default_factory=dict, description="rule id -> `error` (fails the tests), `warning` (reported only) or `off`")
    timeout: str = Field(default="1h", description="how long live tests (builds, scenario runs) may take in all, "
                                                   "as 30m, 2h...")

    @field_validator("naming")
    @classmethod
    def _patterns(cls, v: dict[str, str]) -> dict[str, str]:
        for kind, pattern in v.items():
            try:
                re.compile(pattern)
            except re.error as e:
                raise ValueError(f"naming pattern of {kind} is not a regular expression: {e}") from None
        return v

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, v: str) -> str:
        seconds(v)
        return v
