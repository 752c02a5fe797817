"""`dss-iac tui`, the Textual terminal app, installed as `dataiku_iac.tui`.

It reaches the core only through its public Python API (`Workspace` and the plain data it returns);
the core never imports Textual.
"""
