"""The workbench where users run it: JupyterLab served on loopback, examples/notebooks/workbench.ipynb opened in
Debian's Chromium driven by Playwright, its cells run up to the workbench, then a variable edited, the plan
previewed, the edit saved and committed by clicking the rendered widgets. Screenshots of each step are kept in
test-artifacts/browser/ (gitignored; the path is printed).

Every wait has a timeout; JupyterLab runs on a free port with a token and is shut down (then killed) in the
fixture's teardown, whatever happened.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import git
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "examples" / "notebooks" / "workbench.ipynb"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = Path("/usr/bin/chromium")
# Debian's Chromium, headless and quiet: no sandbox (root in CI), no GPU, nothing fetched from the network.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SERVER_START_S = 90
WAIT_MS = 60_000
RUN_CELLS_MS = 180_000  # the cells before the workbench apply the example to the embedded DSS


@dataclass(frozen=True)
class Lab:
    url: str
    token: str
    home: Path  # the folder JupyterLab serves
    tmp: Path  # the kernel's TMPDIR: the notebook makes its scratch workspace there


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, token: str, method: str = "GET") -> int:
    request = urllib.request.Request(url, method=method, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=5) as answer:
        return int(answer.status)


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        pytest.fail("JupyterLab is missing: install the dev extras (make install)")
    home, tmp, config = tmp_path / "home", tmp_path / "tmp", tmp_path / "jupyter-config"
    home.mkdir()
    tmp.mkdir()
    (home / NOTEBOOK.name).write_bytes(NOTEBOOK.read_bytes())
    # No "official Jupyter news?" toast over the page, no update check: nothing but loopback.
    settings = config / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false",
                                                                           "checkForUpdates": False}))
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(config), "JUPYTER_DATA_DIR": str(tmp_path / "jupyter-data"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "jupyter-runtime"), "IPYTHONDIR": str(tmp_path / "ipython"),
           "TMPDIR": str(tmp)}
    log = (tmp_path / "jupyterlab.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={home}", "--LabApp.news_url=None",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if server.poll() is not None:
                tail = (tmp_path / "jupyterlab.log").read_text()[-2000:]
                pytest.fail(f"JupyterLab exited ({server.returncode}): {tail}")
            try:
                if _get(f"{url}/api/status", token) == 200:
                    break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer within {SERVER_START_S}s")
            time.sleep(0.25)
        yield Lab(url, token, home, tmp)
    finally:
        try:  # shuts its kernels down too
            _get(f"{url}/api/shutdown", token, method="POST")
            server.wait(timeout=30)
        except (urllib.error.URLError, OSError, subprocess.TimeoutExpired):
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)
        log.close()


@pytest.mark.slow  # JupyterLab and Chromium start: `make test-all` and .ci/run, not `make test`
def test_edit_preview_save_and_commit_in_jupyterlab(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        pytest.fail("Playwright is missing: install the dev extras (make install)")
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    started = time.monotonic()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    cells = nbformat.read(NOTEBOOK, as_version=4).cells
    through = next(i for i, c in enumerate(cells) if c.source.startswith("from dataiku_iac.notebook import Workbench"))

    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(lab.tmp.parent / "chromium-profile"), executable_path=str(CHROMIUM), headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 2000})  # tall: the whole workbench in view
        try:
            page = browser.new_page()
            page.set_default_timeout(WAIT_MS)
            page.goto(f"{lab.url}/lab/tree/{NOTEBOOK.name}?token={lab.token}")
            expect(page.locator(".jp-Notebook .jp-Cell")).to_have_count(len(cells), timeout=WAIT_MS)
            expect(page.locator(".jp-StatusBar-Widget", has_text="Idle").first).to_be_visible(timeout=WAIT_MS)
            page.keyboard.press("Control+b")  # the file browser folded away: the notebook gets the width
            page.screenshot(path=ARTIFACTS / "1-opened.png")

            # Run the cells as a user would, one Shift+Enter each, down to the one that shows the workbench.
            page.locator(".jp-Cell").first.click()
            page.keyboard.press("Escape")
            for _ in range(through + 1):
                page.keyboard.press("Shift+Enter")
            workbench = page.locator(".jp-OutputArea-output", has=page.get_by_role("button", name="Preview plan"))
            expect(workbench).to_be_visible(timeout=RUN_CELLS_MS)
            expect(page.locator(".jp-StatusBar-Widget", has_text="Idle").first).to_be_visible(timeout=WAIT_MS)
            assert page.locator("[data-mime-type='application/vnd.jupyter.error']").count() == 0
            expect(workbench.locator("svg.dss-iac-flow")).to_be_visible()  # the project's flow
            workbench.screenshot(path=ARTIFACTS / "2-workbench.png")

            # Edit a variable in the form.
            workbench.get_by_label("Kind").select_option("variables")
            values = workbench.get_by_placeholder("value (YAML)")
            expect(values).to_have_count(2)
            expect(values.nth(1)).to_have_value("90")  # lookback_days
            expect(workbench.get_by_text("dss-iac.yaml overrides this value")).to_be_visible()  # threshold in dev
            values.nth(1).fill("120")
            values.nth(1).press("Tab")
            expect(workbench.get_by_text("unsaved changes")).to_be_visible()

            workbench.get_by_role("button", name="Preview plan").click()
            expect(workbench.get_by_text("~ standard.lookback_days = 90 -> 120")).to_be_visible()
            expect(workbench.get_by_text("Includes your unsaved changes")).to_be_visible()
            workbench.screenshot(path=ARTIFACTS / "3-preview.png")

            workbench.get_by_role("button", name="Save").click()
            expect(workbench.get_by_text("saved projects/churn.yaml")).to_be_visible()
            workbench.get_by_placeholder("commit message").fill("Look back 120 days, from the browser")
            workbench.get_by_role("button", name="Commit").click()
            expect(workbench.get_by_text("committed ")).to_be_visible()
            workbench.screenshot(path=ARTIFACTS / "4-committed.png")
        finally:
            browser.close()

    [scratch] = lab.tmp.glob("dss-iac-workbench-*/my-dss-repo")
    head = git.Repo(scratch).head.commit
    assert head.message.strip() == "Look back 120 days, from the browser"
    assert set(head.stats.files) == {"projects/churn.yaml"}
    assert "lookback_days: 120" in (scratch / "projects" / "churn.yaml").read_text()
    with capsys.disabled():
        print(f"\nbrowser test: {time.monotonic() - started:.1f}s, screenshots in {ARTIFACTS}")
