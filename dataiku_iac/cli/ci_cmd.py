"""`dss-iac ci comment`: the pull-request (GitHub) or merge-request (GitLab) comment of a pipeline."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from . import exit_codes
from .console import Console

ENV_NAME = re.compile(r"[a-z][a-z0-9_-]*")


def register(sub: Any) -> None:
    ci = sub.add_parser("ci", help="CI/CD: the pull-request comment (pipelines: `dss-iac init --ci`)",
                        description="CI/CD helpers. The pipelines themselves are written by `dss-iac init --ci "
                                    "github|gitlab` (see docs/ci-cd.md).",
                        epilog="example:\n  dss-iac ci comment --provider github --plan .dss-iac-ci/plan-dev.json",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    ci_sub = ci.add_subparsers(dest="ci_command", metavar="SUBCOMMAND", parser_class=sub._parser_class)
    p = ci_sub.add_parser(
        "comment", help="post validation, plans, drift and test results as one comment, updated in place",
        description="Post the results of a pull-request pipeline as one comment on the pull request (GitHub) or "
                    "merge request (GitLab), through the platform's REST API with the token its job provides; "
                    "the comment a previous run posted (found by its marker) is updated instead of adding another. "
                    "Sections appear in the order given.",
        epilog="example:\n"
               "  dss-iac plan -e dev --out .dss-iac-ci/plan-dev.json --detailed-exitcode\n"
               "  dss-iac ci comment --provider github --plan .dss-iac-ci/plan-dev.json\n"
               "  dss-iac ci comment --provider gitlab --plan-error prod=.dss-iac-ci/plan-prod.log --dry-run\n\n"
               "environment: GitHub: GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_EVENT_PATH (GITHUB_API_URL);\n"
               "  GitLab: GITLAB_TOKEN (or CI_JOB_TOKEN), CI_API_V4_URL, CI_PROJECT_ID, CI_MERGE_REQUEST_IID",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--provider", required=True, choices=("github", "gitlab"), help="where the pipeline runs")
    p.add_argument("--validate", metavar="FILE", help="the output of `dss-iac validate --json`")
    p.add_argument("--plan", dest="environments", action="append", default=[], type=_plan, metavar="FILE",
                   help="a plan saved by `dss-iac plan --out` (its drift included); repeatable, one per environment")
    p.add_argument("--plan-error", dest="environments", action="append", type=_plan_error, metavar="ENV=FILE",
                   help="an environment whose plan failed, with the file holding what it printed on standard error")
    p.add_argument("--junit-xml", action="append", default=[], metavar="FILE", help="a JUnit XML test report")
    p.add_argument("--section", action="append", default=[], metavar="FILE", help="Markdown to add as it is")
    p.add_argument("--pr", type=_positive, metavar="NUMBER",
                   help="the pull request (GitHub) or merge request IID (GitLab); default: the pipeline's")
    p.add_argument("--marker", default="dss-iac", type=_marker, metavar="NAME",
                   help="tells this comment from others, such as one per workspace of a repository (default: "
                        "dss-iac)")
    p.add_argument("--dry-run", action="store_true", help="print the comment instead of posting it")
    p.set_defaults(func=cmd_comment)
    ci.set_defaults(func=lambda args, console: (ci.print_help(), exit_codes.USAGE)[1])


def _plan(text: str) -> tuple[str, str, str]:
    return ("plan", "", text)


def _plan_error(text: str) -> tuple[str, str, str]:
    env, sep, file = text.partition("=")
    if not sep or not ENV_NAME.fullmatch(env) or not file:
        raise argparse.ArgumentTypeError(f"expected ENV=FILE, such as prod=.dss-iac-ci/plan-prod.log, got {text!r}")
    return ("error", env, file)


def _positive(text: str) -> int:
    from .arg_types import positive_int

    return positive_int(text)


def _marker(text: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_.:/-]+", text):
        raise argparse.ArgumentTypeError(f"letters, digits and _ . : / - only, got {text!r}")
    return text


def cmd_comment(args: argparse.Namespace, console: Console) -> int:
    from ..ci.comment import CommentParts, PlanFailure, marker, read_plan, read_validation, render_comment
    from ..ci.forges import GITHUB_LIMIT, GITLAB_LIMIT, commit_and_log, from_environment, post
    from ..ci.junit import read_junit

    def path(name: str) -> Path:
        return Path(args.directory, name)

    environments = [read_plan(path(file)) if kind == "plan" else
                    PlanFailure(env, path(file).read_text(encoding="utf-8", errors="replace"))
                    for kind, env, file in args.environments]
    commit, log_url = commit_and_log(args.provider)
    parts = CommentParts(
        validation=read_validation(path(args.validate)) if args.validate else None,
        environments=tuple(environments),
        reports=tuple(read_junit(path(f), f) for f in args.junit_xml),
        sections=tuple(path(f).read_text(encoding="utf-8") for f in args.section),
        commit=commit, log_url=log_url)
    mark = marker(args.marker)
    title = "dss-iac" if args.marker == "dss-iac" else f"dss-iac: {args.marker}"
    limit = GITHUB_LIMIT if args.provider == "github" else GITLAB_LIMIT
    body = render_comment(parts, mark=mark, limit=limit, title=title)
    if args.dry_run:
        console.out(body)
        return exit_codes.OK
    forge = from_environment(args.provider, args.pr)
    with forge.session:  # its connections closed whatever happens
        posted = post(forge, body, mark)
    where = "pull request" if args.provider == "github" else "merge request"
    console.out(f"{posted.action.capitalize()} the dss-iac comment on the {where}"
                + (f": {posted.url}" if posted.url else f" (comment {posted.id})."))
    return exit_codes.OK
