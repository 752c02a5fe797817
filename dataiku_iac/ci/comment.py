"""The pull-request comment: validation, a plan per environment with its drift, test results and extra sections,
as one Markdown body that fits the platform's size limit and starts with a marker to find it again."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import DssIacError

if TYPE_CHECKING:
    from ..plan.model import Plan
    from .junit import TestReport

LIST_LIMIT = 50  # errors or failed tests listed; the rest are counted
LOG_LINES = 40  # lines of a failed plan's output shown


def marker(name: str) -> str:
    """The first line of the comment: how the next run finds it (an HTML comment, invisible once rendered)."""
    return f"<!-- dss-iac ci comment: {name} -->"


@dataclass(frozen=True)
class Validation:
    valid: bool
    summary: str  # "1 project(s), 7 object(s)" when valid
    errors: tuple[str, ...]  # "file:line:col: message" when not


@dataclass(frozen=True)
class PlanFailure:
    environment: str
    log: str  # what the plan printed on its standard error


@dataclass(frozen=True)
class CommentParts:
    validation: Validation | None = None
    environments: tuple[Plan | PlanFailure, ...] = ()  # in the order given
    reports: tuple[TestReport, ...] = ()
    sections: tuple[str, ...] = ()  # Markdown, as given
    commit: str = ""
    log_url: str = ""


def read_validation(path: Path) -> Validation:
    """The verdict printed by `dss-iac validate --json`; an empty file means validate failed before it could say."""
    text = path.read_text(encoding="utf-8").strip()
    if not text:
        return Validation(False, "", ())
    try:
        data = json.loads(text)
        if data["valid"]:
            return Validation(True, f"{len(data['projects'])} project(s), {data['objects']} object(s)", ())
        return Validation(False, "", tuple(_located(e) for e in data["errors"]))
    except (ValueError, KeyError, TypeError) as e:
        raise DssIacError(f"{path}: not the output of `dss-iac validate --json` ({type(e).__name__}: {e})") from None


def _located(e: dict[str, object]) -> str:
    where = ":".join(str(p) for p in (e.get("file"), e.get("line"), e.get("col")) if p is not None)
    return f"{where}: {e['message']}" if where else str(e["message"])


def read_plan(path: Path) -> Plan:
    """A plan saved by `dss-iac plan --out` (or printed by `plan --json`)."""
    from ..errors import PlanError
    from ..plan.model import Plan

    try:
        return Plan.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except ValueError as e:
        raise PlanError(f"{path}: not a dss-iac plan file (invalid JSON: {e})") from None
    except PlanError as e:
        raise PlanError(f"{path}: {e}") from None


def render_comment(parts: CommentParts, *, mark: str, limit: int, title: str = "dss-iac") -> str:
    """The comment's Markdown, at most `limit` characters: what does not fit is cut, with a note saying so."""
    out = [mark, f"## {title}", ""]
    about = [f"Commit `{parts.commit[:12]}`" if parts.commit else "", f"[job log]({parts.log_url})"
             if parts.log_url else ""]
    if any(about):
        out += [" · ".join(a for a in about if a), ""]
    if parts.validation is not None:
        out += _validation(parts.validation)
    if parts.environments:
        out += _table(parts.environments)
    for report in parts.reports:
        out += _tests(report)
    for section in parts.sections:
        out += [section.rstrip("\n"), ""]
    for item in parts.environments:
        out += _details(item)
    return _fit("\n".join(out).rstrip("\n") + "\n", limit, parts.log_url)


def _validation(v: Validation) -> list[str]:
    if v.valid:
        return [f"**Validation:** ✅ the configuration is valid: {v.summary}.", ""]
    if not v.errors:
        return ["**Validation:** ❌ failed (see the job log).", ""]
    lines = [f"**Validation:** ❌ {len(v.errors)} error(s); no plan is made of an invalid configuration:", ""]
    lines += [f"- {code(e)}" for e in v.errors[:LIST_LIMIT]]
    if len(v.errors) > LIST_LIMIT:
        lines.append(f"- and {len(v.errors) - LIST_LIMIT} more (see the job log)")
    return [*lines, ""]


