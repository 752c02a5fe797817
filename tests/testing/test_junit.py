"""JUnit XML reports: valid against a JUnit schema of the shape CI tools read (tests/testing/junit.xsd), whatever
the messages hold, and read back by `dss-iac ci comment --junit-xml` with the same outcomes."""

from __future__ import annotations

from pathlib import Path

import xmlschema
from hypothesis import given, settings
from hypothesis import strategies as st

from dataiku_iac.ci.junit import read_junit
from dataiku_iac.testing.junit import render_junit
from dataiku_iac.testing.results import STATUSES, SUITES, TestResult, TestRun

SCHEMA = xmlschema.XMLSchema(str(Path(__file__).with_name("junit.xsd")))
# What ci comment's reader calls each status: a warning passes (JUnit has no warning outcome).
READ_AS = {"passed": "passed", "warning": "passed", "failed": "failed", "error": "error", "skipped": "skipped"}

results = st.builds(
    TestResult, suite=st.sampled_from(SUITES), name=st.text(min_size=1, max_size=40),
    target=st.from_regex(r"(dataset|scenario|project)\.[A-Z]{1,5}(\.[a-z_]{1,8})?", fullmatch=True),
    status=st.sampled_from(STATUSES), message=st.text(max_size=80),
    rule=st.none() | st.from_regex(r"[a-z]{1,6}\.[a-z-]{1,8}", fullmatch=True),
    location=st.none() | st.just("projects/shop.yaml:3:5"), seconds=st.floats(0, 1e4),
    details=st.lists(st.text(max_size=30), max_size=3).map(tuple))


@settings(max_examples=80, deadline=None)
@given(cases=st.lists(results, max_size=12), env=st.none() | st.sampled_from(["dev", "prod"]))
def test_every_report_is_valid_junit_and_reads_back(tmp_path_factory, cases: list[TestResult],
                                                    env: str | None) -> None:
    run = TestRun(env, SUITES, cases, seconds=1.5)
    xml = render_junit(run)
    SCHEMA.validate(xml)
    path = tmp_path_factory.mktemp("junit") / "report.xml"
    path.write_text(xml, encoding="utf-8")
    report = read_junit(path)
    assert [c.outcome for c in report.cases] == [READ_AS[r.status] for r in _in_report_order(run)]
    assert report.ok == run.ok


def _in_report_order(run: TestRun) -> list[TestResult]:
    """Cases are grouped by suite, then by project, in the order they first appear."""
    out: list[TestResult] = []
    for _, found in run.by_suite().items():
        groups: dict[str, list[TestResult]] = {}
        for r in found:
            groups.setdefault(r.target.split(".")[1], []).append(r)
        for group in groups.values():
            out += group
    return out


def test_a_failure_carries_its_message_place_and_details(tmp_path: Path) -> None:
    run = TestRun("dev", ("data", "scenario"), [
        TestResult("data", "orders.not_null_id", "dataset.SHOP.orders", "failed", "3 empty values <id>", "not_null",
                   "projects/shop.yaml:9:9"),
        TestResult("scenario", "SHOP.smoke", "scenario.SHOP.smoke", "warning", "WARNING in 2.0s", None, None, 2.0,
                   ("step 'Build orders': WARNING",)),
        TestResult("static", "flow.orphan dataset old", "dataset.SHOP.old", "skipped", "waived: audits", "flow.orphan"),
    ])
    xml = render_junit(run)
    SCHEMA.validate(xml)
    assert '<failure type="not_null" message="3 empty values &lt;id&gt;">at projects/shop.yaml:9:9</failure>' in xml
    assert "<system-out>warning: WARNING in 2.0s\nstep 'Build orders': WARNING</system-out>" in xml
    assert '<skipped message="waived: audits" />' in xml
    (tmp_path / "r.xml").write_text(xml)
    report = read_junit(tmp_path / "r.xml")
    assert (report.count("failed"), report.count("passed"), report.count("skipped")) == (1, 1, 1)
    assert next(c.name for c in report.cases if c.outcome == "failed") == "data.dataset.SHOP.orders.orders.not_null_id"
