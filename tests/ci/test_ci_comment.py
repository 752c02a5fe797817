"""`dss-iac ci comment` against GitHub's and GitLab's comment endpoints, served by a local HTTP server: one comment
per pull request, found again by its marker across pages and updated in place; the token never shown."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dataiku_iac.ci.comment import marker
from dataiku_iac.cli.main import main

from .fake_forge import FakeForge

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
GH_TOKEN = "gh-secret-token"
GL_TOKEN = "gl-secret-token"
MARK = marker("dss-iac")


@pytest.fixture(scope="module")
def plan_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real plan of the simple-project example's dev environment (everything to add), saved as `plan --out` does."""
    root = tmp_path_factory.mktemp("ws") / "simple-project"
    shutil.copytree(EXAMPLES / "simple-project", root)
    assert main(["-C", str(root), "plan", "-e", "dev", "--out", "dev.plan"]) == 0
    return root / "dev.plan"


def github_env(monkeypatch: pytest.MonkeyPatch, forge: FakeForge, tmp_path: Path, number: int = 7,
               token: str = GH_TOKEN) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": number, "head": {"sha": "0123456789abcdef" * 2}}}))
    for k, v in {"GITHUB_TOKEN": token, "GITHUB_API_URL": forge.url, "GITHUB_REPOSITORY": "acme/dss",
                 "GITHUB_EVENT_PATH": str(event), "GITHUB_SERVER_URL": "https://github.example",
                 "GITHUB_RUN_ID": "99"}.items():
        monkeypatch.setenv(k, v)


def gitlab_env(monkeypatch: pytest.MonkeyPatch, forge: FakeForge, iid: int = 3, token: str | None = GL_TOKEN) -> None:
    if token:
        monkeypatch.setenv("GITLAB_TOKEN", token)
    else:
        monkeypatch.delenv("GITLAB_TOKEN", raising=False)
    for k, v in {"CI_API_V4_URL": f"{forge.url}/api/v4", "CI_PROJECT_ID": "42", "CI_MERGE_REQUEST_IID": str(iid),
                 "CI_JOB_TOKEN": "job-secret-token", "CI_JOB_URL": "https://gitlab.example/acme/dss/-/jobs/5",
                 "CI_PROJECT_URL": "https://gitlab.example/acme/dss", "CI_COMMIT_SHA": "feedface" * 5}.items():
        monkeypatch.setenv(k, v)


