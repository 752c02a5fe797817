"""A test run as text for the terminal and as Markdown for pull requests. Problems are listed one by one; passing
cases are counted per suite (all listed with `verbose`)."""

from __future__ import annotations

from .results import ERROR, FAILED, PASSED, SKIPPED, WARNING, TestResult, TestRun

SUITE_TITLES = {"static": "Static tests (no DSS call)", "build": "Build", "data": "Data tests",
                "scenario": "Test scenarios"}
MARKS = {PASSED: "PASS", WARNING: "WARN", FAILED: "FAIL", ERROR: "ERROR", SKIPPED: "SKIP"}
_ICONS = {PASSED: "✅", WARNING: "⚠️", FAILED: "❌", ERROR: "💥", SKIPPED: "⏭️"}
MD_LIMIT = 60  # problems listed in a comment; the rest are counted


def _title(suite: str, run: TestRun) -> str:
    title = SUITE_TITLES.get(suite, suite)
    return title if suite == "static" or not run.environment else f"{title} on {run.environment}"


def _case_lines(r: TestResult) -> list[str]:
    where = f"  {r.location}" if r.location else ""
    lines = [f"  {MARKS[r.status]:<5} {r.name}{where}"]
    if r.message:
        lines.append(f"        {r.message}")
    lines.extend(f"        {d}" for d in r.details)
    return lines


def render_text(run: TestRun, *, verbose: bool = False) -> str:
    out: list[str] = []
    for suite, results in run.by_suite().items():
        out.append(f"{_title(suite, run)}:")
        shown = results if verbose else [r for r in results if r.status != PASSED]
        for r in shown:
            out.extend(_case_lines(r))
        passed = sum(r.status == PASSED for r in results)
        if not results:
            out.append("  (nothing to test)")
        elif not verbose and passed:
            out.append(f"  {MARKS[PASSED]:<5} {passed} test{'s' * (passed != 1)} passed")
        out.append("")
    verdict = "Tests passed" if run.ok else "Tests FAILED"
    out.append(f"{verdict}: {run.summary()} ({run.seconds:.1f}s).")
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    """Text that stays inside one table cell (or one list item): pipes escaped, line breaks of any kind spaces."""
    return " ".join(text.replace("|", "\\|").splitlines())


def render_markdown(run: TestRun) -> str:
    where = f"`{run.environment}`" if run.environment else "static (no DSS call)"
    out = [f"### dss-iac test: {where}", "",
           f"**{'✅ Tests passed' if run.ok else '❌ Tests failed'}: {run.summary()}.**", ""]
    order = (FAILED, ERROR, WARNING)  # failures first: what blocks the merge
    problems = sorted((r for r in run.results if r.status in order), key=lambda r: order.index(r.status))
    if problems:
        out += ["| | suite | test | where | message |", "|---|---|---|---|---|"]
        for r in problems[:MD_LIMIT]:
            place = f"`{r.location}`" if r.location else f"`{r.target}`"
            out.append(f"| {_ICONS[r.status]} | {r.suite} | `{_cell(r.name)}` | {place} | {_cell(r.message)} |")
        if len(problems) > MD_LIMIT:
            out.append(f"\n…and {len(problems) - MD_LIMIT} more: see the JUnit report.")
        out.append("")
    out += ["| suite | passed | failed | errors | warnings | skipped |", "|---|---|---|---|---|---|"]
    for suite, results in run.by_suite().items():
        counts = [sum(r.status == s for r in results) for s in (PASSED, FAILED, ERROR, WARNING, SKIPPED)]
        out.append(f"| {SUITE_TITLES.get(suite, suite)} | " + " | ".join(map(str, counts)) + " |")
    skipped = [r for r in run.results if r.status == SKIPPED]
    if skipped:
        out += ["", f"<details><summary>{len(skipped)} skipped</summary>", ""]  # waived, or not run: said why
        out += [f"- `{_cell(r.name)}`: {_cell(r.message)}" for r in skipped[:MD_LIMIT]]
        out += ["", "</details>"]
    return "\n".join(out) + "\n"
