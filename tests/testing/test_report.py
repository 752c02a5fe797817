"""The Markdown summary a pull request shows (`dss-iac test --markdown`): the verdict, each problem as one table
row at its place, the counts per suite, and the waived tests with their reasons."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dataiku_iac.cli.main import main
from dataiku_iac.testing.report import MD_LIMIT, render_markdown
from dataiku_iac.testing.results import ERROR, FAILED, PASSED, SKIPPED, STATUSES, WARNING, TestResult, TestRun
from tests.testing.test_static import FLAWED, _ws

UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def test_the_markdown_summary_of_a_failing_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _ws(tmp_path, FLAWED)
    assert main(["-C", str(tmp_path), "test", "--static", "--markdown"]) == 7
    out = capsys.readouterr().out.splitlines()
    assert out[:3] == ["### dss-iac test: static (no DSS call)", "",
                       "**❌ Tests failed: 3 passed, 1 failed, 0 errors, 1 warning, 1 skipped.**"]
    head = out.index("| | suite | test | where | message |")
    assert out[head + 2:head + 4] == [  # failures first
        "| ❌ | static | `flow.unbuilt-input recipe publish` | `projects/shop.yaml:15:34` | input 'staging' is managed "
        "but no recipe builds it: it stays empty (declare the recipe that writes it, or make it an external dataset) |",
        "| ⚠️ | static | `flow.orphan dataset leftover` | `projects/shop.yaml:5:3` | dataset 'leftover' is neither read "
        "nor written by any recipe |"]
    assert "| Static tests (no DSS call) | 3 | 1 | 0 | 1 | 1 |" in out
    assert "- `flow.orphan dataset archive`: waived: kept for the auditors until 2027" in out


def test_a_passing_run_says_so_without_a_problem_table() -> None:
    run = TestRun("dev", ("static", "data"), [TestResult("data", "orders.unique_id", "dataset.SHOP.orders", PASSED)])
    text = render_markdown(run)
    assert text.startswith("### dss-iac test: `dev`\n\n**✅ Tests passed: 1 passed, 0 failed, 0 errors, 0 warnings, "
                           "0 skipped.**\n")
    assert "| | suite | test | where | message |" not in text  # no problem table
    assert "| Static tests (no DSS call) | 0 | 0 | 0 | 0 | 0 |" in text and "| Data tests | 1 | 0 | 0 | 0 | 0 |" in text


@settings(max_examples=80, deadline=None)
@given(names=st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=5),
       messages=st.lists(st.text(max_size=60), min_size=1, max_size=5),
       status=st.sampled_from([FAILED, ERROR, WARNING]))
def test_every_problem_is_one_table_row_whatever_its_text(names: list[str], messages: list[str], status: str) -> None:
    """Pipes and line breaks in a name or message cannot split a row or add a column."""
    cases = [TestResult("data", n, "dataset.SHOP.orders", status, m) for n, m in zip(names, messages, strict=False)]
    lines = render_markdown(TestRun("dev", ("data",), cases)).splitlines()
    head = lines.index("| | suite | test | where | message |")
    rows = lines[head + 2:head + 2 + len(cases)]
    assert all(len(UNESCAPED_PIPE.findall(row)) == 6 for row in rows), rows
    assert lines[head + 2 + len(cases)] == ""  # the table ends after the last problem


def test_a_long_list_of_problems_is_cut_and_counted() -> None:
    cases = [TestResult("static", f"naming.dataset ds{i}", f"dataset.SHOP.ds{i}", FAILED, "bad name")
             for i in range(MD_LIMIT + 7)]
    text = render_markdown(TestRun(None, ("static",), cases))
    assert text.count("| ❌ |") == MD_LIMIT
    assert "…and 7 more: see the JUnit report." in text


def test_each_status_has_its_column_in_the_counts() -> None:
    cases = [TestResult("scenario", f"SHOP.s{i}", f"scenario.SHOP.s{i}", s) for i, s in enumerate(STATUSES)]
    text = render_markdown(TestRun("dev", ("scenario",), cases))
    assert "| suite | passed | failed | errors | warnings | skipped |" in text
    assert "| Test scenarios | 1 | 1 | 1 | 1 | 1 |" in text
    assert f"<details><summary>{sum(c.status == SKIPPED for c in cases)} skipped</summary>" in text
