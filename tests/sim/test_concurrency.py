"""Many parallel clients: every request answered, no object ever torn."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from hypothesis import given, settings
from hypothesis import strategies as st

from dataiku_iac.sim import Simulator


def test_parallel_whole_document_saves_never_tear_an_object() -> None:
    with Simulator(govern=False) as sim:
        project = sim.client().create_project("RACE", "race", "admin")

        def writer(i: int) -> dict:
            p = sim.client().get_project("RACE")
            doc = {"standard": {f"k{j}": i for j in range(20)}, "local": {"writer": i}}
            for _ in range(10):
                p.set_variables(doc)
            return doc

        with ThreadPoolExecutor(max_workers=16) as pool:
            docs = list(pool.map(writer, range(16)))
        final = project.get_variables()
        assert final in docs  # exactly one writer's whole document, never a mix
        assert project.get_summary()["versionTag"]["versionNumber"] == 160


def test_parallel_creates_with_the_same_key_create_exactly_one() -> None:
    with Simulator(govern=False) as sim:
        def create(_: int) -> bool:
            try:
                sim.client().create_project("ONCE", "once", "admin")
                return True
            except Exception:
                return False

        with ThreadPoolExecutor(max_workers=12) as pool:
            results = list(pool.map(create, range(12)))
        assert results.count(True) == 1
        assert sim.client().list_project_keys() == ["ONCE"]


@settings(max_examples=25, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=12), st.one_of(st.text(), st.integers(), st.booleans(),
                                                                   st.none(), st.lists(st.integers())), max_size=8))
def test_variables_round_trip_any_json(values: dict) -> None:
    with Simulator(govern=False, automation_nodes=()) as sim:
        p = sim.client().create_project("RT", "rt", "admin")
        p.set_variables({"standard": values, "local": {}})
        assert p.get_variables() == {"standard": values, "local": {}}
