"""docs/simulator.md's table of what the simulator executes names and counts exactly what the code executes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dataiku_iac.sim.engine.checks import RULE_TYPES
from dataiku_iac.sim.engine.metrics import COMPUTED_PROBES
from dataiku_iac.sim.engine.prepare import PROCESSORS
from dataiku_iac.sim.handlers.job_runner import BUILT_TYPES, JOB_TYPES
from dataiku_iac.sim.handlers.scenario_runs import EXECUTED_STEPS

DOC = Path(__file__).resolve().parents[2] / "docs" / "simulator.md"
SHORTHAND = re.compile(r"`Column((?:\w+/)+\w+)InRangeRule`")


def executed_cell(area: str) -> tuple[int, str]:
    """The count in the row's area cell and its 'executed' cell, shorthands such as ColumnMin/MaxInRangeRule
    spelled out."""
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith(area + " ("):
            count = int(re.search(r"\((\d+)", cells[0]).group(1))  # type: ignore[union-attr]
            text = SHORTHAND.sub(lambda m: " ".join(f"`Column{x}InRangeRule`" for x in m.group(1).split("/")),
                                 cells[1])
            return count, text
    raise AssertionError(f"no row for {area} in {DOC}")


@pytest.mark.parametrize(("area", "names"), [
    ("metrics", COMPUTED_PROBES),
    ("data quality rules", RULE_TYPES),
    ("recipes", BUILT_TYPES),
    ("prepare processors", tuple(PROCESSORS)),
    ("jobs", JOB_TYPES),
    ("scenario steps", EXECUTED_STEPS),
])
def test_doc_lists_what_is_executed(area: str, names: tuple[str, ...]) -> None:
    count, text = executed_cell(area)
    assert count == len(names)  # the metrics row counts probe types first
    missing = [n for n in names if f"`{n}" not in text]
    assert not missing, f"docs/simulator.md does not list {missing} under {area}"
