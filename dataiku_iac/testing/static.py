"""Static tests: every rule (built-in flow rules, the team's conventions, its Python rules) over every project of
the workspace, without calling DSS. `dss-iac test --static` and `dss-iac validate` run them.

Each hit is a test case of its own, located (`file:line:col`) and named by rule and object; a rule with no hit in
a project is one passing case. A hit on an object that waives the rule is skipped, with the waiver's reason; a
waiver that waives nothing is a warning (`waivers.unused`), so that waivers do not outlive their reason.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Iterator

from ..config.loader import ProjectSource, WorkspaceConfig
from ..config.project_model import ProjectFile
from .convention_rules import convention_rules
from .custom_rules import load_custom_rules
from .flow_rules import FLOW_RULES
from .results import ERROR as ERRORED
from .results import FAILED, PASSED, SKIPPED, WARNING, TestResult
from .rules import ERROR_SEVERITY, OFF, ProjectContext, Rule, object_of, waivers_of

SUITE = "static"
UNUSED_WAIVER = "waivers.unused"


def workspace_rules(config: WorkspaceConfig) -> list[Rule]:
    """Every rule of the workspace, built-in ones first; those its `tests.severity` turns off are left out, the
    others carry the severity it gives them."""
    severity = config.spec.tests.severity
    builtin = [*FLOW_RULES, *convention_rules(config.spec.tests)]
    rules = [*builtin, *load_custom_rules(config, (r.id for r in builtin))]
    out = []
    for rule in rules:
        level = severity.get(rule.id, rule.severity)
        if level != OFF:
            out.append(Rule(rule.id, rule.summary, level, rule.check, rule.origin))
    return out


def run_static(config: WorkspaceConfig) -> list[TestResult]:
    rules = workspace_rules(config)
    known = {r.id for r in rules} | set(config.spec.tests.severity)
    specs = {key: source.spec for key, source in config.projects.items()}
    results: list[TestResult] = []
    for key in sorted(config.projects):
        source = config.projects[key]
        ctx = ProjectContext(source.spec, specs, config.spec.tests)
        used: set[tuple[str, str | None, str]] = set()
        for rule in rules:
            results.extend(_run_rule(rule, ctx, source, used))
        results.extend(_unused_waivers(source, used, known))
    return results


def _run_rule(rule: Rule, ctx: ProjectContext, source: ProjectSource,
              used: set[tuple[str, str | None, str]]) -> Iterator[TestResult]:
    key = ctx.key
    started = time.monotonic()
    try:
        hits = list(rule.check(ctx))
    except Exception as e:  # a team's rule that breaks: its own error, the other rules still run
        yield TestResult(SUITE, rule.id, f"project.{key}", ERRORED, f"the rule failed: {type(e).__name__}: {e}"
                         f"{_where(e, rule)}", rule.id, None, time.monotonic() - started)
        return
    took = (time.monotonic() - started) / max(len(hits), 1)
    failing = 0
    for hit in hits:
        kind, name = object_of(hit.path)
        target = f"{kind}.{key}" + (f".{name}" if name is not None else "")
        case = f"{rule.id} {kind.replace('_', ' ')} {name}" if name is not None else f"{rule.id} project {key}"
        where = str(source.file.position(hit.path, at_key=len(hit.path) <= 2))
        reason = waivers_of(source.spec, kind, name).get(rule.id)
        if reason is not None:
            used.add((kind, name, rule.id))
            yield TestResult(SUITE, case, target, SKIPPED, f"waived: {reason}", rule.id, where, took, (hit.message,))
            continue
        failing += 1
        status = FAILED if rule.severity == ERROR_SEVERITY else WARNING
        yield TestResult(SUITE, case, target, status, hit.message, rule.id, where, took)
    if not hits:
        yield TestResult(SUITE, f"{rule.id} project {key}", f"project.{key}", PASSED, rule.summary, rule.id,
                         None, took)


def _where(e: Exception, rule: Rule) -> str:
    if rule.origin in ("built-in", "dss-iac.yaml"):
        return ""
    frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename.endswith(rule.origin.split("/")[-1])]
    return f" ({rule.origin}:{frames[-1].lineno})" if frames else f" ({rule.origin})"


def _unused_waivers(source: ProjectSource, used: set[tuple[str, str | None, str]],
                    known: set[str]) -> Iterator[TestResult]:
    key = source.key
    for kind, name, path, waivers in _waiving_objects(source.spec):
        for rule_id in waivers:
            if (kind, name, rule_id) in used:
                continue
            target = f"{kind}.{key}" + (f".{name}" if name is not None else "")
            why = "names no rule of this workspace" if rule_id not in known else "waives nothing: the rule passes here"
            where = str(source.file.position((*path, "waivers", rule_id), at_key=True))
            label = f"{kind.replace('_', ' ')} {name}" if name is not None else f"project {key}"
            yield TestResult(SUITE, f"{UNUSED_WAIVER} {label} {rule_id}", target, WARNING,
                             f"the waiver of {rule_id} {why}: remove it", UNUSED_WAIVER, where)


def _waiving_objects(spec: ProjectFile) -> Iterator[tuple[str, str | None, tuple[str, ...], dict[str, str]]]:
    if spec.project.waivers:
        yield "project", None, ("project",), spec.project.waivers
    for collection, kind in (("datasets", "dataset"), ("managed_folders", "managed_folder"), ("recipes", "recipe"),
                             ("scenarios", "scenario"), ("zones", "zone")):
        for name, obj in getattr(spec, collection).items():
            if obj.waivers:
                yield kind, name, (collection, name), obj.waivers

