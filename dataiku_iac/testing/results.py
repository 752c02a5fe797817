"""Test results as plain data: one `TestResult` per test case, a `TestRun` for one `dss-iac test`, saved under
`.dss-iac/test-results/` so that the terminal app and the workbench can show the last run of each environment.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import DssIacError

RESULTS_FORMAT_VERSION = 1
RESULTS_DIR = Path(".dss-iac") / "test-results"
STATIC_RUN = "static"  # the file name of a run without an environment

PASSED, WARNING, FAILED, ERROR, SKIPPED = "passed", "warning", "failed", "error", "skipped"
STATUSES = (PASSED, WARNING, FAILED, ERROR, SKIPPED)
# What each suite tests: static rules (no DSS call), data tests, scenarios run as tests, builds of the flow.
SUITES = ("static", "build", "data", "scenario")


@dataclass(frozen=True)
class TestResult:
    """One test case. `status`: passed, warning (passed, with something to look at), failed (the test found a
    problem), error (the test could not run), skipped (waived, or not run: `message` says why)."""

    __test__ = False  # not a pytest class

    suite: str
    name: str
    target: str  # the address it is about: dataset.CHURN.customers, scenario.CHURN.smoke, project.CHURN
    status: str
    message: str = ""
    rule: str | None = None  # static: the rule id; data: the test type
    location: str | None = None  # file:line:col of what it is about
    seconds: float = 0.0
    details: tuple[str, ...] = ()  # step outcomes of a scenario run, the end of a failed job's log...

    @property
    def ok(self) -> bool:
        return self.status not in (FAILED, ERROR)

    def to_dict(self) -> dict[str, Any]:
        return {"suite": self.suite, "name": self.name, "target": self.target, "status": self.status,
                "message": self.message, "rule": self.rule, "location": self.location,
                "seconds": round(self.seconds, 3), "details": list(self.details)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TestResult:
        return cls(str(d["suite"]), str(d["name"]), str(d["target"]), str(d["status"]), str(d.get("message") or ""),
                   d.get("rule"), d.get("location"), float(d.get("seconds") or 0.0),
                   tuple(str(x) for x in d.get("details") or ()))


@dataclass
class TestRun:
    """What one `dss-iac test` did: the suites it ran and every test case's result."""

    __test__ = False

    environment: str | None  # None: static tests only, no DSS
    suites: tuple[str, ...]
    results: list[TestResult] = field(default_factory=list)
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    seconds: float = 0.0
    format_version: int = RESULTS_FORMAT_VERSION

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def counts(self) -> dict[str, int]:
        found = Counter(r.status for r in self.results)
        return {s: found.get(s, 0) for s in STATUSES}

    def by_suite(self) -> dict[str, list[TestResult]]:
        out: dict[str, list[TestResult]] = {}
        for suite in (*SUITES, *sorted({r.suite for r in self.results} - set(SUITES))):
            found = [r for r in self.results if r.suite == suite]
            if found or suite in self.suites:
                out[suite] = found
        return out

    @property
    def failures(self) -> list[TestResult]:
        return [r for r in self.results if not r.ok]

    def summary(self) -> str:
        """`12 passed, 1 warning, 2 failed, 0 errors, 1 skipped`: the closing line of every report."""
        c = self.counts()
        return (f"{c[PASSED]} passed, {c[FAILED]} failed, {c[ERROR]} error{'s' * (c[ERROR] != 1)}, "
                f"{c[WARNING]} warning{'s' * (c[WARNING] != 1)}, {c[SKIPPED]} skipped")

    def extend(self, results: Iterable[TestResult]) -> None:
        self.results.extend(results)

    def to_dict(self) -> dict[str, Any]:
        return {"format_version": self.format_version, "environment": self.environment, "suites": list(self.suites),
                "started_at": self.started_at, "seconds": round(self.seconds, 3), "ok": self.ok,
                "summary": self.counts(), "results": [r.to_dict() for r in self.results]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TestRun:
        if d.get("format_version") != RESULTS_FORMAT_VERSION:
            raise DssIacError(f"test results of format {d.get('format_version')} are not readable by this version "
                              f"(it reads format {RESULTS_FORMAT_VERSION})")
        return cls(d.get("environment"), tuple(d.get("suites") or ()),
                   [TestResult.from_dict(r) for r in d.get("results") or []], str(d.get("started_at") or ""),
                   float(d.get("seconds") or 0.0))


def with_status(result: TestResult, status: str, message: str) -> TestResult:
    return replace(result, status=status, message=message)


def results_path(root: Path, environment: str | None) -> Path:
    return root / RESULTS_DIR / f"{environment or STATIC_RUN}.json"


def save_run(root: Path, run: TestRun) -> Path:
    """Keep the run as the last one of its environment (what the terminal app and the workbench show)."""
    from .._fs import atomic_write
    from ..secrets import redact

    path = results_path(root, run.environment)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, redact(run.to_json()).encode())
    return path


def load_run(root: Path, environment: str | None) -> TestRun | None:
    """The last run saved for `environment` (None: the last static run), or None when there is none."""
    path = results_path(root, environment)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise DssIacError(f"cannot read the last test results ({path.name}): {e}") from None
    return TestRun.from_dict(data)