def test_github_creates_the_comment_then_updates_it_in_place_past_other_comments_on_later_pages(
        forge: FakeForge, plan_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    github_env(monkeypatch, forge, tmp_path)
    for i in range(120):
        forge.add("github", "acme/dss", 7, f"review comment {i}")
    assert main(["ci", "comment", "--provider", "github", "--plan", str(plan_file)]) == 0
    out = capsys.readouterr()
    thread = forge.thread("github", "acme/dss", 7)
    ours = [c for c in thread if c["body"].startswith(MARK)]
    assert len(ours) == 1 and "Created the dss-iac comment on the pull request" in out.out
    assert "| `dev` | ✏️ 11 to add, 0 to change, 0 to destroy | none |" in ours[0]["body"]
    assert "Commit `0123456789ab` · [job log](https://github.example/acme/dss/actions/runs/99)" in ours[0]["body"]

    for i in range(130):  # the conversation goes on: the comment is now on page 2 of 3
        forge.add("github", "acme/dss", 7, f"later comment {i}")
    forge.requests.clear()
    assert main(["ci", "comment", "--provider", "github", "--plan-error", "dev=" + str(plan_file)]) == 0
    out = capsys.readouterr()
    ours = [c for c in thread if c["body"].startswith(MARK)]
    assert len(ours) == 1 and "❌ the plan failed" in ours[0]["body"]
    assert "Updated the dss-iac comment" in out.out and f"issuecomment-{ours[0]['id']}" in out.out
    gets = forge.calls("GET")
    assert [g.query["page"] for g in gets[1:]] == [["2"]]  # the Link header's next page; the comment is there
    assert [c.method for c in forge.requests] == ["GET", "GET", "PATCH"]
    assert forge.calls("PATCH")[0].path == f"/repos/acme/dss/issues/comments/{ours[0]['id']}"
    for r in forge.requests:
        assert r.headers["Authorization"] == f"Bearer {GH_TOKEN}"
        assert r.headers["X-GitHub-Api-Version"] == "2022-11-28"
        assert r.headers["Accept"] == "application/vnd.github+json"
    assert GH_TOKEN not in out.out + out.err


def test_gitlab_skips_system_notes_follows_x_next_page_and_updates_with_put(
        forge: FakeForge, plan_file: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    gitlab_env(monkeypatch, forge)
    forge.add("gitlab", "42", 3, MARK + "\nadded 1 commit", system=True)  # never ours, whatever it says
    assert main(["ci", "comment", "--provider", "gitlab", "--plan", str(plan_file)]) == 0
    for i in range(230):
        forge.add("gitlab", "42", 3, f"note {i}")
    forge.requests.clear()
    assert main(["ci", "comment", "--provider", "gitlab", "--plan", str(plan_file)]) == 0
    out = capsys.readouterr()
    notes = forge.thread("gitlab", "42", 3)
    ours = [n for n in notes if n["body"].startswith(MARK) and not n["system"]]
    assert len(ours) == 1 and notes[0]["body"] == MARK + "\nadded 1 commit"
    assert [r.method for r in forge.requests] == ["GET", "PUT"]  # ours is on the first page
    assert forge.calls("PUT")[0].path == f"/api/v4/projects/42/merge_requests/3/notes/{ours[0]['id']}"
    assert all(r.headers["PRIVATE-TOKEN"] == GL_TOKEN and "JOB-TOKEN" not in r.headers for r in forge.requests)
    assert f"https://gitlab.example/acme/dss/-/merge_requests/3#note_{ours[0]['id']}" in out.out
    assert "[job log](https://gitlab.example/acme/dss/-/jobs/5)" in ours[0]["body"]

    # Pages are followed through X-Next-Page when the comment is further down.
    thread = forge.thread("gitlab", "42", 3)
    thread.append(thread.pop(thread.index(ours[0])))
    forge.requests.clear()
    assert main(["ci", "comment", "--provider", "gitlab", "--plan", str(plan_file)]) == 0
    assert [r.query.get("page") for r in forge.calls("GET")] == [["1"], ["2"], ["3"]]
    assert len([n for n in thread if n["body"].startswith(MARK) and not n["system"]]) == 1


def test_gitlab_with_only_the_job_token_says_what_to_set(forge: FakeForge, plan_file: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    gitlab_env(monkeypatch, forge, token=None)
    assert main(["ci", "comment", "--provider", "gitlab", "--plan", str(plan_file)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: GitLab API: GET ") and "HTTP 401" in err
    assert "set GITLAB_TOKEN (a project access token with the api scope)" in err
    assert forge.calls()[0].headers["JOB-TOKEN"] == "job-secret-token" and "job-secret-token" not in err
    assert len(err.strip().splitlines()) == 1


def test_a_read_only_github_token_is_refused_with_the_permission_to_give(
        forge: FakeForge, plan_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    forge.github_tokens["read-only-token"] = "read"
    github_env(monkeypatch, forge, tmp_path, token="read-only-token")
    assert main(["ci", "comment", "--provider", "github", "--plan", str(plan_file)]) == 1
    err = capsys.readouterr().err
    assert "HTTP 403 (Resource not accessible by integration)" in err
    assert "permissions: pull-requests: write" in err and "read-only-token" not in err
    assert forge.thread("github", "acme/dss", 7) == []


def test_other_markers_and_quotes_of_ours_are_left_alone(forge: FakeForge, plan_file: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    github_env(monkeypatch, forge, tmp_path)
    quoted = forge.add("github", "acme/dss", 7, f"> {MARK}\n> quoting the bot")
    assert main(["ci", "comment", "--provider", "github", "--plan", str(plan_file)]) == 0
    assert main(["ci", "comment", "--provider", "github", "--plan", str(plan_file), "--marker", "infra/dataiku"]) == 0
    assert main(["ci", "comment", "--provider", "github", "--plan", str(plan_file), "--marker", "infra/dataiku"]) == 0
    bodies = {c["id"]: c["body"] for c in forge.thread("github", "acme/dss", 7)}
    assert len(bodies) == 3 and bodies[quoted] == f"> {MARK}\n> quoting the bot"
    assert sum(b.startswith(marker("infra/dataiku") + "\n## dss-iac: infra/dataiku") for b in bodies.values()) == 1
    assert sum(b.startswith(MARK + "\n## dss-iac\n") for b in bodies.values()) == 1


def test_the_pull_request_number_comes_from_the_event_or_from_pr(
        forge: FakeForge, plan_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    github_env(monkeypatch, forge, tmp_path, number=12)
    assert main(["ci", "comment", "--provider", "github", "--plan", str(plan_file)]) == 0
    assert main(["ci", "comment", "--provider", "github", "--plan", str(plan_file), "--pr", "13"]) == 0
    assert len(forge.thread("github", "acme/dss", 12)) == 1 and len(forge.thread("github", "acme/dss", 13)) == 1
    (tmp_path / "event.json").write_text(json.dumps({"ref": "refs/heads/main"}))  # a push: no pull request
    capsys.readouterr()
    assert main(["ci", "comment", "--provider", "github", "--plan", str(plan_file)]) == 1
    assert capsys.readouterr().err == ("error: no pull request: run on a pull_request event, or pass --pr NUMBER\n")
    monkeypatch.delenv("GITHUB_TOKEN")
    assert main(["ci", "comment", "--provider", "github", "--plan", str(plan_file), "--pr", "5"]) == 1
    assert "GITHUB_TOKEN is not set" in capsys.readouterr().err


def test_a_gateway_error_is_retried_on_reads_and_updates_but_a_post_is_never_repeated(
        forge: FakeForge, plan_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    github_env(monkeypatch, forge, tmp_path)
    forge.fail_next += [("GET", 502), ("POST", 502)]
    assert main(["ci", "comment", "--provider", "github", "--plan", str(plan_file)]) == 1
    assert "POST" in capsys.readouterr().err
    assert len(forge.calls("GET")) == 2 and len(forge.calls("POST")) == 1  # may have posted: not blindly again
    assert main(["ci", "comment", "--provider", "github", "--plan", str(plan_file)]) == 0
    forge.fail_next += [("PATCH", 503)]
    assert main(["ci", "comment", "--provider", "github", "--plan", str(plan_file)]) == 0
    assert len(forge.thread("github", "acme/dss", 7)) == 1 and len(forge.calls("PATCH")) == 2


def test_a_next_page_on_another_host_is_never_sent_the_token(forge: FakeForge, plan_file: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    github_env(monkeypatch, forge, tmp_path)
    for i in range(101):
        forge.add("github", "acme/dss", 7, f"comment {i}")
    forge.next_host = "attacker.example"
    assert main(["ci", "comment", "--provider", "github", "--plan", str(plan_file)]) == 1
    err = capsys.readouterr().err
    assert "refusing to follow GET to http://attacker.example/repos/acme/dss/issues/7/comments" in err
    assert len(forge.requests) == 1


def test_a_comment_over_githubs_limit_is_cut_with_a_note_and_accepted(
        forge: FakeForge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    github_env(monkeypatch, forge, tmp_path)
    big = tmp_path / "big.md"
    big.write_text("<details><summary>all of it</summary>\n\n```text\n" + "a long line of output\n" * 5000)
    assert main(["ci", "comment", "--provider", "github", "--section", str(big)]) == 0
    body = forge.thread("github", "acme/dss", 7)[0]["body"]
    assert 60_000 < len(body) <= 65_536
    assert body.rstrip().endswith("everything is in the job log (https://github.example/acme/dss/actions/runs/99).")
    assert body.count("```") % 2 == 0 and body.count("<details>") == body.count("</details>")


def test_dry_run_prints_the_comment_and_calls_nothing(plan_file: Path, tmp_path: Path, forge: FakeForge,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    log = tmp_path / "prod.log"
    log.write_text("error: projects/churn.yaml:10:17: connection 'pg_prod' (warehouse) does not exist on prod\n")
    validate = tmp_path / "validate.json"
    validate.write_text(json.dumps({"valid": True, "projects": ["CHURN"], "objects": 9}))
    assert main(["ci", "comment", "--provider", "github", "--validate", str(validate), "--plan", str(plan_file),
                 "--plan-error", f"prod={log}", "--dry-run"]) == 0
    body = capsys.readouterr().out
    assert body.startswith(MARK + "\n## dss-iac\n")
    assert "**Validation:** ✅ the configuration is valid: 1 project(s), 9 object(s)." in body
    table = body[body.index("| environment |"):]
    assert table.index("`dev`") < table.index("`prod`")  # the order given
    assert "### dss-iac plan: `dev`" in body and "### dss-iac plan: `prod` failed" in body
    assert "```text\nerror: projects/churn.yaml:10:17: connection 'pg_prod'" in body
    assert forge.requests == []


def test_invalid_configuration_lists_its_errors_with_their_places(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLES / "simple-project", root)
    churn = root / "projects" / "churn.yaml"
    churn.write_text(churn.read_text().replace("datasets:", "datasetz:", 1))
    assert main(["-C", str(root), "validate", "--json"]) == 3
    (tmp_path / "validate.json").write_text(capsys.readouterr().out)
    assert main(["ci", "comment", "--provider", "gitlab", "--validate", str(tmp_path / "validate.json"),
                 "--dry-run"]) == 0
    body = capsys.readouterr().out
    assert "**Validation:** ❌ 1 error(s); no plan is made of an invalid configuration:" in body
    assert "- `projects/churn.yaml:" in body and "datasetz" in body


def test_junit_reports_count_and_list_what_failed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "tests.xml"
    report.write_text(
        '<?xml version="1.0"?><testsuites><testsuite name="pytest" tests="4">'
        '<testcase classname="tests.test_flow" name="test_ok"/>'
        '<testcase classname="tests.test_flow" name="test_totals"><failure message="assert 3 == 4">trace'
        "</failure></testcase>"
        '<testcase classname="tests.test_flow" name="test_io"><error message="OSError: `disk` full"/></testcase>'
        '<testcase classname="tests.test_flow" name="test_later"><skipped message="not yet"/></testcase>'
        "</testsuite></testsuites>")
    passing = tmp_path / "ok.xml"
    passing.write_text('<testsuite name="s"><testcase name="t1"/><testcase name="t2"/></testsuite>')
    assert main(["ci", "comment", "--provider", "github", "--junit-xml", str(report), "--junit-xml", str(passing),
                 "--dry-run"]) == 0
    body = capsys.readouterr().out
    assert f"**Tests** (`{report}`): ❌ 1 failed, 1 error, 1 passed, 1 skipped." in body
    assert "- `tests.test_flow.test_totals`: `assert 3 == 4`" in body
    assert "- `tests.test_flow.test_io`: ``OSError: `disk` full``" in body
    assert f"**Tests** (`{passing}`): ✅ 2 passed." in body


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--plan-error", "prod"], 64, "expected ENV=FILE"),
    (["--plan-error", "Prod=x.log"], 64, "expected ENV=FILE"),
    (["--plan", "missing.plan"], 1, "No such file or directory"),
    (["--marker", "two words"], 64, "letters, digits"),
    (["--pr", "0"], 64, "must be 1 or more"),
])
def test_bad_arguments_are_one_line_errors(args: list[str], code: int, message: str, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    try:
        result = main(["-C", str(tmp_path), "ci", "comment", "--provider", "github", "--dry-run", *args])
    except SystemExit as e:  # argparse's usage errors
        result = e.code
    assert result == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize(("name", "text", "message"), [
    ("plan.json", '{"format_version": 1}', "plan.json: not a dss-iac plan file (missing or invalid 'environment')"),
    ("plan.json", "{not json", "plan.json: not a dss-iac plan file (invalid JSON"),
    ("tests.xml", "<testsuite><testcase>", "tests.xml:1:22: not a JUnit XML report: no element found"),
    ("tests.xml", "<html/>", "tests.xml: not a JUnit XML report: its root element is <html>"),
    ("validate.json", '{"valid": "maybe"}', "validate.json: not the output of `dss-iac validate --json`"),
])
def test_input_files_that_are_not_what_they_should_be_are_named(name: str, text: str, message: str, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / name).write_text(text)
    option = {"plan.json": "--plan", "tests.xml": "--junit-xml", "validate.json": "--validate"}[name]
    assert main(["-C", str(tmp_path), "ci", "comment", "--provider", "github", option, name, "--dry-run"]) == 1
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