def _table(items: tuple[Plan | PlanFailure, ...]) -> list[str]:
    from ..drift import DriftReport

    rows = ["| environment | plan | drift |", "|---|---|---|"]
    for item in items:
        if isinstance(item, PlanFailure):
            rows.append(f"| `{item.environment}` | ❌ the plan failed (below) | |")
            continue
        s = item.summary()
        verdict = (f"✏️ {s.add} to add, {s.change} to change, {s.destroy} to destroy" if item.has_changes
                   else "✅ no changes")
        drift = DriftReport.from_plan(item)
        rows.append(f"| `{item.environment}` | {verdict} | {'⚠️ ' + drift.summary() if drift.has_drift else 'none'} |")
    return [*rows, ""]


def _tests(report: TestReport) -> list[str]:
    counts = [f"{report.count(o)} {o}" for o in ("failed", "error") if report.count(o)]
    counts += [f"{report.count(o)} {o}" for o in ("passed", "skipped") if report.count(o)]
    head = f"**Tests** ({code(report.file)}): {'✅' if report.ok else '❌'} {', '.join(counts) or 'no tests'}."
    failed = [c for c in report.cases if c.outcome in ("failed", "error")]
    lines = [head, ""]
    lines += [f"- {code(c.name)}" + (f": {code(c.message[:200])}" if c.message else "") for c in failed[:LIST_LIMIT]]
    if len(failed) > LIST_LIMIT:
        lines.append(f"- and {len(failed) - LIST_LIMIT} more")
    return [*lines, ""] if failed else lines


def _details(item: Plan | PlanFailure) -> list[str]:
    if isinstance(item, PlanFailure):
        tail = item.log.rstrip("\n").splitlines()[-LOG_LINES:] or ["(no output: see the job log)"]
        return [f"### dss-iac plan: `{item.environment}` failed", "", *fenced("\n".join(tail), "text"), ""]
    from ..plan.render_md import render_markdown

    return [render_markdown(item).rstrip("\n"), ""]


def code(text: str) -> str:
    """`text` as inline code, whatever backticks it holds."""
    text = " ".join(text.split())
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def fenced(text: str, lang: str) -> list[str]:
    """`text` as a fenced code block that no line of it can close."""
    fence = "`" * max(3, max((len(run) + 1 for run in re.findall(r"`+", text)), default=0))
    return [f"{fence}{lang}", *text.splitlines(), fence]


_FENCE = re.compile(r"^\s*(`{3,})")


@dataclass(frozen=True)
class _Open:
    """The code block and the <details> left open by the lines seen so far, and what closes them."""

    fence: str = ""
    depth: int = 0

    def then(self, line: str) -> _Open:
        m = _FENCE.match(line)
        if m and (not self.fence or len(m.group(1)) >= len(self.fence)):
            return _Open("" if self.fence else m.group(1), self.depth)
        if self.fence:
            return self
        return _Open("", max(0, self.depth + line.count("<details") - line.count("</details>")))

    def closers(self) -> str:
        return (f"{self.fence}\n" if self.fence else "") + "</details>\n" * self.depth


def _fit(body: str, limit: int, log_url: str) -> str:
    if len(body) <= limit:
        return body
    where = f"the job log ({log_url})" if log_url else "the job log"
    note = (f"\n> ✂️ **Truncated:** the whole comment would be longer than the {limit:,} characters the platform "
            f"takes; everything is in {where}.\n")
    kept: list[str] = []
    size = len(note)
    state = _Open()
    for line in body.splitlines(keepends=True):
        after = state.then(line)
        if size + len(line) + len(after.closers()) > limit:
            break
        kept.append(line)
        size += len(line)
        state = after
    return "".join(kept) + state.closers() + note
