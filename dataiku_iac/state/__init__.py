"""State kept outside DSS: what dss-iac manages, with remote ids and the fields it last applied."""

from .model import ResourceState, State

__all__ = ["ResourceState", "State"]
