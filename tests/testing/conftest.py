"""The engine tests' workspace fixture, for tests that apply to the embedded DSS and then test."""

from tests.engine.conftest import make_workspace

__all__ = ["make_workspace"]
