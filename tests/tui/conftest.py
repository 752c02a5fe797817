"""Workspaces for the terminal app's tests, and Pilot helpers that wait for the app's thread workers."""

from __future__ import annotations

import asyncio
import difflib
import functools
import html
import pickle
import re
import shutil
import socket
from collections.abc import Callable, Coroutine, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from dataiku_iac.tui import view
from pytest_textual_snapshot import node_to_report_path
from textual.pilot import Pilot

from dataiku_iac import Workspace

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "simple-project"
LONG = "Edited in the DSS UI, " * 8
SHOWN_SERIAL = 11


def copy_example(dest: Path) -> Path:
    """examples/simple-project in `dest/simple-project` (a fixed name: it shows in the app's title)."""
    root = dest / "simple-project"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".dss-iac", "__pycache__"))
    return root


def copy_multi_env(dest: Path) -> Path:
    """examples/multi-env in `dest/multi-env`: dev applies directly, staging and prod receive it by bundle."""
    root = dest / "multi-env"
    shutil.copytree(ROOT / "examples" / "multi-env", root, ignore=shutil.ignore_patterns(".dss-iac", "__pycache__"))
    return root


def ready_to_promote(root: Path) -> None:
    """dev applied, and the instance files of staging and prod applied (their connections: what promote would
    apply first), so that the promotion screens show the bundles alone."""
    with Workspace.load(root) as ws:
        assert ws.apply(ws.plan("dev")).ok
        for env in ("staging", "prod"):
            plan = ws.plan(env, targets=ws.instance_addresses(env), check_instance=False)
            assert ws.apply(plan, approved=True).ok  # the platform team's own sign-off, not the bundles'



@pytest.fixture
def simple_ws(tmp_path: Path) -> Path:
    return copy_example(tmp_path)


@pytest.fixture
def applied_ws(simple_ws: Path) -> Iterator[Path]:
    """The example, applied to its embedded DSS (closed again: the app opens it itself), its state's serial (shown
    on screen) the same every run."""
    with Workspace.load(simple_ws) as ws:
        result = ws.apply(ws.plan("dev"), parallelism=1)
        assert result.ok, [(r.address, r.error) for r in result.failed]
        # How many times an apply writes the state depends on timing (writes coalesce, about one a second at most):
        # the state is stored once more under a fixed serial, the one the screens show.
        store = ws.state_store("dev")
        state = store.load()
        state.serial = SHOWN_SERIAL
        store.commit(state, "apply")
    yield simple_ws


@pytest.fixture
def alice(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs and locks are made by alice@laptop (user names show on screen)."""
    monkeypatch.setenv("LOGNAME", "alice")
    monkeypatch.setenv("USER", "alice")
    monkeypatch.setattr(socket, "gethostname", lambda: "laptop")


@pytest.fixture
def drifted_ws(alice: None, applied_ws: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The applied example with two hand edits in DSS (one of them long) and the lock held by another run."""
    with Workspace.load(applied_ws) as ws:
        project = ws.connection("dev").client.get_project("CHURN")
        variables = project.get_variables()
        variables["standard"]["threshold"] = "0.99"
        project.set_variables(variables)
        settings = project.get_dataset("customers_raw").get_settings()
        settings.get_raw()["description"] = LONG
        settings.save()
        leases = ws.state_store("dev").leases
        leases.ttl = 3600.0  # held for the whole test, however slow the machine
        lease = leases.acquire("apply")
        written = ws.state("dev").updated_at
    # The ages on screen read `<1m` however slow the machine: now is just after the last write.
    last = max(datetime.fromisoformat(t) for t in (written, lease.started))
    monkeypatch.setattr(view, "clock", lambda: last + timedelta(seconds=30))
    yield applied_ws


def busy(pilot: Pilot[object]) -> bool:
    return any(getattr(screen, "busy", False) for screen in pilot.app.screen_stack)


async def settle(pilot: Pilot[object]) -> None:
    """Wait until every worker has finished and its result is on screen (a result may start another)."""
    for _ in range(100):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if not busy(pilot) and not any(w.is_running for w in pilot.app.workers):
            return
    raise AssertionError("the app kept working")


async def type_text(pilot: Pilot[object], text: str) -> None:
    await pilot.press(*[{" ": "space", "/": "slash", ".": "full_stop", "_": "underscore"}.get(c, c) for c in text])


def pilot_test(fn: Callable[..., Coroutine[object, object, None]]) -> Callable[..., None]:
    """An async test body run to completion in its own event loop (no asyncio plugin needed)."""

    @functools.wraps(fn)
    def run(*args: object, **kwargs: object) -> None:
        asyncio.run(fn(*args, **kwargs))

    return run


_SVG_TEXT = re.compile(r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>')


def svg_lines(svg: str) -> list[str]:
    """The characters of a Textual SVG screenshot, line by line (what a reader of the failure needs to see)."""
    rows: dict[float, list[tuple[float, str]]] = {}
    for x, y, text in _SVG_TEXT.findall(svg):
        rows.setdefault(float(y), []).append((float(x), html.unescape(text)))
    return ["".join(t for _, t in sorted(cells)).rstrip() for _, cells in sorted(rows.items())]


@pytest.fixture
def snap_compare(snap_compare: Callable[..., bool], request: pytest.FixtureRequest) -> Callable[..., bool]:
    """pytest-textual-snapshot's comparison, whose failure shows the screen's text as a diff (its HTML report
    stays behind on the machine that ran the test, where a CI log cannot reach it)."""

    def compare(*args: object, **kwargs: object) -> bool:
        if snap_compare(*args, **kwargs):
            return True
        _, expected, actual, *_ = pickle.loads(node_to_report_path(request.node).read_bytes())
        diff = "\n".join(difflib.unified_diff(svg_lines(expected), svg_lines(actual), "snapshot", "screen",
                                               lineterm=""))
        raise AssertionError(f"the screen differs from its snapshot:\n{diff}")

    return compare
