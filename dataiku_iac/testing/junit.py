"""A test run as JUnit XML, the report format CI tools read (Jenkins, GitLab, GitHub test reporters, and
`dss-iac ci comment --junit-xml`).

One `<testsuite>` per suite and project (`static.CHURN`, `data.CHURN`...), one `<testcase>` per result:
failed -> `<failure>`, error -> `<error>`, skipped (waived) -> `<skipped>`; a warning passes, its message in
`<system-out>` (JUnit has no warning outcome). `classname` is the suite and target, so reporters group by
object. The shape follows the schema Jenkins' xUnit plugin and Maven Surefire validate against (junit-10.xsd);
tests/testing/test_junit.py validates every report against such a schema.
"""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from .results import ERROR, FAILED, SKIPPED, WARNING, TestResult, TestRun

SUITE_PREFIX = "dss-iac"
# Characters XML 1.0 cannot carry at all (a DSS log line may hold them): dropped.
_NOT_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _x(text: str) -> str:
    return _NOT_XML.sub("", text)


def _groups(run: TestRun) -> list[tuple[str, list[TestResult]]]:
    groups: dict[str, list[TestResult]] = {}
    for suite, results in run.by_suite().items():
        for r in results:
            project = r.target.split(".")[1] if r.target.count(".") >= 1 else r.target
            groups.setdefault(f"{suite}.{project}", []).append(r)
        if not results:
            groups.setdefault(suite, [])
    return list(groups.items())


def _time(seconds: float) -> str:
    return f"{max(seconds, 0.0):.3f}"


def _suite(name: str, results: Sequence[TestResult], run: TestRun) -> ET.Element:
    def count(*statuses: str) -> str:
        return str(sum(r.status in statuses for r in results))

    attrs = {"name": _x(f"{SUITE_PREFIX}.{name}"), "tests": str(len(results)), "failures": count(FAILED),
             "errors": count(ERROR), "skipped": count(SKIPPED), "time": _time(sum(r.seconds for r in results))}
    if run.started_at:
        attrs["timestamp"] = run.started_at.replace("+00:00", "")
    attrs["hostname"] = socket.gethostname() or "localhost"
    suite = ET.Element("testsuite", attrs)
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", {"name": "environment", "value": run.environment or "(static)"})
    for r in results:
        case = ET.SubElement(suite, "testcase", {"name": _x(r.name), "classname": _x(f"{r.suite}.{r.target}"),
                                                 "time": _time(r.seconds)})
        body = _x("\n".join(x for x in (r.location and f"at {r.location}", *r.details) if x))
        if r.status in (FAILED, ERROR):
            tag = "failure" if r.status == FAILED else "error"
            ET.SubElement(case, tag, {"type": _x(r.rule or r.suite), "message": _x(r.message)}).text = body or None
        elif r.status == SKIPPED:
            ET.SubElement(case, "skipped", {"message": _x(r.message)})
        if r.status == WARNING or (r.status not in (FAILED, ERROR) and r.details):
            out = "\n".join(x for x in (f"warning: {r.message}" if r.status == WARNING else "",
                                        r.location and f"at {r.location}", *r.details) if x)
            ET.SubElement(case, "system-out").text = _x(out)
    return suite


def render_junit(run: TestRun) -> str:
    root = ET.Element("testsuites", {"name": SUITE_PREFIX + (f" {run.environment}" if run.environment else ""),
                                     "tests": str(len(run.results)),
                                     "failures": str(run.counts()[FAILED]), "errors": str(run.counts()[ERROR]),
                                     "time": _time(run.seconds)})
    for name, results in _groups(run):
        root.append(_suite(name, results, run))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
