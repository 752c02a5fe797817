"""`promote --verify`: the plan lists the tests, they run on the target after the update, and a failure rolls every
deployed project back to the bundle it ran before (exit 7)."""

from __future__ import annotations

import json

import pytest

from .conftest import CHURN, Promo
from .test_promote import bundle_of, change_project, promoted

# A data test prod cannot pass: the managed `customers` holds no rows there (nothing was built on prod).
WITH_TEST = CHURN.replace("  customers: {type: Filesystem, managed: true, connection: files, format: csv}\n",
                          "  customers:\n    type: Filesystem\n    managed: true\n    connection: files\n"
                          "    format: csv\n    tests:\n      - row_count: {min: 1}\n")


def test_verify_passes_without_tests_and_says_none_are_declared(promo: Promo,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    promo.apply_dev()
    capsys.readouterr()
    assert promo.run("promote", "--from", "dev", "--to", "prod", "--verify", "--yes") == 0
    out = capsys.readouterr().out
    assert "    tests after the update: none declared (test: true scenarios, data tests)" in out
    assert "Test scenarios on prod:\n  (nothing to test)" in out
    assert "Promotion complete! 1 project(s) deployed to prod" in out


def test_a_failing_test_rolls_the_deployment_back(promo: Promo, capsys: pytest.CaptureFixture[str]) -> None:
    """The test that must fail, and does: the new bundle's data test fails on prod, which goes back to the first."""
    promo.apply_dev()
    first = promoted(promo)
    second = change_project(promo, WITH_TEST)
    capsys.readouterr()

    assert promo.run("promote", "--from", "dev", "--to", "prod", "--verify", "--json") == 6
    plan = json.loads(capsys.readouterr().out)["plan"]
    assert plan["verify"] is True and plan["projects"][0]["tests"] == ["data tests of CHURN.customers (row_count)"]

    assert promo.run("promote", "--from", "dev", "--to", "prod", "--verify", "--yes") == 7
    captured = capsys.readouterr()
    assert f"    tests after the update (a failure rolls back to bundle {first}):" in captured.out
    assert "      - data tests of CHURN.customers (row_count)" in captured.out
    assert "  FAIL  customers.row_count" in captured.out or "  ERROR customers.row_count" in captured.out
    error = captured.err.strip().splitlines()[-1]
    assert error == (f"error: tests failed on prod after deploying bundle {second} (customers.row_count); "
                     f"rolled CHURN back to bundle {first}")
    assert promo.active_bundle() == first
    deployment = promo.deployer.get_deployment("churn-prod")
    assert deployment.get_settings().get_raw()["bundleId"] == first
    assert bundle_of(promo) == second  # the commit's bundle stays published, to promote once fixed
