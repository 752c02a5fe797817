"""The workbench in an environment with `approval: govern`: the plan preview shows its Govern gate, and Apply goes
through only once Govern has approved that plan."""

from __future__ import annotations

import shutil
from pathlib import Path

from dataiku_iac.notebook import Workbench

from tests.gitrepos import make_repo

SIMPLE = Path(__file__).resolve().parents[2] / "examples" / "simple-project"


def test_the_preview_shows_the_gate_and_apply_waits_for_govern(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    shutil.copytree(SIMPLE, root)
    text = (root / "dss-iac.yaml").read_text()
    (root / "dss-iac.yaml").write_text(text.replace('      threshold: "0.4"\n', '      threshold: "0.4"\n'
                                                    "    approval: govern\n", 1))
    make_repo(root, files={})
    wb = Workbench(root, env="dev")
    try:
        assert not wb.apply_button.disabled  # Govern decides, not the notebook
        wb.preview_button.click()
        html = wb.output.value
        assert "Environment dev: waits for Govern (approval: govern)" in html
        assert "no approval requested in Govern yet" in html and "11 to add" in html
        wb.apply_button.click()
        assert "Not applied" in wb.message.value and "needs a Govern sign-off" in wb.message.value

        gate = wb.ws.request_approval(wb.ws.plan("dev"))
        assert gate is not None
        artifact = gate.approvals[0].artifact_id
        wb.ws.embedded().govern_client().get_artifact(artifact).get_signoff("review").add_approval("APPROVED")
        wb.preview_button.click()
        html = wb.output.value
        assert "Environment dev: approved in Govern" in html and f"/artifact/{artifact}" in html
        wb.apply_button.click()
        assert "applied to dev: 11 operation(s)" in wb.message.value
    finally:
        wb.close()
