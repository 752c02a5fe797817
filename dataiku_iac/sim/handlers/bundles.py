"""Bundles: design-node export and publish, automation-node import and activation (DSS_API.md §2.6).

The family is split by node; importing the modules registers their routes.
"""

from __future__ import annotations

from . import bundles_automation, bundles_design

__all__ = ["bundles_automation", "bundles_design"]
