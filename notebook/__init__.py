"""Jupyter widgets, installed as `dataiku_iac.notebook` (arrives with issue 7)."""
