"""Planning: field-level diffs, the plan model, the planner and its renderers."""
