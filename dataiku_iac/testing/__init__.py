"""Tests of a workspace (`dss-iac test`, docs/testing.md): static rules over the configuration (no DSS call), data
tests applied as DSS data quality rules and computed on an environment, scenarios run as tests, builds of the
flow; results as JUnit XML, JSON and Markdown.

Imported lazily: the resource kinds use `dq_rules` without loading the rest.
"""

from __future__ import annotations
