"""Applying a plan: dependency order, bounded parallelism, state recorded after every operation."""
