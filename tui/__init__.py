"""`dss-iac tui`, the Textual terminal app, installed as `dataiku_iac.tui` (arrives with issue 6)."""
