"""The workbench's instance files where users run it: JupyterLab on loopback (the `lab` fixture of
test_browser.py), a notebook that opens a workbench on a workspace with an instance file for dev, and in
Chromium (Playwright) the instance file chosen, a group's description edited, the plan previewed and the edit
saved by clicking the rendered widgets. Screenshots go to test-artifacts/browser/instance-*.png."""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pytest

from .test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, RUN_CELLS_MS, WAIT_MS, Lab, lab  # noqa: F401
from .test_workbench_instance import DEV

ROOT = Path(__file__).resolve().parents[2]
SETUP = f'''\
import shutil, tempfile
from pathlib import Path
root = Path(tempfile.mkdtemp(prefix="dss-iac-instance-")) / "my-dss-repo"
shutil.copytree({str(ROOT / "examples" / "simple-project")!r}, root,
                ignore=shutil.ignore_patterns(".dss-iac", "__pycache__"))
(root / "instance").mkdir()
(root / "instance" / "dev.yaml").write_text({DEV!r})
workspace = root / "dss-iac.yaml"
workspace.write_text(workspace.read_text().replace("    host: embedded\\n",
                                                  "    host: embedded\\n    instance: instance/dev.yaml\\n", 1))
import os
os.environ["ADA_PASSWORD"] = "ada-s3cret"
'''
SHOW = '''\
from dataiku_iac.notebook import Workbench
wb = Workbench(root, env="dev")
wb'''


@pytest.mark.slow  # JupyterLab and Chromium start: `make test-all` and .ci/run, not `make test`
def test_an_instance_object_is_edited_previewed_and_saved_in_jupyterlab(lab: Lab,  # noqa: F811
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        pytest.fail("Playwright is missing: install the dev extras (make install)")
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    started = time.monotonic()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(SETUP), nbformat.v4.new_code_cell(SHOW)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, lab.home / "instance.ipynb")

    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(lab.tmp.parent / "chromium-profile"), executable_path=str(CHROMIUM), headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 2000})
        try:
            page = browser.new_page()
            page.set_default_timeout(WAIT_MS)
            page.goto(f"{lab.url}/lab/tree/instance.ipynb?token={lab.token}")
            expect(page.locator(".jp-Notebook .jp-Cell")).to_have_count(2, timeout=WAIT_MS)
            expect(page.locator(".jp-StatusBar-Widget", has_text="Idle").first).to_be_visible(timeout=WAIT_MS)
            page.keyboard.press("Control+b")
            page.locator(".jp-Cell").first.click()
            page.keyboard.press("Escape")
            page.keyboard.press("Shift+Enter")
            page.keyboard.press("Shift+Enter")
            workbench = page.locator(".jp-OutputArea-output", has=page.get_by_role("button", name="Preview plan"))
            expect(workbench).to_be_visible(timeout=RUN_CELLS_MS)
            assert page.locator("[data-mime-type='application/vnd.jupyter.error']").count() == 0

            # The instance file of dev, then its group: the YAML area holds it, comments aside.
            workbench.get_by_label("Project").select_option(label="(instance) instance/dev.yaml")
            workbench.get_by_label("Kind").select_option("group")
            area = workbench.get_by_placeholder("other keys, as YAML")
            expect(area).to_have_value("description: the analysts\npermissions: [may_create_projects]\n")
            area.fill("description: the EU analysts\npermissions: [may_create_projects]\n")
            area.press("Tab")  # the text area reports its value when it loses the focus
            expect(workbench.get_by_text("unsaved changes")).to_be_visible()

            workbench.get_by_role("button", name="Preview plan").click()
            expect(workbench.get_by_text("Includes your unsaved changes")).to_be_visible()
            expect(workbench.get_by_text("the EU analysts").first).to_be_visible()
            workbench.screenshot(path=ARTIFACTS / "instance-1-preview.png")

            workbench.get_by_role("button", name="Save").click()
            expect(workbench.get_by_text("saved instance/dev.yaml")).to_be_visible()
            workbench.screenshot(path=ARTIFACTS / "instance-2-saved.png")
        finally:
            browser.close()

    [scratch] = lab.tmp.glob("dss-iac-instance-*/my-dss-repo")
    assert (scratch / "instance" / "dev.yaml").read_text() == DEV.replace(
        "description: the analysts  #", "description: the EU analysts  #")
    with capsys.disabled():
        print(f"\nbrowser test (instance file): {time.monotonic() - started:.1f}s, screenshots in {ARTIFACTS}")
