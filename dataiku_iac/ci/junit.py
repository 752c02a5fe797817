"""JUnit XML test reports (pytest's `--junit-xml`, and `dss-iac test --junit-xml` once it exists), read for the
pull-request comment: how many tests passed, failed, errored or were skipped, and which failed."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from ..errors import DssIacError

OUTCOMES = ("failed", "error", "skipped")  # the child element of a <testcase> that says so ("failure" -> failed)


@dataclass(frozen=True)
class TestCase:
    name: str
    outcome: str  # passed | failed | error | skipped
    message: str = ""


@dataclass(frozen=True)
class TestReport:
    file: str
    cases: tuple[TestCase, ...]

    def count(self, outcome: str) -> int:
        return sum(c.outcome == outcome for c in self.cases)

    @property
    def ok(self) -> bool:
        return not (self.count("failed") or self.count("error"))


def read_junit(path: Path, shown: str | None = None) -> TestReport:
    """The test cases of a JUnit XML file; a file that is not one is a one-line error with its place."""
    shown = shown or str(path)
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        line, col = e.position
        raise DssIacError(f"{shown}:{line}:{col + 1}: not a JUnit XML report: {_reason(e)}") from None
    if root.tag not in ("testsuites", "testsuite"):
        raise DssIacError(f"{shown}: not a JUnit XML report: its root element is <{root.tag}>, expected <testsuites> "
                          "or <testsuite>")
    return TestReport(shown, tuple(_case(c) for c in root.iter("testcase")))


def _case(element: ET.Element) -> TestCase:
    name = element.get("name", "?")
    classname = element.get("classname")
    full = f"{classname}.{name}" if classname else name
    for child in element:
        outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}.get(child.tag)
        if outcome:
            text = child.get("message") or (child.text or "").strip()
            return TestCase(full, outcome, text.splitlines()[0] if text else "")
    return TestCase(full, "passed")


def _reason(e: ET.ParseError) -> str:
    return str(e).split(":")[0]  # expat's words, without its own "line 1, column 2"
