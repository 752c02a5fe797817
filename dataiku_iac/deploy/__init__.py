"""Promotion by bundle: export a project from a design node, publish it to the Project Deployer, deploy it to an
automation node with the target environment's remapping and variables (`dss-iac promote`).

    plan = plan_promotion(ws, "dev", "prod")     # reads only
    print(render_promotion(plan))
    result = promote(ws, plan, progress=print)
"""

from __future__ import annotations

from .errors import PromotionError, VerifyError
from .promote import ProjectOutcome, PromotionResult, promote
from .promotion_plan import ProjectPromotion, PromotionPlan, plan_promotion
from .render import render_promotion

__all__ = ["ProjectOutcome", "ProjectPromotion", "PromotionError", "PromotionPlan", "PromotionResult",
           "VerifyError", "plan_promotion", "promote", "render_promotion"]
