"""What the simulator executes: dataset files, metrics and checks, recipes, jobs and scenario steps.

Datasets on Filesystem connections (and uploaded datasets) hold real files under their connection root;
DuckDB computes over them. Handlers (the HTTP side) call into this package; it never imports handlers.
"""
