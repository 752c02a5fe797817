"""What a promotion reads off its two environments: deploy mode, project keys, remapping and variables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..resources import KINDS
from ..resources.base import CODE_ENV, CONNECTION
from ..resources.variables import deployment_locals
from .errors import PromotionError

if TYPE_CHECKING:
    from ..config.loader import ProjectSource
    from ..resources import EnvContext

DIRECT, BUNDLE = "direct", "bundle"
__all__ = ["BUNDLE", "CODE_ENV", "CONNECTION", "DIRECT", "Remap", "deployment_id", "local_variables", "remap_pairs",
           "remapping"]


def deployment_id(key: str, to_env: str) -> str:
    """One deployment per project and target environment, named so that people find it in the deployer."""
    return f"{key.lower()}-{to_env}"


@dataclass(frozen=True)
class Remap:
    """One logical name the project uses, and the physical names behind it in both environments."""

    kind: str  # connection | code_env
    logical: str
    source: str  # in the design environment: what the bundle holds
    target: str  # in the target environment: what the deployment remaps it to

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "logical": self.logical, "source": self.source, "target": self.target}


def _uses(source: ProjectSource) -> dict[tuple[str, str], tuple[str, str]]:
    """(kind, object) -> (connection | code_env, logical name), for every object that names one."""
    spec = source.spec
    out: dict[tuple[str, str], tuple[str, str]] = {}
    for kind in KINDS.values():
        collection = kind.collection
        if collection is None:
            continue
        for name in kind.declared(spec):
            for _, what, logical in kind.names_used(getattr(spec, collection)[name]):
                if logical:
                    out[(kind.name, str(name))] = (what, logical)
    return out


def remapping(from_view: ProjectSource, to_view: ProjectSource, from_ctx: EnvContext,
              to_ctx: EnvContext) -> list[Remap]:
    """Every connection and code env the project uses, with its physical names in both environments.

    `from_view` and `to_view` are the project as each environment sees it (overrides applied), so an object
    whose logical connection is overridden in one environment pairs its two physical names. DSS remaps by
    source name, so one source name that must become two target names is refused.
    """
    target_uses = _uses(to_view)
    found: dict[tuple[str, str, str, str], None] = {}
    for obj, (kind, logical) in sorted(_uses(from_view).items()):
        physical = to_ctx.connection if kind == CONNECTION else to_ctx.code_env
        source = (from_ctx.connection if kind == CONNECTION else from_ctx.code_env)(logical)
        found[(kind, logical, source, physical(target_uses.get(obj, (kind, logical))[1]))] = None
    out = [Remap(*k) for k in sorted(found, key=lambda k: (k[0] != CONNECTION, k[1], k[2], k[3]))]
    for kind in (CONNECTION, CODE_ENV):
        targets: dict[str, Remap] = {}
        for r in (r for r in out if r.kind == kind):
            seen = targets.setdefault(r.source, r)
            if seen.target != r.target:
                what = kind.replace("_", " ")
                raise PromotionError(
                    f"project {from_view.key}: {what} '{r.source}' of environment {from_ctx.name} must become both "
                    f"'{seen.target}' and '{r.target}' in {to_ctx.name} (logical names '{seen.logical}' and "
                    f"'{r.logical}'): a bundle's remapping cannot tell them apart; map them to distinct names in "
                    f"{from_ctx.name}")
    return out


def remap_pairs(remaps: list[Remap], kind: str) -> dict[str, str]:
    """source -> target, for the names that differ (the same name needs no remapping)."""
    return {r.source: r.target for r in remaps if r.kind == kind and r.source != r.target}


def local_variables(to_view: ProjectSource, to_ctx: EnvContext) -> dict[str, Any] | None:
    """The deployment's `localVariables`: the project's local variables, and the target environment's values of the
    standard variables the project declares (a bundle carries the design's standard values; on the automation node
    local variables override them). None when the project declares no variables: DSS's are left alone, as in
    direct mode."""
    if "variables" not in to_view.spec.project.model_fields_set:
        return None
    return deployment_locals(to_view, to_ctx)
